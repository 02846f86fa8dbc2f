// Package topic tags news stories with IPTC Media Topics
// (https://iptc.org/standards/media-topics/), the subject taxonomy used by
// ninjs and NewsML-G2, so that "medtop:11000000" means the same here as in
// any other newsroom system.
//
// The classifier is a weighted lexicon: curated terms and phrases per topic
// (data/lexicon.txt) are matched in one pass over the headline, slugline and
// body text, weighted by where they occur, damped when repeated, rolled up
// the Media Topic hierarchy and thresholded. Every topic it returns can be
// explained by the terms that produced it (Explain). The taxonomy subset and
// the lexicon are embedded in the binary; see data/SOURCES.md for the IPTC
// release, licence (CC BY 4.0) and attribution.
//
// The package has no dependency on NATS or on the pipeline runtime; the tag
// stage calls Load once and then Tag for every story.
package topic

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/wirestream/wirestream/proto"
)

// Sentinel errors returned (wrapped) by Load.
var (
	// ErrTaxonomy reports a malformed embedded taxonomy file.
	ErrTaxonomy = errors.New("topic: bad taxonomy")
	// ErrLexicon reports a malformed embedded lexicon file.
	ErrLexicon = errors.New("topic: bad lexicon")
)

//go:embed data/medtop.tsv
var medtopTSV string

//go:embed data/lexicon.txt
var lexiconTxt string

// Classifier tags stories with Media Topics. It is immutable after Load and
// safe for concurrent use.
type Classifier struct {
	tax *taxonomy
	lex *lexicon
	// byLang holds the lexicon of each other language (fr, es, de), used
	// instead of the English one for a story in that language.
	byLang  map[string]*lexicon
	scratch sync.Pool // *scratch
}

// Explained is one topic returned by Explain with the evidence behind it.
type Explained struct {
	Subject *proto.Subject
	// Score is the topic's evidence score after roll-up (the sum of its
	// terms' contributions); Relevance is derived from it.
	Score float64
	// Terms are the lexicon terms that contributed to this topic, including
	// terms attached to its subtopics, largest contribution first.
	Terms []TermHit
}

// TermHit is one lexicon term found in a story.
type TermHit struct {
	Term   string  // the lexicon term as written in lexicon.txt
	Field  string  // "headline", "slugline" or "body_text"
	Count  int     // occurrences in that field
	Weight float64 // contribution to the topic's score
	Topic  string  // the code the lexicon attaches the term to (the topic itself or a subtopic)
}

// Load builds the classifier from the embedded taxonomy and lexicon.
func Load() (*Classifier, error) {
	return load(medtopTSV, lexiconTxt, map[string]string{"fr": lexiconFr, "es": lexiconEs, "de": lexiconDe})
}

//go:embed data/lexicon-fr.txt
var lexiconFr string

//go:embed data/lexicon-es.txt
var lexiconEs string

//go:embed data/lexicon-de.txt
var lexiconDe string

func load(taxSrc, lexSrc string, langs map[string]string) (*Classifier, error) {
	tax, err := parseTaxonomy(taxSrc)
	if err != nil {
		return nil, err
	}
	lex, err := parseLexicon(lexSrc, tax)
	if err != nil {
		return nil, err
	}
	c := &Classifier{tax: tax, lex: lex, byLang: map[string]*lexicon{}}
	most := len(lex.phrases)
	for lang, src := range langs {
		l, err := parseLexicon(src, tax)
		if err != nil {
			return nil, fmt.Errorf("lexicon-%s.txt: %w", lang, err)
		}
		c.byLang[lang] = l
		most = max(most, len(l.phrases))
	}
	c.scratch.New = func() any { return newScratch(len(tax.nodes), most) }
	return c, nil
}

// lexiconFor is the lexicon for a story: its language's, else English.
func (c *Classifier) lexiconFor(s *proto.Story) *lexicon {
	lang := s.Language
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	if l, ok := c.byLang[strings.ToLower(lang)]; ok {
		return l
	}
	return c.lex
}

