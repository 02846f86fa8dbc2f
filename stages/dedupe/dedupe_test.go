package dedupe_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/dedupe"
)

var ctx = context.Background()

const bodyA = `LONDON — Brent crude futures rose 48 cents, or 0.7%, to $72.45 a barrel by 1032 GMT on Thursday, as traders weighed fresh supply risks against weak demand in Asia.

U.S. West Texas Intermediate crude was at $68.15, up 53 cents. Data from the Energy Information Administration showed crude inventories fell by 2.4 million barrels last week, more than analysts had expected.

"Supply is tighter than the headline numbers suggest," said Priya Raman, an analyst at Harbor Capital. OPEC+ meets on Sunday to discuss output policy for January, and sources said Saudi Arabia favoured extending cuts.

Shipping through the Strait of Hormuz was normal, while a fire at a refinery in Rotterdam shut a crude unit that processes 185,000 barrels per day.`

const bodyB = `SINGAPORE — Oil prices slipped in Asian trade on Thursday after China reported weaker factory output, reviving concern about fuel demand in the world's largest crude importer.

Brent was down 22 cents at $71.80 a barrel, and U.S. crude fell 19 cents to $67.60. Refinery throughput in China rose 1.2% from a year earlier, official data showed, but exports of diesel fell.

Analysts at Nordwell Bank trimmed their 2027 forecast to $70, citing rising output in the Americas. Hedge funds cut net long positions in Brent for a third week, exchange data showed.`

type st struct {
	uri, version, headline, body, ednote, pubstatus string
	vc                                              int // minutes after 2026-11-26T00:00Z
}

var seq atomic.Uint64

func mk(x st) *proto.Story {
	if x.pubstatus == "" {
		x.pubstatus = proto.PubStatusUsable
	}
	t := proto.FromTime(time.Date(2026, 11, 26, 0, x.vc, 0, 0, time.UTC))
	return &proto.Story{URI: x.uri, Version: x.version, Headline: x.headline, BodyText: x.body, EdNote: x.ednote,
		PubStatus: x.pubstatus, VersionCreated: t, Received: t, IngestSeq: seq.Add(1)}
}

