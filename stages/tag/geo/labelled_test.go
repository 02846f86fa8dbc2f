package geo_test

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/geo"
)

// labelled is one story of testdata/geo/stories.jsonl.
type labelled struct {
	ID          string   `json:"id"`
	Note        string   `json:"note"`
	Located     string   `json:"located"`
	Headline    string   `json:"headline"`
	Body        string   `json:"body"`
	WantLocated string   `json:"want_located"`
	Want        []string `json:"want"`
}

func readLabelled(t testing.TB) []labelled {
	t.Helper()
	f, err := os.Open("../../../testdata/geo/stories.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// story is the labelled story as the tagger gets it: after ingest.
func (l labelled) story() *proto.Story {
	return ingested(&proto.Story{URI: "test:" + l.ID, Located: l.Located, Headline: l.Headline, BodyText: l.Body})
}

func countries(places []*proto.Place) (located string, codes []string) {
	for _, p := range places {
		if p.Scheme != proto.SchemeCountry {
			continue
		}
		if p.Rel == proto.RelLocated {
			located = p.Code
		}
		codes = append(codes, p.Code)
	}
	sort.Strings(codes)
	return located, codes
}

// TestLabelled scores the parser on the labelled stories: precision and
// recall of the country tags and accuracy of the located country.
func TestLabelled(t *testing.T) {
	g := loadGazetteer(t)
	p := geo.New(g)
	stories := readLabelled(t)
	if len(stories) < 60 {
		t.Fatalf("only %d labelled stories, want at least 60", len(stories))
	}
	var tp, fp, fn, locOK int
	for _, l := range stories {
		loc, got := countries(p.Tag(l.story()))
		want := map[string]bool{}
		for _, c := range l.Want {
			want[c] = true
		}
		have := map[string]bool{}
		for _, c := range got {
			have[c] = true
			if want[c] {
				tp++
			} else {
				fp++
				t.Logf("%s: false positive %s (got %v, want %v)", l.ID, c, got, l.Want)
			}
		}
		for c := range want {
			if !have[c] {
				fn++
				t.Logf("%s: missed %s (got %v, want %v)", l.ID, c, got, l.Want)
			}
		}
		if loc == l.WantLocated {
			locOK++
		} else {
			t.Logf("%s: located %q, want %q", l.ID, loc, l.WantLocated)
		}
	}
	precision := float64(tp) / float64(tp+fp)
	recall := float64(tp) / float64(tp+fn)
	locAcc := float64(locOK) / float64(len(stories))
	t.Logf("stories=%d precision=%.3f recall=%.3f located=%.3f (tp=%d fp=%d fn=%d)", len(stories), precision, recall, locAcc, tp, fp, fn)
	if precision < 0.95 {
		t.Errorf("precision %.3f < 0.95", precision)
	}
	if recall < 0.95 {
		t.Errorf("recall %.3f < 0.95", recall)
	}
	if locAcc < 0.97 {
		t.Errorf("located accuracy %.3f < 0.97", locAcc)
	}
}
