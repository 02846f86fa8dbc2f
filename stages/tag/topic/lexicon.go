package topic

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// The lexicon (data/lexicon.txt) attaches weighted terms to Media Topics:
//
//	# comment
//	[20000640] summit meeting        <- section: code and its IPTC label (checked)
//	3    summit, summit meeting      <- weight, then comma-separated terms
//	1.5  =G7, =G20                   <- "=" marks a case-sensitive single word
//	2    market (1), markets         <- "(w)" after a term overrides the line's weight
//
// A term is one word or a phrase of words; it is tokenized exactly like story
// text, so "coup d'etat" and "coup d’état" mean what they say. When several
// terms overlap at a position the longest wins, so "trade war" (economy)
// consumes "war" (conflict). The same term may appear under several topics.

// target is one (topic, weight) pair of a lexicon term.
type target struct {
	node   int32
	weight float32
}

// phrase is one lexicon term and the topics it points to.
type phrase struct {
	text    string
	targets []target
}

// lexicon is the compiled matcher: word vocabularies, the phrase trie and
// the phrases.
type lexicon struct {
	lowerWords *table  // lower-case word hash -> word id
	exactWords *table  // case-sensitive word hash -> word id
	seen       *bloom  // every key of lowerWords and exactWords
	maxExact   int     // bytes in the longest case-sensitive word
	edges      *table  // edgeKey(node, word) -> child trie node
	rootChild  []int32 // word id -> trie node after that word, or -1
	hasChild   []bool  // trie node -> has outgoing edges
	terminal   []int32 // trie node -> phrase, or -1
	phrases    []phrase
}

