package enrich

import (
	"fmt"
	"io"
	"strings"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag"
)

// WriteExplanation prints, for a person, why a story got its places and
// topics: each tag with the text that matched, where, and by which rule or
// lexicon term.
func WriteExplanation(w io.Writer, s *proto.Story, e tag.Explanation) {
	fmt.Fprintf(w, "# %s %q\n", s.URI, s.Headline)
	for _, p := range e.Places {
		if p.Place.Scheme == proto.SchemeGeoNames {
			at := ""
			if g := p.Place.Geometry; g != nil && len(g.Coordinates) == 2 {
				at = fmt.Sprintf(" at %.5f,%.5f", g.Coordinates[0], g.Coordinates[1])
			}
			fmt.Fprintf(w, "  city  %-8s %-18s %-9s relevance %3d%s:", p.Place.Code, p.Place.Name, p.Place.Rel, p.Place.Relevance, at)
		} else {
			fmt.Fprintf(w, "  place %-4s %-22s %-9s relevance %3d:", p.Place.Code, p.Place.Name, p.Place.Rel, p.Place.Relevance)
		}
		for i, ev := range p.Evidence {
			if i == 6 {
				fmt.Fprintf(w, " (+%d more)", len(p.Evidence)-i)
				break
			}
			fmt.Fprintf(w, " %q %s[%d:%d] %s;", ev.Text, ev.Field, ev.Start, ev.End, ev.Rule)
		}
		fmt.Fprintln(w)
	}
	if len(e.NotCities) > 0 {
		fmt.Fprint(w, "  not a city:")
		for i, ev := range e.NotCities {
			if i == 8 {
				fmt.Fprintf(w, " (+%d more)", len(e.NotCities)-i)
				break
			}
			fmt.Fprintf(w, " %q %s[%d:%d] %s;", ev.Text, ev.Field, ev.Start, ev.End, ev.Rule)
		}
		fmt.Fprintln(w)
	}
	for _, t := range e.Topics {
		fmt.Fprintf(w, "  topic %s %-32s relevance %3d score %.1f:", t.Subject.Code, t.Subject.Name, t.Subject.Relevance, t.Score)
		var terms []string
		for i, h := range t.Terms {
			if i == 8 {
				terms = append(terms, fmt.Sprintf("(+%d more)", len(t.Terms)-i))
				break
			}
			terms = append(terms, fmt.Sprintf("%q %s×%d %+.1f", h.Term, h.Field, h.Count, h.Weight))
		}
		fmt.Fprintf(w, " %s\n", strings.Join(terms, ", "))
	}
}
