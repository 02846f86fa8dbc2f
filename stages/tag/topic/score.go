package topic

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/wirestream/wirestream/proto"
)

// Fields of a story that are scored, in the order they are read.
const (
	fieldHeadline = iota
	fieldSlugline
	fieldBody
	numFields
)

var fieldNames = [numFields]string{"headline", "slugline", "body_text"}

// Scoring parameters. They were set by hand on the development part of
// testdata/topics (see docs/topic-tagging.md) and are deliberately few.
const (
	weightHeadline = 3.0 // a term in the headline counts three times
	weightSlugline = 1.5
	weightLead     = 1.5  // body words before leadWords
	weightTail     = 0.75 // body words after tailWords
	leadWords      = 60
	tailWords      = 400

	minEvidence = 1.5  // no topic below this score
	relTop      = 0.12 // a top-level topic needs this share of the best one
	relSub      = 0.3  // a subtopic needs this share of its top-level topic
	maxTops     = 4
	maxSubjects = 12
	confScale   = 4.0 // relevance of the best topic is 100*(1-exp(-score/confScale))
)

// scratch is the per-call working memory, pooled so that Tag allocates only
// its result.
type scratch struct {
	lx      *lexicon // the lexicon of the story being scored
	toks    []token
	occ     []int32   // per phrase: occurrences so far (for damping)
	count   []int32   // per phrase and field: occurrences
	mass    []float32 // per phrase and field: sum of position weight x damping
	touched []int32   // phrases seen, in first-seen order
	total   []float32 // per node: rolled-up score
	kept    []bool    // per node: selected
	tops    []int32
	picks   []pick
}

type pick struct {
	node      int32
	relevance int32
}

func newScratch(nodes, phrases int) *scratch {
	return &scratch{
		toks:  make([]token, 0, 2048),
		occ:   make([]int32, phrases),
		count: make([]int32, phrases*numFields),
		mass:  make([]float32, phrases*numFields),
		total: make([]float32, nodes),
		kept:  make([]bool, nodes),
	}
}

func (sc *scratch) reset() {
	for _, p := range sc.touched {
		sc.occ[p] = 0
		for f := 0; f < numFields; f++ {
			sc.count[int(p)*numFields+f] = 0
			sc.mass[int(p)*numFields+f] = 0
		}
	}
	sc.touched = sc.touched[:0]
	clear(sc.total)
	clear(sc.kept)
	sc.tops = sc.tops[:0]
	sc.picks = sc.picks[:0]
	if cap(sc.toks) > 1<<16 { // do not keep huge buffers from outsized stories
		sc.toks = make([]token, 0, 2048)
	}
}

// damp is the weight of the k-th occurrence (k >= 1) of the same term:
// 1, 0.71, 0.58, 0.5, ... so that repetition counts, but less and less.
var damp = func() (d [64]float32) {
	for k := 1; k < len(d); k++ {
		d[k] = float32(1 / math.Sqrt(float64(k)))
	}
	return d
}()

func dampOf(k int32) float32 {
	if k < int32(len(damp)) {
		return damp[k]
	}
	return float32(1 / math.Sqrt(float64(k)))
}

// score fills sc.total with the rolled-up evidence for every topic.
func (c *Classifier) score(sc *scratch, s *proto.Story) {
	sc.lx = c.lexiconFor(s)
	c.scanField(sc, fieldHeadline, s.Headline)
	c.scanField(sc, fieldSlugline, s.Slugline)
	c.scanField(sc, fieldBody, s.BodyText)
	for _, p := range sc.touched {
		var m float32
		for f := 0; f < numFields; f++ {
			m += sc.mass[int(p)*numFields+f]
		}
		for _, tg := range sc.lx.phrases[p].targets {
			sc.total[tg.node] += m * tg.weight
		}
	}
	nodes := c.tax.nodes
	for _, n := range c.tax.order { // deepest first
		if p := nodes[n].parent; p >= 0 && sc.total[n] != 0 {
			sc.total[p] += sc.total[n]
		}
	}
}