func newDeduper(t testing.TB, cfg dedupe.Config, store dedupe.Store) *dedupe.Deduper {
	t.Helper()
	if store == nil {
		store = dedupe.NewMemoryStore(0, nil)
	}
	d, err := dedupe.New(cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func trimLastParagraph(s string) string { return s[:strings.LastIndex(s, "\n\n")] }

// TestDecisions feeds sequences of stories to a fresh Deduper and checks the
// decision for each.
func TestDecisions(t *testing.T) {
	a1 := st{uri: "urn:a", version: "1", headline: "Oil rises as traders weigh supply risks", body: bodyA, vc: 0}
	a2 := a1
	a2.version, a2.body, a2.vc = "2", bodyA+"\n\nThe front-month contract expires on Friday.", 30
	a3 := a2
	a3.version, a3.ednote, a3.body, a3.vc = "3", "CORRECTS price in first paragraph", strings.Replace(a2.body, "$72.45", "$72.54", 1), 60
	kill := st{uri: "urn:a", version: "4", headline: "KILL", body: "This story has been withdrawn.", pubstatus: proto.PubStatusCanceled, vc: 90}
	b1 := st{uri: "urn:b", version: "1", headline: "Oil slips after weak China data", body: bodyB, vc: 5}
	noVer1 := st{uri: "urn:nv", headline: "Oil rises", body: bodyA, vc: 0}
	noVer2 := noVer1
	noVer2.body, noVer2.vc = bodyA+"\n\nMore follows.", 10

	copyOf := func(x st, uri string, f func(*st)) st { x.uri, x.version = uri, "1"; f(&x); return x }
	// Versions that are not numbers: ordered by versioncreated, then arrival.
	ver := func(x st, version string, vc int, body string) st {
		x.version, x.vc, x.body = version, vc, body
		return x
	}
	more := bodyA + "\n\nMore follows."
	most := more + "\n\nAnd more."

	type step struct {
		s      st
		status string
		of     string
		minSim float64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"new", []step{{a1, proto.DedupeNew, "", 0}, {b1, proto.DedupeNew, "", 0}}},
		{"identical retransmission", []step{{a1, proto.DedupeNew, "", 0}, {a1, proto.DedupeDuplicate, "urn:a", 0}}},
		{"same text under another uri", []step{{a1, proto.DedupeNew, "", 0},
			{copyOf(a1, "urn:other", func(*st) {}), proto.DedupeDuplicate, "urn:a", 0}}},
		{"write-thru and correction", []step{{a1, proto.DedupeNew, "", 0}, {a2, proto.DedupeUpdate, "urn:a", 0}, {a3, proto.DedupeUpdate, "urn:a", 0}}},
		{"version bump without change", []step{{a1, proto.DedupeNew, "", 0},
			{func() st { x := a1; x.version = "2"; return x }(), proto.DedupeDuplicate, "urn:a", 0}}},
		{"older version after newer is stale", []step{{a2, proto.DedupeNew, "", 0}, {a1, proto.DedupeStale, "urn:a", 0}}},
		{"equal version, other content, is stale", []step{{a1, proto.DedupeNew, "", 0},
			{func() st { x := a1; x.body = bodyB; return x }(), proto.DedupeStale, "urn:a", 0}}},
		{"versioncreated orders versionless stories", []step{{noVer1, proto.DedupeNew, "", 0}, {noVer2, proto.DedupeUpdate, "urn:nv", 0}, {noVer1, proto.DedupeStale, "urn:nv", 0}}},
		{"non-numeric version then a numeric one", []step{{ver(a1, "v2", 0, bodyA), proto.DedupeNew, "", 0},
			{ver(a1, "3", 10, more), proto.DedupeUpdate, "urn:a", 0}, {ver(a1, "4", 20, most), proto.DedupeUpdate, "urn:a", 0}}},
		{"date versions follow versioncreated", []step{{ver(a1, "2024-03-02", 10, more), proto.DedupeNew, "", 0},
			{ver(a1, "2024-03-01", 0, bodyA), proto.DedupeStale, "urn:a", 0}, {ver(a1, "2024-03-03", 20, most), proto.DedupeUpdate, "urn:a", 0}}},
		{"non-numeric versions at one time follow arrival", []step{{ver(a1, "beta", 0, bodyA), proto.DedupeNew, "", 0},
			{ver(a1, "alpha", 0, more), proto.DedupeUpdate, "urn:a", 0}, {ver(a1, "alpha", 0, more), proto.DedupeDuplicate, "urn:a", 0}}},
		{"numeric versions still beat versioncreated", []step{{ver(a1, "10", 0, more), proto.DedupeNew, "", 0},
			{ver(a1, "9", 30, bodyA), proto.DedupeStale, "urn:a", 0}}},
		{"kill of known uri", []step{{a1, proto.DedupeNew, "", 0}, {kill, proto.DedupeKill, "urn:a", 0}, {kill, proto.DedupeDuplicate, "urn:a", 0}}},
		{"original after its kill is stale", []step{{a1, proto.DedupeNew, "", 0}, {kill, proto.DedupeKill, "urn:a", 0}, {a2, proto.DedupeStale, "urn:a", 0}}},
		{"kill of unknown uri", []step{{kill, proto.DedupeKill, "", 0}, {a1, proto.DedupeStale, "urn:a", 0}, {kill, proto.DedupeDuplicate, "urn:a", 0}}},
		{"kill with an older version still kills", []step{{a3, proto.DedupeNew, "", 0},
			{func() st { x := kill; x.version = "2"; return x }(), proto.DedupeKill, "urn:a", 0}, {a2, proto.DedupeStale, "urn:a", 0}}},
		{"reformatted copy", []step{{a1, proto.DedupeNew, "", 0}, {copyOf(a1, "urn:c", func(x *st) {
			x.headline = strings.ToUpper(x.headline)
			x.body = "  " + strings.ReplaceAll(strings.ReplaceAll(x.body, " ", "  "), "\n\n", "\n")
		}), proto.DedupeNearDuplicate, "urn:a", 1}}},
		{"agency boilerplate", []step{{a1, proto.DedupeNew, "", 0}, {copyOf(a1, "urn:c", func(x *st) {
			x.body = strings.Replace(x.body, "LONDON —", "LONDON (AP) —", 1) + "\n\nCopyright 2026 The Associated Press. All rights reserved."
		}), proto.DedupeNearDuplicate, "urn:a", 1}}},
		{"trimmed copy", []step{{a1, proto.DedupeNew, "", 0}, {copyOf(a1, "urn:c", func(x *st) { x.body = trimLastParagraph(x.body) }),
			proto.DedupeNearDuplicate, "urn:a", 0.5}}},
		{"reworded headline", []step{{a1, proto.DedupeNew, "", 0}, {copyOf(a1, "urn:c", func(x *st) { x.headline = "Crude climbs while supply worries grow" }),
			proto.DedupeNearDuplicate, "urn:a", 0.5}}},
		{"copy of a write-thru", []step{{a1, proto.DedupeNew, "", 0}, {a2, proto.DedupeUpdate, "urn:a", 0},
			{copyOf(a2, "urn:c", func(*st) {}), proto.DedupeDuplicate, "urn:a", 0}}},
		{"same-topic story stays new", []step{{a1, proto.DedupeNew, "", 0}, {b1, proto.DedupeNew, "", 0},
			{copyOf(b1, "urn:c", func(x *st) { x.body = trimLastParagraph(x.body) }), proto.DedupeNearDuplicate, "urn:b", 0.5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeduper(t, dedupe.Config{}, nil)
			for i, stp := range tc.steps {
				got, err := d.Decide(ctx, mk(stp.s))
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != stp.status || got.Of != stp.of {
					t.Fatalf("step %d (%s v%q): got %+v, want status %s of %q", i, stp.s.uri, stp.s.version, *got, stp.status, stp.of)
				}
				if got.Status == proto.DedupeNearDuplicate && got.Similarity < stp.minSim {
					t.Fatalf("step %d: similarity %.3f < %.3f", i, got.Similarity, stp.minSim)
				}
				if got.Status != proto.DedupeNearDuplicate && got.Similarity != 0 {
					t.Fatalf("step %d: similarity %.3f on %s", i, got.Similarity, got.Status)
				}
			}
		})
	}
}

// TestOutOfOrderAcrossWorkers delivers the versions of one story in every
// order, each version to a different Deduper sharing one Store: exactly the
// versions newer than all before them are republished, the first as new.
func TestOutOfOrderAcrossWorkers(t *testing.T) {
	versions := make([]*proto.Story, 4)
	for i := range versions {
		body := bodyA
		for j := 0; j < i; j++ {
			body += fmt.Sprintf("\n\nParagraph %d was added in a write-thru about tanker rates and inventories.", j)
		}
		versions[i] = mk(st{uri: "urn:ooo", version: fmt.Sprint(i + 1), headline: "Oil rises", body: body, vc: i})
	}
	perms := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}, {2, 0, 3, 1}, {0, 3, 1, 2}}
	for _, p := range perms {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			store := dedupe.NewMemoryStore(0, nil)
			workers := []*dedupe.Deduper{newDeduper(t, dedupe.Config{}, store), newDeduper(t, dedupe.Config{}, store)}
			newest := -1
			for k, i := range p {
				got, err := workers[k%2].Decide(ctx, versions[i])
				if err != nil {
					t.Fatal(err)
				}
				want := proto.DedupeStale
				switch {
				case newest < 0:
					want = proto.DedupeNew
				case i > newest:
					want = proto.DedupeUpdate
				}
				if i > newest {
					newest = i
				}
				if got.Status != want {
					t.Fatalf("version %d after %v: got %s, want %s", i+1, p[:k], got.Status, want)
				}
			}
		})
	}
}

