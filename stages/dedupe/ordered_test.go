package dedupe_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/dedupe"
)

// TestOrderedFeed: the feed decided in arrival order through the ordered
// log gets exactly the decisions of the local (single-instance) design.
func TestOrderedFeed(t *testing.T) {
	lines := loadFeed(t)
	local := newDeduper(t, dedupe.Config{}, nil)
	lg := dedupe.NewMemoryLog(0)
	ord := newDeduper(t, dedupe.Config{Log: lg, Ordered: true}, nil)
	if err := lg.Subscribe(ord); err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		want, err := local.Decide(context.Background(), l.Story)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ord.Decide(context.Background(), l.Story)
		if err != nil {
			t.Fatal(err)
		}
		if *got != *want {
			t.Fatalf("line %d %s %s v%s: ordered %+v, local %+v", i, l.Kind, l.Story.URI, l.Story.Version, *got, *want)
		}
	}
	if a, b := ord.Indexed(), local.Indexed(); a != b {
		t.Fatalf("indexed %d, local %d", a, b)
	}
}

// TestRaceVersions: N instances decide, all at once, many versions of one
// story (each version also sent twice). Whatever the order, exactly one
// decision is new, no version is republished (new or update) twice, the
// newest version is republished exactly once, and afterwards every
// instance calls a retransmission of the newest version a duplicate. A
// design whose instances decide against state of their own (the ordered
// log with other instances' records not applied) fails it.
func TestRaceVersions(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) {
			const instances, versions, copies = 4, 12, 2
			for round := 0; round < 10; round++ {
				store := dedupe.NewMemoryStore(0, nil)
				lg := dedupe.NewMemoryLog(0)
				var ds []*dedupe.Deduper
				for k := 0; k < instances; k++ {
					d := newDeduper(t, dedupe.Config{Log: lg, Ordered: ordered}, store)
					if err := lg.Subscribe(d); err != nil {
						t.Fatal(err)
					}
					ds = append(ds, d)
				}
				uri := fmt.Sprintf("urn:versions-%d", round)
				var stories []*proto.Story
				for v := 1; v <= versions; v++ {
					for c := 0; c < copies; c++ {
						stories = append(stories, mk(st{uri: uri, version: fmt.Sprint(v), vc: v,
							headline: "Oil rises", body: fmt.Sprintf("%s\n\nVersion %d adds paragraph %d.", bodyA, v, v)}))
					}
				}
				results := make([]*proto.Dedupe, len(stories))
				errs := make([]error, len(stories))
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range stories {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						results[i], errs[i] = ds[i%instances].Decide(ctx, stories[i])
					}()
				}
				close(start)
				wg.Wait()
				news := 0
				published := map[string]int{} // version -> republished count
				for i, r := range results {
					if errs[i] != nil {
						t.Fatal(errs[i])
					}
					switch r.Status {
					case proto.DedupeNew:
						news++
						published[stories[i].Version]++
					case proto.DedupeUpdate:
						published[stories[i].Version]++
					case proto.DedupeDuplicate, proto.DedupeStale:
					default:
						t.Fatalf("version %s: unexpected %s", stories[i].Version, r.Status)
					}
				}
				if news != 1 {
					t.Fatalf("round %d: %d new decisions, want 1", round, news)
				}
				for v, n := range published {
					if n > 1 {
						t.Fatalf("round %d: version %s republished %d times", round, v, n)
					}
				}
				if n := published[fmt.Sprint(versions)]; n != 1 {
					t.Fatalf("round %d: newest version republished %d times, want 1", round, n)
				}
				last := stories[len(stories)-1]
				for k, d := range ds {
					again := *last
					again.IngestSeq = 1 << 40 // a retransmission, not a redelivery
					r, err := d.Decide(ctx, &again)
					if err != nil || r.Status != proto.DedupeDuplicate {
						t.Fatalf("round %d: instance %d decides a retransmission of the newest version %+v %v, want duplicate", round, k, r, err)
					}
				}
			}
		})
	}
}

func TestStoryRecordRoundTrip(t *testing.T) {
	for _, r := range []dedupe.Record{
		{Story: true, Seq: 7, Time: 1764700000, URI: "urn:a", Inst: 1 << 60, Nonce: 99, Version: "1.10",
			VC: -5, Raw: 1, Content: 2, Words: true, Sig: make([]uint32, 32), Fingerprint: dedupe.FingerprintOf("a", "b")},
		{Story: true, Seq: 8, URI: "urn:b", Killed: true, Lean: true},
		{Story: true, URI: "u"},
	} {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var r2 dedupe.Record
		if err := r2.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if r.Sig == nil {
			r.Sig = []uint32{}
		}
		if fmt.Sprint(r) != fmt.Sprint(r2) {
			t.Fatalf("round trip: %+v != %+v", r2, r)
		}
		for cut := 1; cut < len(b); cut++ {
			if err := r2.UnmarshalBinary(b[:len(b)-cut]); err == nil {
				t.Fatalf("cut by %d bytes: decoded %+v", cut, r2)
			}
		}
	}
}

// FuzzRecordUnmarshal: any bytes decode to a record or ErrBadRecord, and a
// decoded record encodes back to bytes that decode to the same record.
func FuzzRecordUnmarshal(f *testing.F) {
	for _, r := range []dedupe.Record{
		{Seq: 1, Time: 2, URI: "urn:x", Sig: []uint32{1, 2}},
		{Story: true, Seq: 7, Time: 3, URI: "urn:a", Inst: 5, Nonce: 9, Version: "2", Words: true, Sig: []uint32{3}},
	} {
		b, _ := r.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r dedupe.Record
		if err := r.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, dedupe.ErrBadRecord) {
				t.Fatalf("error %v is not ErrBadRecord", err)
			}
			return
		}
		b2, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var r2 dedupe.Record
		if err := r2.UnmarshalBinary(b2); err != nil || fmt.Sprint(r) != fmt.Sprint(r2) {
			t.Fatalf("re-encoded %+v: %+v %v", r, r2, err)
		}
	})
}