// scanField tokenizes text and records every longest lexicon match.
func (c *Classifier) scanField(sc *scratch, field int, text string) {
	if text == "" {
		return
	}
	lx := sc.lx
	sc.toks = tokenize(sc.toks[:0], text, lx.maxExact)
	toks := sc.toks
	for i := 0; i < len(toks); {
		if toks[i].boundary {
			i++
			continue
		}
		wid := lx.word(&toks[i])
		if wid < 0 {
			i++
			continue
		}
		node := lx.rootChild[wid]
		best, bestEnd := int32(-1), i
		for j := i; node >= 0; {
			if t := lx.terminal[node]; t >= 0 {
				best, bestEnd = t, j
			}
			j++
			if !lx.hasChild[node] || j >= len(toks) || toks[j].boundary {
				break
			}
			w := lx.word(&toks[j])
			if w < 0 {
				break
			}
			node = lx.edges.get(edgeKey(node, w))
		}
		if best < 0 {
			i++
			continue
		}
		sc.hit(best, field, positionWeight(field, i))
		i = bestEnd + 1
	}
}

func (sc *scratch) hit(p int32, field int, pw float32) {
	if sc.occ[p] == 0 {
		sc.touched = append(sc.touched, p)
	}
	sc.occ[p]++
	k := int(p)*numFields + field
	sc.count[k]++
	sc.mass[k] += pw * dampOf(sc.occ[p])
}

// positionWeight weights a word by field and, in the body, by position: the
// lead paragraph says what the story is about, the tail drifts.
func positionWeight(field, pos int) float32 {
	switch field {
	case fieldHeadline:
		return weightHeadline
	case fieldSlugline:
		return weightSlugline
	}
	switch {
	case pos < leadWords:
		return weightLead
	case pos >= tailWords:
		return weightTail
	}
	return 1
}

// selectTopics thresholds the scores into the topics to return, most
// relevant first, parents before their subtopics.
func (c *Classifier) selectTopics(sc *scratch) []pick {
	nodes := c.tax.nodes
	var best float32
	for _, t := range c.tax.tops {
		if sc.total[t] > best {
			best = sc.total[t]
		}
	}
	if best < minEvidence || math.IsNaN(float64(best)) {
		return nil
	}
	conf := 1 - math.Exp(-float64(best)/confScale)
	relevance := func(n int32) int32 {
		r := int32(math.Round(100 * conf * float64(sc.total[n]/best)))
		return min(max(r, 1), 100)
	}
	kept := sc.kept
	// Top-level topics, strongest first.
	for _, t := range c.tax.tops {
		if sc.total[t] >= minEvidence && sc.total[t] >= relTop*best {
			sc.tops = append(sc.tops, t)
		}
	}
	total := sc.total
	slices.SortStableFunc(sc.tops, func(a, b int32) int { return cmp.Compare(total[b], total[a]) })
	for i, t := range sc.tops {
		if i == maxTops {
			break
		}
		kept[t] = true
		sc.picks = append(sc.picks, pick{node: t, relevance: relevance(t)})
	}
	// Subtopics, shallowest first so that a parent is decided before its
	// children.
	for i := len(c.tax.order) - 1; i >= 0; i-- {
		n := c.tax.order[i]
		nd := &nodes[n]
		if nd.parent < 0 || !kept[nd.parent] {
			continue
		}
		s := sc.total[n]
		if s >= minEvidence && s >= relSub*sc.total[nd.top] {
			kept[n] = true
			sc.picks = append(sc.picks, pick{node: n, relevance: relevance(n)})
		}
	}
	picks := sc.picks
	slices.SortFunc(picks, func(a, b pick) int {
		if c := cmp.Compare(total[b.node], total[a.node]); c != 0 {
			return c
		}
		if c := cmp.Compare(nodes[a.node].depth, nodes[b.node].depth); c != 0 {
			return c
		}
		return cmp.Compare(a.node, b.node)
	})
	if len(picks) > maxSubjects {
		picks = picks[:maxSubjects]
	}
	return picks
}

func sortHits(h []TermHit) {
	sort.Slice(h, func(i, j int) bool {
		if h[i].Weight != h[j].Weight {
			return h[i].Weight > h[j].Weight
		}
		if h[i].Term != h[j].Term {
			return h[i].Term < h[j].Term
		}
		if h[i].Field != h[j].Field {
			return h[i].Field < h[j].Field
		}
		return h[i].Topic < h[j].Topic
	})
}