// TestRaceTwoInstances runs two Dedupers over one Store and one Log with
// many goroutines deciding copies of one story at the same moment: exactly
// one is new. Run it with -race -count=N.
func TestRaceTwoInstances(t *testing.T) {
	cases := []struct {
		name string
		make func(i int) *proto.Story
	}{
		{"same uri and version", func(i int) *proto.Story {
			return mk(st{uri: "urn:race", version: "1", headline: "Oil rises", body: bodyA})
		}},
		{"same text, other uris", func(i int) *proto.Story {
			return mk(st{uri: fmt.Sprintf("urn:race-%d", i), version: "1", headline: "Oil rises", body: bodyA})
		}},
		{"near copies, other uris", func(i int) *proto.Story {
			// Each copy cuts a different paragraph or sentence: no two are
			// identical after normalisation, all are near duplicates.
			paras := strings.Split(bodyA, "\n\n")
			body := bodyA + fmt.Sprintf("\n\nCopy %d of the story, filed from desk %d.", i, i)
			if i%2 == 1 {
				body = strings.Join(paras[:len(paras)-1], "\n\n") + fmt.Sprintf("\n\nFiled by desk %d.", i)
			}
			return mk(st{uri: fmt.Sprintf("urn:near-%d", i), version: "1", headline: "Oil rises", body: body})
		}},
	}
	for _, ordered := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/ordered=%v", tc.name, ordered), func(t *testing.T) {
				for round := 0; round < 20; round++ {
					store := dedupe.NewMemoryStore(0, nil)
					log := dedupe.NewMemoryLog(0)
					var ds []*dedupe.Deduper
					for k := 0; k < 2; k++ {
						d := newDeduper(t, dedupe.Config{Log: log, Ordered: ordered}, store)
						if err := log.Subscribe(d); err != nil {
							t.Fatal(err)
						}
						ds = append(ds, d)
					}
					const n = 8
					stories := make([]*proto.Story, n)
					for i := range stories {
						stories[i] = tc.make(i)
					}
					var wg sync.WaitGroup
					start := make(chan struct{})
					results := make([]*proto.Dedupe, n)
					errs := make([]error, n)
					for i := 0; i < n; i++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							results[i], errs[i] = ds[i%2].Decide(ctx, stories[i])
						}()
					}
					close(start)
					wg.Wait()
					news := 0
					for i, r := range results {
						if errs[i] != nil {
							t.Fatal(errs[i])
						}
						switch r.Status {
						case proto.DedupeNew:
							news++
						case proto.DedupeDuplicate, proto.DedupeNearDuplicate:
							if r.Of == "" {
								t.Fatalf("%s without of", r.Status)
							}
						default:
							t.Fatalf("unexpected %s", r.Status)
						}
					}
					if news != 1 {
						t.Fatalf("round %d: %d new decisions, want exactly 1: %+v", round, news, results)
					}
					if a, b := ds[0].Indexed(), ds[1].Indexed(); a != b {
						t.Fatalf("indexes diverged: %d and %d stories", a, b)
					}
				}
			})
		}
	}
}

