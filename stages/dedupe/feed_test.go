package dedupe_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
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
// and the similarity of the closest pair of distinct same-topic stories.
func TestFeedCurve(t *testing.T) {
	lines := loadFeed(t)
	t.Logf("| threshold | precision | recall | F1 | distinct stories marked dup/near | accuracy |")
	t.Logf("|---|---|---|---|---|---|")
	for th := 0.20; th < 0.96; th += 0.05 {
		sc := runFeed(t, lines, dedupe.Config{Threshold: th})
		p := float64(sc.tp) / float64(max(sc.tp+sc.fp, 1))
		r := float64(sc.tp) / float64(max(sc.tp+sc.fn, 1))
		f1 := 2 * p * r / max(p+r, 1e-9)
		t.Logf("| %.2f | %.3f | %.3f | %.3f | %d | %.4f |", th, p, r, f1, len(sc.falseDup), float64(sc.right)/float64(sc.n))
	}
	// Closest distinct pairs per topic (base stories), and the spread of
	// similarity of derived copies to their source.
	d, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	byTopic := map[string][]*dedupe.Record{}
	firstRec := map[string]*dedupe.Record{}
	var copySims []float64
	for _, l := range lines {
		r, ok := d.Record(l.Story)
		if !ok {
			continue
		}
		if l.Kind == "base" {
			byTopic[l.Topic] = append(byTopic[l.Topic], r)
			firstRec[l.Base] = r
		}
		if strings.HasPrefix(l.Kind, "copy_") && l.Kind != "copy_identical" && firstRec[l.Base] != nil {
			copySims = append(copySims, r.Similarity(firstRec[l.Base]))
		}
	}
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
	}
	sort.Float64s(copySims)
	if len(copySims) > 0 {
		t.Logf("near copies vs first version of their source: n=%d min %.3f p10 %.3f median %.3f", len(copySims), copySims[0], copySims[len(copySims)/10], copySims[len(copySims)/2])
	}
}
