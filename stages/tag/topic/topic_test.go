package topic_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/topic"
)

var (
	loadOnce sync.Once
	loaded   *topic.Classifier
	loadErr  error
)

func mustLoad(t testing.TB) *topic.Classifier {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = topic.Load() })
	if loadErr != nil {
		t.Fatalf("Load: %v", loadErr)
	}
	return loaded
}

func TestLoad(t *testing.T) {
	c := mustLoad(t)
	tops := 0
	codes := map[string]bool{}
	for _, tp := range c.Topics() {
		codes[tp.Code] = true
		if tp.Parent == "" {
			tops++
		}
	}
	if tops != 17 {
		t.Errorf("%d top-level topics, want 17", tops)
	}
	for _, tp := range c.Topics() {
		if tp.Parent != "" && !codes[tp.Parent] {
			t.Errorf("%s: parent %s not in taxonomy", tp.Code, tp.Parent)
		}
		if !strings.HasPrefix(tp.Code, "medtop:") || tp.Label == "" {
			t.Errorf("bad topic %+v", tp)
		}
	}
	if s := c.String(); !strings.Contains(s, "Media Topics") {
		t.Errorf("String() = %q", s)
	}
}

func TestLoadErrors(t *testing.T) {
	const tax = "01000000\t\tarts, culture, entertainment and media\n"
	full := func() string {
		var b strings.Builder
		for _, tp := range mustLoad(t).Topics() {
			parent := strings.TrimPrefix(tp.Parent, "medtop:")
			fmt.Fprintf(&b, "%s\t%s\t%s\n", strings.TrimPrefix(tp.Code, "medtop:"), parent, tp.Label)
		}
		return b.String()
	}()
	tests := []struct {
		name     string
		tax, lex string
		want     error
	}{
		{"too few top-level topics", tax, "[01000000] arts, culture, entertainment and media\n1 film\n", topic.ErrTaxonomy},
		{"bad code", "0100000x\t\tarts\n", "", topic.ErrTaxonomy},
		{"two fields", "01000000\tarts\n", "", topic.ErrTaxonomy},
		{"unknown parent", full + "29999999\t28888888\tnothing\n", "", topic.ErrTaxonomy},
		{"duplicate code", full + "01000000\t\tarts again\n", "", topic.ErrTaxonomy},
		{"empty lexicon", full, "# nothing\n", topic.ErrLexicon},
		{"term before section", full, "1 film\n", topic.ErrLexicon},
		{"unknown section", full, "[29999999] nothing\n1 film\n", topic.ErrLexicon},
		{"label mismatch", full, "[11000000] politics\n1 vote\n", topic.ErrLexicon},
		{"bad weight", full, "[11000000] politics and government\nx vote\n", topic.ErrLexicon},
		{"weight out of range", full, "[11000000] politics and government\n11 vote\n", topic.ErrLexicon},
		{"bad term weight", full, "[11000000] politics and government\n1 vote (x)\n", topic.ErrLexicon},
		{"duplicate term", full, "[11000000] politics and government\n1 vote, votes, vote\n", topic.ErrLexicon},
		{"case-sensitive phrase", full, "[11000000] politics and government\n1 =White House\n", topic.ErrLexicon},
		{"sentence inside term", full, "[11000000] politics and government\n1 vote. now\n", topic.ErrLexicon},
		{"no words", full, "[11000000] politics and government\n1 --\n", topic.ErrLexicon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := topic.LoadFrom(tt.tax, tt.lex)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("valid minimal", func(t *testing.T) {
		c, err := topic.LoadFrom(full, "[11000000] politics and government\n2 parliament, =MPs (3)\n")
		if err != nil {
			t.Fatal(err)
		}
		got := c.Tag(&proto.Story{Headline: "Parliament votes", BodyText: "MPs voted in parliament."})
		if len(got) != 1 || got[0].Code != "medtop:11000000" {
			t.Fatalf("Tag = %v", subjectsString(got))
		}
	})
}

func TestLookup(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		code, label string
		ok          bool
	}{
		{"medtop:11000000", "politics and government", true},
		{"11000000", "politics and government", true},
		{"medtop:16000000", "conflict, war and peace", true},
		{"04000000", "economy, business and finance", true},
		{"medtop:20000640", "summit meeting", true},
		{" medtop:15000000 ", "sport", true},
		{"medtop:99999999", "", false},
		{"medtop:1100000", "", false},
		{"politics", "", false},
		{"", "", false},
		{"medtop:20000119", "", false}, // retired by IPTC ("justice"), not shipped
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			label, ok := c.Lookup(tt.code)
			if label != tt.label || ok != tt.ok {
				t.Fatalf("Lookup(%q) = %q, %v; want %q, %v", tt.code, label, ok, tt.label, tt.ok)
			}
		})
	}
}