// TestRestart: a new Deduper over the same Store (and log) remembers.
func TestRestart(t *testing.T) {
	t.Run("kv", func(t *testing.T) { testRestart(t, false) })
	t.Run("ordered", func(t *testing.T) { testRestart(t, true) })
}

func testRestart(t *testing.T, ordered bool) {
	store := dedupe.NewMemoryStore(0, nil)
	log := dedupe.NewMemoryLog(0)
	d1 := newDeduper(t, dedupe.Config{Log: log, Ordered: ordered}, store)
	if err := log.Subscribe(d1); err != nil {
		t.Fatal(err)
	}
	a1 := st{uri: "urn:a", version: "2", headline: "Oil rises", body: bodyA}
	for _, want := range []string{proto.DedupeNew, proto.DedupeDuplicate} {
		if got, err := d1.Decide(ctx, mk(a1)); err != nil || got.Status != want {
			t.Fatalf("before restart: %v %v, want %s", got, err, want)
		}
	}
	d1.Close()
	if _, err := d1.Decide(ctx, mk(a1)); !errors.Is(err, dedupe.ErrClosed) {
		t.Fatalf("Decide after Close: %v, want ErrClosed", err)
	}

	if ordered {
		store = nil // the ordered state lives in the log alone
	}
	d2 := newDeduper(t, dedupe.Config{Log: log, Ordered: ordered}, store)
	if err := log.Subscribe(d2); err != nil {
		t.Fatal(err)
	}
	old := a1
	old.version = "1"
	trimmed := st{uri: "urn:c", version: "1", headline: "Oil rises", body: trimLastParagraph(bodyA)}
	for _, c := range []struct {
		s          st
		status, of string
	}{
		{a1, proto.DedupeDuplicate, "urn:a"},
		{old, proto.DedupeStale, "urn:a"},
		{st{uri: "urn:b", version: "1", headline: "Oil rises", body: bodyA}, proto.DedupeDuplicate, "urn:a"},
		{trimmed, proto.DedupeNearDuplicate, "urn:a"},
	} {
		got, err := d2.Decide(ctx, mk(c.s))
		if err != nil || got.Status != c.status || got.Of != c.of {
			t.Fatalf("after restart %s v%s: %+v %v, want %s of %s", c.s.uri, c.s.version, got, err, c.status, c.of)
		}
	}
}

