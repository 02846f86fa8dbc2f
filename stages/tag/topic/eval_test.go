package topic_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/topic"
)

// labelled is one story of testdata/topics/stories.jsonl.
type labelled struct {
	ID string `json:"id"`
	// Split is "dev" (written before the lexicon, used to write it), "dev-b"
	// and "dev-c" (held out from the first lexicon, used for its revision;
	// see docs/topic-tagging.md) or "holdout" (never used for tuning).
	Split    string   `json:"split"`
	Topics   []string `json:"topics"`
	Headline string   `json:"headline"`
	Body     string   `json:"body_text"`
	Slugline string   `json:"slugline"`
}

func readLabelled(t testing.TB) []labelled {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "..", "testdata", "topics", "stories.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("stories.jsonl: %v", err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// topTokens returns the top-level topic tokens of subs, most relevant first.
func topTokens(c *topic.Classifier, subs []*proto.Subject) []string {
	var out []string
	for _, s := range subs {
		tok := proto.SubjectToken(s)
		if len(tok) == 8 && tok[2:] == "000000" {
			out = append(out, tok)
		}
	}
	return out
}

// score holds the two measures the issue asks for.
type score struct {
	n, top1, top3 int
}

func (s score) top1Rate() float64 { return float64(s.top1) / float64(s.n) }
func (s score) top3Rate() float64 { return float64(s.top3) / float64(s.n) }

func (s score) String() string {
	return fmt.Sprintf("n=%d top-1 %.3f (%d) top-3 coverage %.3f (%d)", s.n, s.top1Rate(), s.top1, s.top3Rate(), s.top3)
}

// tunedSplits are the splits the lexicon was written or revised on; the
// holdout split never was (see labelled.Split).
var tunedSplits = []string{"dev", "dev-b", "dev-c"}

// evaluation is the classifier's score on the labelled set.
type evaluation struct {
	all, tuned score
	splits     map[string]*score
	perTopic   map[string]int // labelled stories per gold top-level code
	misses     []miss         // the stories missed on either measure
}

// miss is a labelled story the classifier missed, as a line to log.
type miss struct{ split, line string }

// evaluate scores c on the labelled stories:
//   - top-1 accuracy: the most relevant top-level topic is one of the gold
//     topics (gold lists one to three top-level topics per story);
//   - top-3 coverage: every gold topic is among the three most relevant
//     top-level topics returned.
func evaluate(t *testing.T, c *topic.Classifier, stories []labelled) evaluation {
	t.Helper()
	ev := evaluation{splits: map[string]*score{"holdout": {}}, perTopic: map[string]int{}}
	for _, name := range tunedSplits {
		ev.splits[name] = &score{}
	}
	byID := map[string]bool{}
	for _, l := range stories {
		if byID[l.ID] {
			t.Fatalf("duplicate id %s", l.ID)
		}
		byID[l.ID] = true
		sp, ok := ev.splits[l.Split]
		if !ok || len(l.Topics) == 0 || l.Headline == "" || l.Body == "" {
			t.Fatalf("%s: bad labelled story", l.ID)
		}
		for _, g := range l.Topics {
			if _, ok := c.Lookup(g); !ok || g[2:] != "000000" {
				t.Fatalf("%s: gold %q is not a top-level Media Topic", l.ID, g)
			}
			ev.perTopic[g]++
		}
		got := topTokens(c, c.Tag(&proto.Story{URI: l.ID, Headline: l.Headline, Slugline: l.Slugline, BodyText: l.Body}))
		hit1 := len(got) > 0 && slices.Contains(l.Topics, got[0])
		hit3 := true
		for _, g := range l.Topics {
			if i := slices.Index(got, g); i < 0 || i > 2 {
				hit3 = false
			}
		}
		scores := []*score{&ev.all, sp}
		if l.Split != "holdout" {
			scores = append(scores, &ev.tuned)
		}
		for _, s := range scores {
			s.n++
			if hit1 {
				s.top1++
			}
			if hit3 {
				s.top3++
			}
		}
		if !hit1 || !hit3 {
			ev.misses = append(ev.misses, miss{l.Split, fmt.Sprintf("miss %-9s %-7s gold=%v got=%v  %q", l.ID, l.Split, l.Topics, got, l.Headline)})
		}
	}
	return ev
}

// logScores logs the score of every split, of the tuned splits together
// and of the holdout: the holdout's is the honest estimate for new copy.
func (ev evaluation) logScores(t *testing.T) {
	t.Helper()
	t.Logf("all:      %v", ev.all)
	for _, name := range tunedSplits {
		t.Logf("%-9s %v", name+":", ev.splits[name])
	}
	t.Logf("tuned (%s): %v", strings.Join(tunedSplits, ", "), ev.tuned)
	t.Logf("holdout (never tuned on): %v", ev.splits["holdout"])
}

// TestLabelledSet scores the classifier on the whole hand-labelled set (see
// evaluate for the measures) and checks the set itself. The holdout is
// gated on its own as well, by TestLabelledHoldout.
func TestLabelledSet(t *testing.T) {
	c := mustLoad(t)
	stories := readLabelled(t)
	ev := evaluate(t, c, stories)
	for _, m := range ev.misses {
		t.Log(m.line)
	}
	if len(stories) < 85 {
		t.Errorf("labelled set has %d stories, want at least 85", len(stories))
	}
	for _, top := range c.Topics() {
		if top.Parent == "" {
			if n := ev.perTopic[top.Code[len("medtop:"):]]; n < 5 {
				t.Errorf("%s (%s) has %d labelled stories, want at least 5", top.Code, top.Label, n)
			}
		}
	}
	ev.logScores(t)
	if r := ev.all.top1Rate(); r < 0.85 {
		t.Errorf("top-1 top-level accuracy %.3f, want >= 0.85", r)
	}
	if r := ev.all.top3Rate(); r < 0.95 {
		t.Errorf("gold topics within top 3 for %.3f of stories, want >= 0.95", r)
	}
}

// The holdout's thresholds are what it scored when the gate was added
// (lexicon v2, the same as v1: 13 of 17 top-1, 17 of 17 top-3; see
// docs/topic-tagging.md). Raise them when the holdout scores more; never
// lower them to make a change pass: a change that lowers the holdout score
// is tuned to the other splits, whatever they score.
const (
	holdoutMinTop1 = 13.0 / 17
	holdoutMinTop3 = 17.0 / 17
)

// TestLabelledHoldout gates the holdout split on its own: the stories
// never used to write or revise the lexicon. Tuning that lifts the tuned
// splits (and the whole set) while the holdout drops fails here.
func TestLabelledHoldout(t *testing.T) {
	c := mustLoad(t)
	ev := evaluate(t, c, readLabelled(t))
	for _, m := range ev.misses {
		if m.split == "holdout" {
			t.Log(m.line)
		}
	}
	h := ev.splits["holdout"]
	t.Logf("tuned (%s): %v", strings.Join(tunedSplits, ", "), ev.tuned)
	t.Logf("holdout (never tuned on): %v", h)
	if h.n < 17 {
		t.Fatalf("holdout has %d stories, want at least 17", h.n)
	}
	// A rate that is a ratio of counts may fall a rounding error short of
	// the same ratio written as a constant.
	const eps = 1e-9
	if r := h.top1Rate(); r < holdoutMinTop1-eps {
		t.Errorf("holdout top-1 accuracy %.3f (%d of %d), want >= %.3f: the lexicon lost stories it was never tuned on (tuned splits: top-1 %.3f)",
			r, h.top1, h.n, holdoutMinTop1, ev.tuned.top1Rate())
	}
	if r := h.top3Rate(); r < holdoutMinTop3-eps {
		t.Errorf("holdout top-3 coverage %.3f (%d of %d), want >= %.3f: the lexicon lost stories it was never tuned on (tuned splits: top-3 %.3f)",
			r, h.top3, h.n, holdoutMinTop3, ev.tuned.top3Rate())
	}
}
