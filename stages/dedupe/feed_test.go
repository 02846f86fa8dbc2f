package dedupe_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/dedupe"
)

const feedPath = "../../testdata/dedupe/feed.jsonl"

type feedLine struct {
	Story *proto.Story
	Gold  proto.Dedupe
	Kind  string
	Topic string
	Base  string
}

func loadFeed(t testing.TB) []feedLine {
	t.Helper()
	f, err := os.Open(feedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []feedLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var raw struct {
			Story json.RawMessage
			Gold  proto.Dedupe
			Kind  string
			Topic string
			Base  string
		}
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		s, err := proto.UnmarshalJSON(raw.Story)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, feedLine{s, raw.Gold, raw.Kind, raw.Topic, raw.Base})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type feedScore struct {
	n, right   int
	falseDup   []string // gold new, decided duplicate or near_duplicate
	tp, fp, fn int      // near_duplicate detection
	wrong      map[string]int
	examples   []string
	nearSims   []float64 // similarity of gold near duplicates found by the index
}

// runFeed decides every story of the feed in order on a fresh Deduper.
func runFeed(t testing.TB, lines []feedLine, cfg dedupe.Config) feedScore {
	t.Helper()
	d, err := dedupe.New(cfg, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sc := feedScore{wrong: map[string]int{}}
	for _, l := range lines {
		got, err := d.Decide(context.Background(), l.Story)
		if err != nil {
			t.Fatal(err)
		}
		sc.n++
		if got.Status == l.Gold.Status && got.Of == l.Gold.Of {
			sc.right++
		} else {
			key := fmt.Sprintf("%s: gold %s got %s", l.Kind, l.Gold.Status, got.Status)
			sc.wrong[key]++
			if len(sc.examples) < 10 {
				sc.examples = append(sc.examples, fmt.Sprintf("%s %s gold %+v got %+v", l.Kind, l.Story.URI, l.Gold, *got))
			}
		}
		if l.Gold.Status == proto.DedupeNew && (got.Status == proto.DedupeDuplicate || got.Status == proto.DedupeNearDuplicate) {
			sc.falseDup = append(sc.falseDup, fmt.Sprintf("%s %+v", l.Story.URI, *got))
		}
		gn, pn := l.Gold.Status == proto.DedupeNearDuplicate, got.Status == proto.DedupeNearDuplicate
		if gn && pn && got.Similarity < 1 {
			sc.nearSims = append(sc.nearSims, got.Similarity)
		}
		switch {
		case gn && pn:
			sc.tp++
		case pn:
			sc.fp++
		case gn:
			sc.fn++
		}
	}
	return sc
}

func TestFeed(t *testing.T) {
	lines := loadFeed(t)
	if len(lines) < 300 {
		t.Fatalf("feed has %d lines, want at least 300", len(lines))
	}
	kinds := map[string]int{}
	topics := map[string]map[string]bool{}
	for _, l := range lines {
		kinds[l.Gold.Status]++
		if l.Kind == "base" {
			if topics[l.Topic] == nil {
				topics[l.Topic] = map[string]bool{}
			}
			topics[l.Topic][l.Base] = true
		}
	}
	for _, st := range []string{proto.DedupeNew, proto.DedupeUpdate, proto.DedupeDuplicate, proto.DedupeNearDuplicate, proto.DedupeStale, proto.DedupeKill} {
		if kinds[st] == 0 {
			t.Errorf("feed has no %s decision", st)
		}
	}
	if n := len(topics["oil"]); n < 100 {
		t.Errorf("feed has %d distinct oil stories, want at least 100 hard negatives", n)
	}
	sc := runFeed(t, lines, dedupe.Config{})
	acc := float64(sc.right) / float64(sc.n)
	t.Logf("accuracy %.4f (%d/%d); near_duplicate tp=%d fp=%d fn=%d; gold counts %v", acc, sc.right, sc.n, sc.tp, sc.fp, sc.fn, kinds)
	for k, v := range sc.wrong {
		t.Logf("wrong: %s x%d", k, v)
	}
	for _, e := range sc.examples {
		t.Logf("example: %s", e)
	}
	if acc < 0.97 {
		t.Errorf("accuracy %.4f < 0.97", acc)
	}
	if len(sc.falseDup) > 0 {
		t.Errorf("%d distinct stories marked duplicate or near_duplicate: %v", len(sc.falseDup), sc.falseDup)
	}
}

// TestFeedCurve measures near-duplicate precision and recall over the
// threshold (go test -run FeedCurve -v prints the table in docs/dedupe.md),
// with the share of all pairs of distinct same-topic stories whose
// estimated similarity reaches the threshold (a pairwise false-positive rate
// before the LSH, which is what matters when the index holds far more
// stories than the feed).
func TestFeedCurve(t *testing.T) {
	lines := loadFeed(t)
	d, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	byTopic := map[string][]*dedupe.Record{}
	for _, l := range lines {
		if r, ok := d.Record(l.Story); ok && l.Kind == "base" {
			byTopic[l.Topic] = append(byTopic[l.Topic], r)
		}
	}
	var pairs []float64
	for tp, rs := range byTopic {
		var sims []float64
		for i := range rs {
			for j := i + 1; j < len(rs); j++ {
				sims = append(sims, rs[i].Similarity(rs[j]))
			}
		}
		sort.Float64s(sims)
		t.Logf("topic %s: %d distinct stories, %d pairs, similarity median %.3f p99 %.3f max %.3f", tp, len(rs), len(sims),
			sims[len(sims)/2], sims[len(sims)*99/100], sims[len(sims)-1])
		pairs = append(pairs, sims...)
	}
	sort.Float64s(pairs)
	t.Logf("| threshold | precision | recall | F1 | distinct stories marked dup/near | decisions right | distinct pairs >= threshold |")
	t.Logf("|---|---|---|---|---|---|---|")
	for th := 0.20; th < 0.96; th += 0.05 {
		sc := runFeed(t, lines, dedupe.Config{Threshold: th})
		p := float64(sc.tp) / float64(max(sc.tp+sc.fp, 1))
		r := float64(sc.tp) / float64(max(sc.tp+sc.fn, 1))
		f1 := 2 * p * r / max(p+r, 1e-9)
		above := len(pairs) - sort.SearchFloat64s(pairs, th-1e-9)
		t.Logf("| %.2f | %.3f | %.3f | %.3f | %d | %.4f | %.5f |", th, p, r, f1, len(sc.falseDup),
			float64(sc.right)/float64(sc.n), float64(above)/float64(len(pairs)))
	}
	sc := runFeed(t, lines, dedupe.Config{Threshold: 0.05})
	sort.Float64s(sc.nearSims)
	if n := len(sc.nearSims); n > 0 {
		t.Logf("similarity reported for the %d LSH-found near copies: min %.3f p5 %.3f p10 %.3f median %.3f",
			n, sc.nearSims[0], sc.nearSims[n/20], sc.nearSims[n/10], sc.nearSims[n/2])
	}
}

// sizingStore records the size of the latest value of every key.
type sizingStore struct {
	dedupe.Store
	mu    sync.Mutex
	sizes map[string]int
}

func (s *sizingStore) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	rev, err := s.Store.Create(ctx, key, value)
	if err == nil {
		s.mu.Lock()
		s.sizes[key] = len(value)
		s.mu.Unlock()
	}
	return rev, err
}

func (s *sizingStore) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	nr, err := s.Store.Update(ctx, key, value, rev)
	if err == nil {
		s.mu.Lock()
		s.sizes[key] = len(value)
		s.mu.Unlock()
	}
	return nr, err
}