func TestResolveTopic(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		in, token, label string
		ok               bool
	}{
		{"medtop:11000000", "11000000", "politics and government", true},
		{"MEDTOP:11000000", "11000000", "politics and government", true},
		{"11000000", "11000000", "politics and government", true},
		{"politics", "11000000", "politics and government", true},
		{"Politics and Government", "11000000", "politics and government", true},
		{"conflict", "16000000", "conflict, war and peace", true},
		{"conflict, war and peace", "16000000", "conflict, war and peace", true},
		{"economy", "04000000", "economy, business and finance", true},
		{"sport", "15000000", "sport", true},
		{"weather", "17000000", "weather", true},
		{"human-interest", "08000000", "human interest", true},
		{"arts", "01000000", "arts, culture, entertainment and media", true},
		{"summit meeting", "20000640", "summit meeting", true},
		{"  Summit_Meeting ", "20000640", "summit meeting", true},
		{"medtop:20000344", "20000344", "economy", true},
		{"war", "20000062", "war", true},
		{"nonsense", "", "", false},
		{"", "", "", false},
		{"medtop:00000000", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			tok, label, ok := c.ResolveTopic(tt.in)
			if tok != tt.token || label != tt.label || ok != tt.ok {
				t.Fatalf("ResolveTopic(%q) = %q, %q, %v; want %q, %q, %v", tt.in, tok, label, ok, tt.token, tt.label, tt.ok)
			}
			if ok {
				if want, err := proto.TopicToken(tok); err != nil || want != tok {
					t.Fatalf("token %q is not a valid subject token", tok)
				}
			}
		})
	}
}

// samarkandLike is written for this test (it is not the AP story): a summit
// during a war, with energy trade in the background.
const samarkandLike = `SAMARKAND, Uzbekistan — Russian President Vladimir Putin and Chinese leader Xi Jinping held talks on the sidelines of a regional summit on Thursday, their first meeting since Moscow's invasion of Ukraine, as Russian troops retreated from territory in the northeast after a Ukrainian counteroffensive.
Putin told Xi he understood Beijing's questions about the war. Foreign ministers from both countries said they would coordinate their diplomacy at the United Nations.
Western governments have imposed sanctions on Moscow over the invasion. China and India have increased purchases of Russian oil and gas, helping the Kremlin offset lost energy exports to Europe, and analysts said oil prices and trade flows would be on the agenda.
Fighting continued along the front line, and officials in Kyiv reported artillery shelling of several towns.`