// TestRetention: what is older than the window is forgotten, by the Store
// (wall clock) and by the index (story time).
func TestRetention(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	store := dedupe.NewMemoryStore(24*time.Hour, clock)
	d := newDeduper(t, dedupe.Config{Window: 24 * time.Hour, Generations: 4}, store)

	s := mk(st{uri: "urn:a", version: "1", headline: "Oil rises", body: bodyA, vc: 0})
	if got, _ := d.Decide(ctx, s); got.Status != proto.DedupeNew {
		t.Fatalf("got %s", got.Status)
	}
	advance(12 * time.Hour)
	s = mk(st{uri: "urn:a", version: "1", headline: "Oil rises", body: bodyA, vc: 0})
	if got, _ := d.Decide(ctx, s); got.Status != proto.DedupeDuplicate {
		t.Fatalf("within window: got %s", got.Status)
	}
	// Stories two days later push the index forward; the store's clock too.
	advance(48 * time.Hour)
	later := mk(st{uri: "urn:b", version: "1", headline: "Summit opens", body: "GENEVA — Leaders met.", vc: 60 * 60})
	if got, _ := d.Decide(ctx, later); got.Status != proto.DedupeNew {
		t.Fatalf("got %s", got.Status)
	}
	if n := d.Indexed(); n != 1 {
		t.Fatalf("index holds %d stories after the window, want 1", n)
	}
	if n := store.Len(); n != 2 {
		t.Fatalf("store holds %d live keys after the window, want 2", n)
	}
	d2 := newDeduper(t, dedupe.Config{Window: 24 * time.Hour}, store)
	s.IngestSeq = seq.Add(1)
	if got, _ := d2.Decide(ctx, s); got.Status != proto.DedupeNew {
		t.Fatalf("after the window: got %s, want new", got.Status)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  dedupe.Config
		ok   bool
	}{
		{"defaults", dedupe.Config{}, true},
		{"threshold above 1", dedupe.Config{Threshold: 1.5}, false},
		{"negative threshold", dedupe.Config{Threshold: -0.1}, false},
		{"too many bands", dedupe.Config{Bands: 65}, false},
		{"short window", dedupe.Config{Window: time.Millisecond}, false},
		{"no cache", dedupe.Config{CacheSize: -1}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dedupe.New(tc.cfg, dedupe.NewMemoryStore(0, nil))
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, dedupe.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
		})
	}
	if _, err := dedupe.New(dedupe.Config{}, nil); !errors.Is(err, dedupe.ErrInvalidConfig) {
		t.Fatalf("nil store: %v", err)
	}
	d := newDeduper(t, dedupe.Config{}, nil)
	for _, s := range []*proto.Story{nil, {}} {
		if _, err := d.Decide(ctx, s); !errors.Is(err, dedupe.ErrInvalidStory) {
			t.Fatalf("Decide(%v): %v, want ErrInvalidStory", s, err)
		}
	}
}