func parseLexicon(src string, tax *taxonomy) (*lexicon, error) {
	lowerIDs := map[uint64]int32{}
	exactIDs := map[uint64]int32{}
	edges := map[uint64]int32{}
	type edge struct{ from, word, to int32 }
	var edgeList []edge
	terminal := []int32{-1} // trie node 0 is the root
	var phrases []phrase
	byText := map[string]int32{}
	maxExact := 0
	var toks []token

	wordID := func(m map[uint64]int32, h uint64) int32 {
		id, ok := m[h]
		if !ok {
			id = int32(len(lowerIDs) + len(exactIDs))
			m[h] = id
		}
		return id
	}

	cur := int32(-1)
	sc := bufio.NewScanner(strings.NewReader(src))
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			end := strings.Index(line, "]")
			if end < 0 {
				return nil, fmt.Errorf("%w: line %d: unclosed section", ErrLexicon, ln)
			}
			n, ok := tax.lookup(line[1:end])
			if !ok {
				return nil, fmt.Errorf("%w: line %d: unknown topic %q", ErrLexicon, ln, line[1:end])
			}
			if label := strings.TrimSpace(line[end+1:]); label != tax.nodes[n].label {
				return nil, fmt.Errorf("%w: line %d: %s is %q in the taxonomy, not %q", ErrLexicon, ln, tax.nodes[n].token, tax.nodes[n].label, label)
			}
			cur = n
			continue
		}
		if cur < 0 {
			return nil, fmt.Errorf("%w: line %d: term before the first [code] section", ErrLexicon, ln)
		}
		ws, rest, ok := strings.Cut(line, " ")
		w, err := strconv.ParseFloat(ws, 32)
		if !ok || err != nil || w <= 0 || w > 10 {
			return nil, fmt.Errorf("%w: line %d: want a weight in (0,10] then terms", ErrLexicon, ln)
		}
		for _, term := range strings.Split(rest, ",") {
			term = strings.TrimSpace(term)
			tw := w
			if open := strings.LastIndex(term, "("); open > 0 && strings.HasSuffix(term, ")") {
				v, err := strconv.ParseFloat(strings.TrimSpace(term[open+1:len(term)-1]), 32)
				if err != nil || v <= 0 || v > 10 {
					return nil, fmt.Errorf("%w: line %d: bad weight in %q", ErrLexicon, ln, term)
				}
				tw, term = v, strings.TrimSpace(term[:open])
			}
			if term == "" {
				return nil, fmt.Errorf("%w: line %d: empty term", ErrLexicon, ln)
			}
			caseSensitive := strings.HasPrefix(term, "=")
			toks = tokenize(toks[:0], strings.TrimPrefix(term, "="), 1<<30)
			if len(toks) == 0 {
				return nil, fmt.Errorf("%w: line %d: term %q has no words", ErrLexicon, ln, term)
			}
			if caseSensitive && len(toks) != 1 {
				return nil, fmt.Errorf("%w: line %d: case-sensitive term %q must be one word", ErrLexicon, ln, term)
			}
			node := int32(0)
			for _, t := range toks {
				if t.boundary {
					return nil, fmt.Errorf("%w: line %d: term %q contains sentence punctuation", ErrLexicon, ln, term)
				}
				var wid int32
				if caseSensitive {
					if !t.hasUpper {
						return nil, fmt.Errorf("%w: line %d: case-sensitive term %q has no upper-case letter", ErrLexicon, ln, term)
					}
					wid = wordID(exactIDs, t.exact)
					maxExact = max(maxExact, len(strings.TrimPrefix(term, "=")))
				} else {
					wid = wordID(lowerIDs, t.lower)
				}
				k := edgeKey(node, wid)
				child, ok := edges[k]
				if !ok {
					child = int32(len(terminal))
					terminal = append(terminal, -1)
					edges[k] = child
					edgeList = append(edgeList, edge{node, wid, child})
				}
				node = child
			}
			p := terminal[node]
			if p < 0 {
				p = int32(len(phrases))
				phrases = append(phrases, phrase{text: strings.TrimPrefix(term, "=")})
				terminal[node] = p
			}
			if prev, dup := byText[term]; dup && prev != p {
				return nil, fmt.Errorf("%w: line %d: %q duplicates another spelling of the same words", ErrLexicon, ln, term)
			}
			byText[term] = p
			for _, tg := range phrases[p].targets {
				if tg.node == cur {
					return nil, fmt.Errorf("%w: line %d: %q listed twice under %s", ErrLexicon, ln, term, tax.nodes[cur].token)
				}
			}
			phrases[p].targets = append(phrases[p].targets, target{node: cur, weight: float32(tw)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLexicon, err)
	}
	if len(phrases) == 0 {
		return nil, fmt.Errorf("%w: no terms", ErrLexicon)
	}
	lx := &lexicon{
		lowerWords: newTable(len(lowerIDs)),
		exactWords: newTable(len(exactIDs)),
		seen:       new(bloom),
		maxExact:   maxExact,
		edges:      newTable(len(edges)),
		rootChild:  make([]int32, len(lowerIDs)+len(exactIDs)),
		hasChild:   make([]bool, len(terminal)),
		terminal:   terminal,
		phrases:    phrases,
	}
	for h, id := range lowerIDs {
		lx.lowerWords.put(h, id)
		lx.seen.add(h)
	}
	for h, id := range exactIDs {
		lx.exactWords.put(h, id)
		lx.seen.add(h)
	}
	for w := range lx.rootChild {
		lx.rootChild[w] = -1
	}
	for _, e := range edgeList {
		lx.edges.put(edgeKey(e.from, e.word), e.to)
		lx.hasChild[e.from] = true
		if e.from == 0 {
			lx.rootChild[e.word] = e.to
		}
	}
	return lx, nil
}

// word maps a token to its vocabulary id, or -1. A case-sensitive entry wins
// over the lower-cased one, so "US" is the country while "us" is not.
func (lx *lexicon) word(t *token) int32 {
	if t.hasUpper && lx.seen.has(t.exact) {
		if id := lx.exactWords.get(t.exact); id >= 0 {
			return id
		}
	}
	if !lx.seen.has(t.lower) {
		return -1
	}
	return lx.lowerWords.get(t.lower)
}
