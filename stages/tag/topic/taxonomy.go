package topic

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"github.com/wirestream/wirestream/proto"
)

// node is one Media Topic concept.
type node struct {
	token  string // "11000000"
	code   string // "medtop:11000000"
	label  string // IPTC en-GB prefLabel
	parent int32  // index of the broader concept, -1 for a top-level one
	top    int32  // index of the top-level ancestor (itself for a top-level one)
	depth  int    // 1 for top-level concepts
}

// taxonomy is the parsed medtop.tsv.
type taxonomy struct {
	nodes   []node
	byToken map[string]int32
	// order lists node indices deepest first, for rolling scores up.
	order []int32
	// tops lists the top-level nodes in code order.
	tops []int32
	// names maps lower-cased labels and aliases to nodes, for ResolveTopic.
	names map[string]int32
}

// parseTaxonomy reads the tab-separated "code, parent, label" file.
func parseTaxonomy(src string) (*taxonomy, error) {
	type row struct{ code, parent, label string }
	var rows []row
	sc := bufio.NewScanner(strings.NewReader(src))
	for ln := 1; sc.Scan(); ln++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: medtop.tsv line %d: want 3 tab-separated fields, got %d", ErrTaxonomy, ln, len(f))
		}
		for i, x := range f[:2] {
			if x == "" && i == 1 {
				continue
			}
			if _, err := proto.TopicToken(x); err != nil || len(x) != 8 {
				return nil, fmt.Errorf("%w: medtop.tsv line %d: bad code %q", ErrTaxonomy, ln, x)
			}
		}
		if strings.TrimSpace(f[2]) == "" {
			return nil, fmt.Errorf("%w: medtop.tsv line %d: empty label", ErrTaxonomy, ln)
		}
		rows = append(rows, row{f[0], f[1], f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTaxonomy, err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].code < rows[j].code })

	t := &taxonomy{byToken: make(map[string]int32, len(rows)), names: make(map[string]int32)}
	for i, r := range rows {
		if _, dup := t.byToken[r.code]; dup {
			return nil, fmt.Errorf("%w: duplicate code %s", ErrTaxonomy, r.code)
		}
		t.byToken[r.code] = int32(i)
		t.nodes = append(t.nodes, node{token: r.code, code: proto.SchemeMedTop + ":" + r.code, label: r.label, parent: -1})
	}
	for i, r := range rows {
		if r.parent == "" {
			continue
		}
		p, ok := t.byToken[r.parent]
		if !ok {
			return nil, fmt.Errorf("%w: %s has unknown parent %s", ErrTaxonomy, r.code, r.parent)
		}
		t.nodes[i].parent = p
	}
	for i := range t.nodes {
		d, top := 1, int32(i)
		for p := t.nodes[i].parent; p >= 0; p = t.nodes[p].parent {
			d++
			top = p
			if d > 10 {
				return nil, fmt.Errorf("%w: cycle through %s", ErrTaxonomy, t.nodes[i].token)
			}
		}
		t.nodes[i].depth, t.nodes[i].top = d, top
		if d == 1 {
			t.tops = append(t.tops, int32(i))
		}
	}
	if len(t.tops) != 17 {
		return nil, fmt.Errorf("%w: want 17 top-level topics, got %d", ErrTaxonomy, len(t.tops))
	}
	t.order = make([]int32, len(t.nodes))
	for i := range t.order {
		t.order[i] = int32(i)
	}
	sort.SliceStable(t.order, func(i, j int) bool { return t.nodes[t.order[i]].depth > t.nodes[t.order[j]].depth })

	// Names for ResolveTopic, in increasing priority so later writes win:
	// deeper labels, then top-level short names ("politics" for "politics
	// and government", "conflict" for "conflict, war and peace"), then
	// top-level labels. Among deeper labels the shallower concept wins.
	for _, i := range t.order { // deepest first, so shallower overwrite
		if t.nodes[i].depth > 1 {
			t.names[normName(t.nodes[i].label)] = i
		}
	}
	for _, i := range t.tops {
		t.names[normName(shortName(t.nodes[i].label))] = i
	}
	for _, i := range t.tops {
		t.names[normName(t.nodes[i].label)] = i
	}
	return t, nil
}

// shortName is the first item of a label: "economy, business and finance"
// -> "economy", "politics and government" -> "politics".
func shortName(label string) string {
	if i := strings.Index(label, ","); i > 0 {
		label = label[:i]
	}
	if i := strings.Index(label, " and "); i > 0 {
		label = label[:i]
	}
	return label
}

// normName lower-cases s and folds runs of spaces, hyphens and underscores
// into single spaces.
func normName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", " ", "_", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// lookup finds a node by code ("medtop:11000000" or "11000000").
func (t *taxonomy) lookup(code string) (int32, bool) {
	tok, err := proto.TopicToken(code)
	if err != nil {
		return -1, false
	}
	i, ok := t.byToken[tok]
	return i, ok
}