// Tag returns the Media Topics of a story (headline, slugline and body_text),
// most relevant first, with every subtopic's broader topics included and
// relevance in 0-100. It returns nil for a nil story or one without topical
// evidence.
func (c *Classifier) Tag(s *proto.Story) []*proto.Subject {
	if s == nil {
		return nil
	}
	sc := c.get()
	defer c.put(sc)
	c.score(sc, s)
	sel := c.selectTopics(sc)
	if len(sel) == 0 {
		return nil
	}
	subs := make([]proto.Subject, len(sel))
	out := make([]*proto.Subject, len(sel))
	for i, p := range sel {
		n := &c.tax.nodes[p.node]
		subs[i] = proto.Subject{Name: n.label, Scheme: proto.SchemeMedTop, Code: n.code, Relevance: p.relevance}
		out[i] = &subs[i]
	}
	return out
}

// Explain returns the same topics as Tag, in the same order, each with the
// terms (term, field, count, contribution) that drove it.
func (c *Classifier) Explain(s *proto.Story) []Explained {
	if s == nil {
		return nil
	}
	sc := c.get()
	defer c.put(sc)
	c.score(sc, s)
	sel := c.selectTopics(sc)
	if len(sel) == 0 {
		return nil
	}
	out := make([]Explained, len(sel))
	index := make(map[int32]int, len(sel))
	for i, p := range sel {
		n := &c.tax.nodes[p.node]
		out[i] = Explained{
			Subject: &proto.Subject{Name: n.label, Scheme: proto.SchemeMedTop, Code: n.code, Relevance: p.relevance},
			Score:   float64(sc.total[p.node]),
		}
		index[p.node] = i
	}
	for _, ph := range sc.touched {
		phr := &sc.lx.phrases[ph]
		for f := 0; f < numFields; f++ {
			k := int(ph)*numFields + f
			if sc.count[k] == 0 {
				continue
			}
			for _, tg := range phr.targets {
				hit := TermHit{
					Term:   phr.text,
					Field:  fieldNames[f],
					Count:  int(sc.count[k]),
					Weight: float64(sc.mass[k] * tg.weight),
					Topic:  c.tax.nodes[tg.node].code,
				}
				for n := tg.node; n >= 0; n = c.tax.nodes[n].parent {
					if i, ok := index[n]; ok {
						out[i].Terms = append(out[i].Terms, hit)
					}
				}
			}
		}
	}
	for i := range out {
		sortHits(out[i].Terms)
	}
	return out
}

// Lookup returns the IPTC English label of a Media Topic code
// ("medtop:11000000" or "11000000"); ok is false for an unknown code.
func (c *Classifier) Lookup(code string) (label string, ok bool) {
	i, ok := c.tax.lookup(code)
	if !ok {
		return "", false
	}
	return c.tax.nodes[i].label, true
}

// ResolveTopic maps user input to a topic token and label. It accepts a code
// ("medtop:11000000", "11000000"), an IPTC label ("politics and government",
// case-insensitive, hyphens and underscores as spaces) or the short name of
// a top-level topic ("politics", "conflict", "economy", "sport"): all of
// these give ("11000000", "politics and government") for politics. A short
// name of a top-level topic wins over an equal deeper label, so "economy"
// is medtop:04000000 (economy, business and finance), not medtop:20000344;
// use the code for the latter.
func (c *Classifier) ResolveTopic(s string) (token, label string, ok bool) {
	in := strings.TrimSpace(s)
	if i, ok := c.tax.lookup(strings.ToLower(in)); ok {
		n := &c.tax.nodes[i]
		return n.token, n.label, true
	}
	if i, ok := c.tax.names[normName(in)]; ok {
		n := &c.tax.nodes[i]
		return n.token, n.label, true
	}
	return "", "", false
}

// Topics returns the codes and labels of every topic in the embedded
// taxonomy subset, in code order.
func (c *Classifier) Topics() []Topic {
	out := make([]Topic, len(c.tax.nodes))
	for i, n := range c.tax.nodes {
		parent := ""
		if n.parent >= 0 {
			parent = c.tax.nodes[n.parent].code
		}
		out[i] = Topic{Code: n.code, Label: n.label, Parent: parent}
	}
	return out
}

// Topic is one concept of the embedded taxonomy.
type Topic struct {
	Code   string // "medtop:20000640"
	Label  string // "summit meeting"
	Parent string // "medtop:20000639", empty for a top-level topic
}

func (c *Classifier) get() *scratch   { return c.scratch.Get().(*scratch) }
func (c *Classifier) put(sc *scratch) { sc.reset(); c.scratch.Put(sc) }

// String describes the classifier's size, for logs.
func (c *Classifier) String() string {
	return fmt.Sprintf("topic classifier: %d Media Topics, %d lexicon terms", len(c.tax.nodes), len(c.lex.phrases))
}