func TestMemoryStore(t *testing.T) {
	m := dedupe.NewMemoryStore(0, nil)
	r1, err := m.Create(ctx, "u.k", []byte("v1"))
	if err != nil || r1 == 0 {
		t.Fatalf("Create: %d %v", r1, err)
	}
	if _, err := m.Create(ctx, "u.k", []byte("v2")); !errors.Is(err, dedupe.ErrExists) {
		t.Fatalf("second Create: %v", err)
	}
	if _, _, err := m.Get(ctx, "u.none"); !errors.Is(err, dedupe.ErrNotFound) {
		t.Fatalf("Get absent: %v", err)
	}
	r2, err := m.Update(ctx, "u.k", []byte("v2"), r1)
	if err != nil || r2 <= r1 {
		t.Fatalf("Update: %d %v", r2, err)
	}
	if _, err := m.Update(ctx, "u.k", []byte("v3"), r1); !errors.Is(err, dedupe.ErrConflict) {
		t.Fatalf("stale Update: %v", err)
	}
	if _, err := m.Update(ctx, "u.none", []byte("v3"), 1); !errors.Is(err, dedupe.ErrConflict) {
		t.Fatalf("Update absent: %v", err)
	}
	v, rev, err := m.Get(ctx, "u.k")
	if err != nil || string(v) != "v2" || rev != r2 {
		t.Fatalf("Get: %q %d %v", v, rev, err)
	}
}

func TestKeys(t *testing.T) {
	for _, uri := range []string{"urn:a", "", "ünïcødé uri with spaces/and.dots*>", strings.Repeat("x", 5000)} {
		for _, k := range []string{dedupe.URIKey(uri), dedupe.ClaimKey(dedupe.FingerprintOf(uri, uri))} {
			if len(k) != 24 {
				t.Fatalf("key %q has length %d", k, len(k))
			}
			for _, c := range k {
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_/=.", c)) {
					t.Fatalf("key %q has invalid character %q", k, c)
				}
			}
		}
	}
	if dedupe.URIKey("urn:a") == dedupe.URIKey("urn:b") {
		t.Fatal("distinct uris share a key")
	}
}

func TestRecordRoundTrip(t *testing.T) {
	d := newDeduper(t, dedupe.Config{}, nil)
	r, ok := d.Record(mk(st{uri: "urn:a", version: "1", headline: "Oil rises", body: bodyA}))
	if !ok {
		t.Fatal("no record")
	}
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var r2 dedupe.Record
	if err := r2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*r) != fmt.Sprint(r2) {
		t.Fatalf("round trip: %+v != %+v", r2, *r)
	}
	if err := r2.UnmarshalBinary(b[:len(b)-1]); !errors.Is(err, dedupe.ErrBadRecord) {
		t.Fatalf("truncated: %v", err)
	}
	if _, ok := d.Record(mk(st{uri: "urn:e", headline: "", body: " — "})); ok {
		t.Fatal("record for a story without words")
	}
	// A record applied from elsewhere makes a local copy a near duplicate.
	other := newDeduper(t, dedupe.Config{}, nil)
	if _, err := other.Apply(r); err != nil {
		t.Fatal(err)
	}
	if other.Indexed() != 1 {
		t.Fatalf("indexed %d", other.Indexed())
	}
	r.Sig = r.Sig[:3]
	if _, err := other.Apply(r); !errors.Is(err, dedupe.ErrBadRecord) {
		t.Fatalf("bad shape: %v", err)
	}
}