func TestMultiLabel(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		name     string
		story    proto.Story
		top2     []string // the two most relevant top-level topics, any order
		included []string // further top-level topics that must be present
		excluded []string
	}{
		{
			name:     "summit during a war, oil and gas",
			story:    proto.Story{Headline: "Putin and Xi meet at summit as Russia loses ground in Ukraine", BodyText: samarkandLike},
			top2:     []string{"11000000", "16000000"},
			included: []string{"04000000"},
		},
		{
			name:  "court report",
			story: proto.Story{Headline: "Former mayor jailed for bribery", BodyText: "A former mayor was sentenced to six years in prison on Tuesday after a jury found him guilty of taking bribes from construction firms. The judge said he had betrayed the trust of voters. Prosecutors said the kickbacks totalled 2 million dollars."},
			top2:  []string{"02000000", "11000000"},
		},
		{
			name:     "market wire",
			story:    proto.Story{Headline: "Stocks slide as oil jumps; bond yields rise", Slugline: "MARKETS-GLOBAL", BodyText: "Global stocks fell on Monday and oil prices jumped after producers announced output cuts. Treasury yields rose and the dollar strengthened as investors bet the central bank would keep interest rates higher for longer."},
			top2:     nil,
			included: []string{"04000000"},
			excluded: []string{"16000000", "15000000"},
		},
		{
			name:     "trade war is not a war",
			story:    proto.Story{Headline: "Trade war fears hit exporters", BodyText: "Exporters warned that the trade war between the two largest economies would raise tariffs and hurt profits, economists said."},
			included: []string{"04000000"},
			excluded: []string{"16000000"},
		},
		{
			name:     "weather warning",
			story:    proto.Story{Headline: "Yellow warning for snow and ice", BodyText: "Forecasters issued a weather warning for snow and ice on Tuesday night, with temperatures falling to minus five Celsius and icy roads likely."},
			top2:     nil,
			included: []string{"17000000"},
			excluded: []string{"16000000", "04000000"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := topTokens(c, c.Tag(&tt.story))
			if tt.top2 != nil {
				if len(got) < 2 || !slices.Contains(tt.top2, got[0]) || !slices.Contains(tt.top2, got[1]) {
					t.Errorf("top two = %v, want %v", got, tt.top2)
				}
			}
			for _, w := range tt.included {
				if !slices.Contains(got, w) {
					t.Errorf("top-level %v lacks %s", got, w)
				}
			}
			for _, w := range tt.excluded {
				if slices.Contains(got, w) {
					t.Errorf("top-level %v has %s", got, w)
				}
			}
			if t.Failed() {
				for _, e := range c.Explain(&tt.story) {
					t.Logf("%s %d %.1f %v", e.Subject.Code, e.Subject.Relevance, e.Score, e.Terms)
				}
			}
		})
	}
}

// TestWordBoundaries checks that terms match whole words and phrases only,
// case-insensitively except for the case-sensitive acronyms.
func TestWordBoundaries(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		name, text string
		term       string // term expected in Explain ("" for none)
		notTerm    string // term that must not appear
	}{
		{"warrant is not war", "Police obtained a warrant and a warden in Warsaw was questioned.", "warrant", "war"},
		{"upper case matches", "WAR IN THE NORTH: fighting continues.", "war", ""},
		{"hyphenated phrase", "A cease-fire was agreed.", "cease-fire", ""},
		{"possessive", "The court's ruling came on Monday in the supreme court’s chamber.", "supreme court", ""},
		{"dotted acronym", "U.N. peacekeepers patrolled the area.", "peacekeepers", ""},
		{"case-sensitive acronym", "WHO officials said the outbreak was over.", "WHO", ""},
		{"lower-case acronym does not match", "People who travel were warned of an outbreak.", "outbreak", "WHO"},
		{"phrase not across sentences", "He talked about the trade. War broke out later.", "war", "trade war"},
		{"longest match", "Negotiators resumed peace talks in Doha.", "peace talks", "talks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			terms := map[string]bool{}
			for _, e := range c.Explain(&proto.Story{BodyText: tt.text}) {
				for _, h := range e.Terms {
					terms[h.Term] = true
				}
			}
			if tt.term != "" && !terms[tt.term] {
				t.Errorf("terms %v lack %q", keys(terms), tt.term)
			}
			if tt.notTerm != "" && terms[tt.notTerm] {
				t.Errorf("terms %v have %q", keys(terms), tt.notTerm)
			}
		})
	}
}