// recordingLog counts the bytes of the signature records appended.
type recordingLog struct {
	d     *dedupe.Deduper
	n     int
	bytes int
}

func (l *recordingLog) Append(_ context.Context, r *dedupe.Record) error {
	b, err := r.MarshalBinary()
	if err != nil {
		return err
	}
	l.n++
	l.bytes += len(b)
	_, err = l.d.Apply(r)
	return err
}

// TestStoreFootprint measures what the feed leaves in the Store (keys and
// values, per uri and per content) and on the signature log, the basis of
// the JetStream size estimate in docs/dedupe.md.
func TestStoreFootprint(t *testing.T) {
	lines := loadFeed(t)
	ss := &sizingStore{Store: dedupe.NewMemoryStore(0, nil), sizes: map[string]int{}}
	lg := &recordingLog{}
	d, err := dedupe.New(dedupe.Config{Log: lg}, ss)
	if err != nil {
		t.Fatal(err)
	}
	lg.d = d
	uris := map[string]bool{}
	for _, l := range lines {
		if _, err := d.Decide(context.Background(), l.Story); err != nil {
			t.Fatal(err)
		}
		uris[l.Story.URI] = true
	}
	var nu, nf, ku, kf, vu, vf int
	for k, v := range ss.sizes {
		switch k[0] {
		case 'u':
			nu++
			ku += len(k)
			vu += v
		case 'f':
			nf++
			kf += len(k)
			vf += v
		}
	}
	if nu != len(uris) {
		t.Fatalf("%d uri records for %d uris", nu, len(uris))
	}
	if nf == 0 || lg.n == 0 {
		t.Fatal("no claims or no records")
	}
	t.Logf("uri records: %d, key %d B, value %.1f B avg", nu, ku/nu, float64(vu)/float64(nu))
	t.Logf("claims: %d, key %d B, value %.1f B avg", nf, kf/nf, float64(vf)/float64(nf))
	t.Logf("signature records: %d, %.1f B avg", lg.n, float64(lg.bytes)/float64(lg.n))
}