// flakyStore fails the next n claim creates after the write went through,
// as a lost reply from JetStream would.
type flakyStore struct {
	dedupe.Store
	mu   sync.Mutex
	fail int
}

var errFlaky = errors.New("flaky: reply lost")

func (f *flakyStore) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	rev, err := f.Store.Create(ctx, key, value)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && strings.HasPrefix(key, "f.") && f.fail > 0 {
		f.fail--
		return 0, errFlaky
	}
	return rev, err
}

// TestRedelivery: a story delivered again (same IngestSeq), for instance
// because the first attempt failed after writing, gets the same decision.
func TestRedelivery(t *testing.T) {
	a1 := st{uri: "urn:a", version: "1", headline: "Oil rises", body: bodyA}
	a2 := a1
	a2.version, a2.body = "2", bodyA+"\n\nMore follows."
	kill := st{uri: "urn:a", version: "3", headline: "KILL", body: "Withdrawn.", pubstatus: proto.PubStatusCanceled}
	trimmed := st{uri: "urn:t", version: "1", headline: "Oil rises", body: trimLastParagraph(bodyA)}
	fs := &flakyStore{Store: dedupe.NewMemoryStore(0, nil)}
	d := newDeduper(t, dedupe.Config{}, fs)
	for _, c := range []struct {
		s      st
		status string
		flaky  bool
	}{
		{a1, proto.DedupeNew, true},
		{trimmed, proto.DedupeNearDuplicate, true},
		{a2, proto.DedupeUpdate, true},
		{kill, proto.DedupeKill, false},
	} {
		s := mk(c.s)
		if c.flaky {
			fs.fail = 1
			if _, err := d.Decide(ctx, s); !errors.Is(err, errFlaky) {
				t.Fatalf("%s v%s: first attempt: %v, want the store error", c.s.uri, c.s.version, err)
			}
		}
		for attempt := 0; attempt < 2; attempt++ {
			got, err := d.Decide(ctx, s)
			if err != nil || got.Status != c.status {
				t.Fatalf("%s v%s attempt %d: %+v %v, want %s", c.s.uri, c.s.version, attempt, got, err, c.status)
			}
		}
	}
	if n := d.Indexed(); n != 2 {
		t.Fatalf("index holds %d stories, want 2 (a1 and a2; replays add nothing)", n)
	}
}

// The uri cache keeps its own copy of a story's version: the stage runtime
// decodes stories as views into whole messages, and a cached view would
// keep the whole message alive for as long as the uri is cached.
func TestCacheDoesNotRetainStoryText(t *testing.T) {
	d, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	msg := []byte("2" + strings.Repeat("x", 1<<20)) // version "2" at the front of a 1 MB "message"
	s := &proto.Story{URI: "urn:retain", Version: unsafe.String(&msg[0], 1), Headline: "h", BodyText: "some body words here",
		PubStatus: proto.PubStatusUsable, IngestSeq: 1}
	if _, err := d.Decide(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	msg[0] = '9' // were the cache holding the view, the cached version would now read "9"
	s2 := &proto.Story{URI: "urn:retain", Version: "3", Headline: "h", BodyText: "other body words here", PubStatus: proto.PubStatusUsable, IngestSeq: 2}
	got, err := d.Decide(context.Background(), s2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != proto.DedupeUpdate {
		t.Fatalf("version 3 after a cached version 2: %s, want update (the cache read a changed buffer)", got.Status)
	}
}