func TestExplainMatchesTag(t *testing.T) {
	c := mustLoad(t)
	story := &proto.Story{Headline: "Putin and Xi meet at summit as Russia loses ground in Ukraine", BodyText: samarkandLike}
	tags := c.Tag(story)
	exp := c.Explain(story)
	if len(tags) == 0 || len(tags) != len(exp) {
		t.Fatalf("Tag gave %d topics, Explain %d", len(tags), len(exp))
	}
	for i := range tags {
		if *tags[i] != *exp[i].Subject {
			t.Errorf("#%d: Tag %+v, Explain %+v", i, *tags[i], *exp[i].Subject)
		}
		if len(exp[i].Terms) == 0 {
			t.Errorf("%s has no terms", exp[i].Subject.Code)
		}
		var sum float64
		for j, h := range exp[i].Terms {
			if h.Weight <= 0 || h.Count <= 0 || h.Term == "" {
				t.Errorf("%s: bad hit %+v", exp[i].Subject.Code, h)
			}
			if h.Field != "headline" && h.Field != "slugline" && h.Field != "body_text" {
				t.Errorf("bad field %q", h.Field)
			}
			if j > 0 && h.Weight > exp[i].Terms[j-1].Weight {
				t.Errorf("%s: terms not sorted by weight", exp[i].Subject.Code)
			}
			sum += h.Weight
		}
		if diff := sum - exp[i].Score; diff > 0.01*exp[i].Score+0.01 || diff < -0.01*exp[i].Score-0.01 {
			t.Errorf("%s: terms sum to %.3f, score %.3f", exp[i].Subject.Code, sum, exp[i].Score)
		}
	}
	found := false
	for _, e := range exp {
		if e.Subject.Code == "medtop:16000000" {
			for _, h := range e.Terms {
				if h.Term == "invasion" && h.Field == "body_text" && h.Count == 2 {
					found = true
				}
			}
		}
	}
	if !found {
		t.Errorf("conflict topic does not show 'invasion' x2 in body_text")
	}
}

func TestTagEdgeCases(t *testing.T) {
	c := mustLoad(t)
	tests := []struct {
		name  string
		story *proto.Story
	}{
		{"nil story", nil},
		{"empty story", &proto.Story{}},
		{"no evidence", &proto.Story{Headline: "Untitled", BodyText: "Lorem ipsum dolor sit amet."}},
		{"punctuation only", &proto.Story{BodyText: strings.Repeat("... ,,, !!! ", 100)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Tag(tt.story); got != nil {
				t.Errorf("Tag = %v, want nil", subjectsString(got))
			}
			if got := c.Explain(tt.story); got != nil {
				t.Errorf("Explain = %v, want nil", got)
			}
		})
	}
}

// TestInvariants checks every labelled story: codes exist, parents are
// present and come first, relevance is 1..100 and non-increasing.
func TestInvariants(t *testing.T) {
	c := mustLoad(t)
	for _, l := range readLabelled(t) {
		t.Run(l.ID, func(t *testing.T) {
			checkInvariants(t, c, c.Tag(&proto.Story{Headline: l.Headline, BodyText: l.Body}))
		})
	}
}

func checkInvariants(t *testing.T, c *topic.Classifier, subs []*proto.Subject) {
	t.Helper()
	parents := map[string]string{}
	for _, tp := range c.Topics() {
		parents[tp.Code] = tp.Parent
	}
	seen := map[string]bool{}
	for i, s := range subs {
		if s == nil {
			t.Fatalf("#%d is nil", i)
		}
		label, ok := c.Lookup(s.Code)
		if !ok || label != s.Name || s.Scheme != proto.SchemeMedTop {
			t.Fatalf("#%d %+v: not a known Media Topic", i, *s)
		}
		if s.Relevance < 1 || s.Relevance > 100 {
			t.Fatalf("#%d %+v: relevance out of range", i, *s)
		}
		if i > 0 && s.Relevance > subs[i-1].Relevance {
			t.Fatalf("#%d %+v: more relevant than #%d", i, *s, i-1)
		}
		if seen[s.Code] {
			t.Fatalf("%s listed twice", s.Code)
		}
		if p := parents[s.Code]; p != "" && !seen[p] {
			t.Fatalf("%s listed without (or before) its parent %s", s.Code, p)
		}
		seen[s.Code] = true
	}
}

func TestConcurrentTag(t *testing.T) {
	c := mustLoad(t)
	stories := readLabelled(t)
	want := make([]string, len(stories))
	for i, l := range stories {
		want[i] = subjectsString(c.Tag(&proto.Story{Headline: l.Headline, BodyText: l.Body}))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := range stories {
				i := (k + g*7) % len(stories)
				l := stories[i]
				if got := subjectsString(c.Tag(&proto.Story{Headline: l.Headline, BodyText: l.Body})); got != want[i] {
					t.Errorf("%s: concurrent Tag = %s, want %s", l.ID, got, want[i])
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func subjectsString(subs []*proto.Subject) string {
	var b strings.Builder
	for _, s := range subs {
		fmt.Fprintf(&b, "%s:%d ", s.Code, s.Relevance)
	}
	return b.String()
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