// TestFeedConcurrent decides the whole feed at once on two Dedupers sharing
// one Store and one Log, 8 goroutines, in no particular order. Whatever the
// order, each story family (a base uri and the copies made of it) has at
// least one new decision (or kill of an unknown uri): no two stories end up
// each other's duplicate; no duplicate or near duplicate points into another
// family; and a family without write-thrus has exactly one new. (A family
// with write-thrus may have two: a trimmed copy of v3 decided before v3
// reached the index is compared with v1 only, as it would be had it arrived
// before v3.)
func TestFeedConcurrent(t *testing.T) {
	t.Run("kv", func(t *testing.T) { testFeedConcurrent(t, false) })
	t.Run("ordered", func(t *testing.T) { testFeedConcurrent(t, true) })
}

func testFeedConcurrent(t *testing.T, ordered bool) {
	lines := loadFeed(t)
	family := map[string]string{} // uri -> base uri
	updated := map[string]bool{}  // families with write-thrus
	for _, l := range lines {
		if l.Gold.Status == proto.DedupeUpdate {
			updated[l.Base] = true
		}
		if l.Base != "" {
			family[l.Story.URI] = l.Base
		} else {
			family[l.Story.URI] = l.Story.URI
		}
	}
	for round := 0; round < 3; round++ {
		store := dedupe.NewMemoryStore(0, nil)
		lg := dedupe.NewMemoryLog(0)
		var ds []*dedupe.Deduper
		for k := 0; k < 2; k++ {
			d, err := dedupe.New(dedupe.Config{Log: lg, Ordered: ordered}, store)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if err := lg.Subscribe(d); err != nil {
				t.Fatal(err)
			}
			ds = append(ds, d)
		}
		work := make(chan int)
		got := make([]*proto.Dedupe, len(lines))
		var wg sync.WaitGroup
		var failed sync.Once
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					r, err := ds[w%2].Decide(context.Background(), lines[i].Story)
					if err != nil {
						failed.Do(func() { t.Error(err) })
						continue
					}
					got[i] = r
				}
			}()
		}
		for i := range lines {
			work <- i
		}
		close(work)
		wg.Wait()
		if t.Failed() {
			return
		}
		news, firsts := map[string]int{}, map[string]int{}
		for i, l := range lines {
			fam := family[l.Story.URI]
			switch r := got[i]; {
			case r.Status == proto.DedupeNew:
				news[fam]++
				firsts[fam]++
			case r.Status == proto.DedupeKill && r.Of == "":
				firsts[fam]++
			case r.Status == proto.DedupeDuplicate || r.Status == proto.DedupeNearDuplicate:
				if r.Of != "" && family[r.Of] != fam {
					t.Errorf("round %d: %s (%s) is a %s of %s, another family", round, l.Story.URI, l.Kind, r.Status, r.Of)
				}
			}
		}
		for fam := range firsts {
			if news[fam] > 1 && !updated[fam] {
				t.Errorf("round %d: family %s has %d new decisions", round, fam, news[fam])
				for i, l := range lines {
					if family[l.Story.URI] == fam {
						t.Logf("  %s v%s seq %d %s: gold %+v got %+v", l.Story.URI, l.Story.Version, l.Story.IngestSeq, l.Kind, l.Gold, *got[i])
					}
				}
			}
		}
		for _, fam := range family {
			if firsts[fam] == 0 {
				t.Errorf("round %d: family %s has no new decision", round, fam)
				for i, l := range lines {
					if family[l.Story.URI] == fam {
						t.Logf("  %s v%s seq %d %s: gold %+v got %+v", l.Story.URI, l.Story.Version, l.Story.IngestSeq, l.Kind, l.Gold, *got[i])
					}
				}
			}
		}
		if a, b := ds[0].Indexed(), ds[1].Indexed(); a != b {
			t.Errorf("round %d: indexes diverged: %d and %d stories", round, a, b)
		}
	}
}

// Deciding prepared stories (prepared all at once, on several goroutines,
// before any decision) gives exactly the decisions of Decide, line by line.
func TestFeedPrepared(t *testing.T) {
	lines := loadFeed(t)
	plain, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	prep, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Close()
	ps := make([]*dedupe.Prepared, len(lines))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(lines); i += 4 {
				ps[i] = prep.Prepare(lines[i].Story)
			}
		}()
	}
	wg.Wait()
	ctx := context.Background()
	for i, l := range lines {
		want, err := plain.Decide(ctx, l.Story)
		if err != nil {
			t.Fatal(err)
		}
		got, err := prep.DecidePrepared(ctx, l.Story, ps[i])
		if err != nil {
			t.Fatal(err)
		}
		if *got != *want {
			t.Fatalf("line %d %s: prepared %+v, Decide %+v", i+1, l.Story.URI, *got, *want)
		}
	}
	if _, err := prep.DecidePrepared(ctx, lines[0].Story, ps[0]); !errors.Is(err, dedupe.ErrInvalidStory) {
		t.Errorf("deciding a consumed Prepared: err = %v, want ErrInvalidStory", err)
	}
}
