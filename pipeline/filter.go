package pipeline

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wirestream/wirestream/proto"
)

// Filter selects stories of the output stream. Every list that is given
// must match (AND); a list matches when any of its values does (OR). The
// zero Filter matches every story.
type Filter struct {
	// Regions are region codes as proto.RegionToken reads them ("UZ",
	// "143"); a story matches when it is announced on one of their nodes
	// (the tag stage adds the roll-ups, so "143" matches a story about
	// Uzbekistan).
	Regions []string
	// Topics are Media Topic codes ("medtop:11000000" or "11000000"),
	// matched on the story's topic nodes (parents are present by contract).
	Topics []string
	// MaxUrgency, when 1 to 9, keeps stories of at most this urgency (1 is
	// the most urgent); stories without an urgency do not match. 0: any.
	MaxUrgency int
	// Languages are BCP 47 tags, compared case-insensitively: a bare
	// primary subtag ("en") matches every tag with it ("en", "en-GB"); a
	// longer tag ("pt-BR") matches itself and its extensions ("pt-BR-x").
	Languages []string
	// Statuses are "new", "update" or "kill" (see Status).
	Statuses []string
}

// Validate reports the first value of f that no story could match.
func (f Filter) Validate() error {
	for _, r := range f.Regions {
		if _, err := proto.RegionToken(r); err != nil {
			return err
		}
	}
	for _, t := range f.Topics {
		if _, err := proto.TopicToken(t); err != nil {
			return err
		}
	}
	if f.MaxUrgency < 0 || f.MaxUrgency > 9 {
		return fmt.Errorf("%w: urgency %d: a number from 1 (most urgent) to 9, or 0 for any", ErrConfig, f.MaxUrgency)
	}
	for _, l := range f.Languages {
		if !validLanguage(l) {
			return fmt.Errorf("%w: language %q: a BCP 47 tag such as en or pt-BR", ErrConfig, l)
		}
	}
	for _, s := range f.Statuses {
		switch s {
		case proto.DedupeNew, proto.DedupeUpdate, proto.DedupeKill:
		default:
			return fmt.Errorf("%w: status %q: new, update or kill", ErrConfig, s)
		}
	}
	return nil
}

// validLanguage: 1 to 35 bytes of subtags of 1 to 8 letters or digits
// separated by '-', the first of letters.
func validLanguage(l string) bool {
	if l == "" || len(l) > 35 {
		return false
	}
	for i, sub := range strings.Split(l, "-") {
		if sub == "" || len(sub) > 8 {
			return false
		}
		for j := 0; j < len(sub); j++ {
			c := sub[j] | 0x20
			letter := c >= 'a' && c <= 'z'
			if !letter && (i == 0 || sub[j] < '0' || sub[j] > '9') {
				return false
			}
		}
	}
	return true
}

// Status is the status a subscriber filters on: "kill" for a canceled
// story or one dedupe marked as a kill, else the dedupe status ("new",
// "update"), "new" when dedupe did not run. The output carries it in the
// Ws-Status header.
func Status(s *proto.Story) string {
	if s.Canceled() || (s.Dedupe != nil && s.Dedupe.Status == proto.DedupeKill) {
		return proto.DedupeKill
	}
	if s.Dedupe != nil && s.Dedupe.Status != "" {
		return s.Dedupe.Status
	}
	return proto.DedupeNew
}

// Match reports whether s passes f. nodes is the story's Ws-Nodes header
// (its node subjects, space-separated); region and topic values are
// compared with the last token of each node exactly, never as a suffix
// ("43" does not match region 143). An empty nodes is read from the story
// itself: its country and M49 places and Media Topic subjects.
func (f Filter) Match(s *proto.Story, nodes string) bool {
	if len(f.Regions) > 0 || len(f.Topics) > 0 {
		var regions, topics []string
		if nodes != "" {
			regions, topics = splitNodes(nodes)
		} else {
			regions, topics = storyNodes(s)
		}
		if len(f.Regions) > 0 && !anyToken(f.Regions, regions, proto.RegionToken) {
			return false
		}
		if len(f.Topics) > 0 && !anyToken(f.Topics, topics, proto.TopicToken) {
			return false
		}
	}
	if f.MaxUrgency > 0 && (s.Urgency < 1 || int(s.Urgency) > f.MaxUrgency) {
		return false
	}
	if len(f.Languages) > 0 && !languageMatches(f.Languages, s.Language) {
		return false
	}
	if len(f.Statuses) > 0 {
		st := Status(s)
		ok := false
		for _, want := range f.Statuses {
			ok = ok || want == st
		}
		if !ok {
			return false
		}
	}
	return true
}

// splitNodes returns the region and topic tokens of a Ws-Nodes list.
func splitNodes(nodes string) (regions, topics []string) {
	for _, n := range strings.Fields(nodes) {
		if i := strings.LastIndex(n, ".out.region."); i >= 0 {
			regions = append(regions, n[i+len(".out.region."):])
		} else if i := strings.LastIndex(n, ".out.topic."); i >= 0 {
			topics = append(topics, n[i+len(".out.topic."):])
		}
	}
	return regions, topics
}

// storyNodes returns the region and topic tokens of a story's own places
// and subjects (what the publish stage announces it on).
func storyNodes(s *proto.Story) (regions, topics []string) {
	for _, p := range s.Place {
		if t := proto.PlaceToken(p); t != "" {
			regions = append(regions, t)
		}
	}
	for _, sub := range s.Subject {
		if t := proto.SubjectToken(sub); t != "" {
			topics = append(topics, t)
		}
	}
	return regions, topics
}

func anyToken(want, have []string, norm func(string) (string, error)) bool {
	for _, w := range want {
		t, err := norm(w)
		if err != nil {
			continue
		}
		for _, h := range have {
			if h == t {
				return true
			}
		}
	}
	return false
}

// languageMatches: a filter tag matches the story's tag when equal or a
// prefix of it at a subtag boundary, case-insensitively.
func languageMatches(want []string, lang string) bool {
	if lang == "" {
		return false
	}
	for _, w := range want {
		if len(lang) >= len(w) && strings.EqualFold(lang[:len(w)], w) && (len(lang) == len(w) || lang[len(w)] == '-' || lang[len(w)] == '_') {
			return true
		}
	}
	return false
}

// Subjects returns the narrowest output subjects that carry every story f
// can match, each such story once: the node subject of its region when f
// names exactly one region, else of its topic when it names exactly one
// topic, else Names.OutAll. The rest of f is checked on each message
// (Match, or the Ws-Nodes, Ws-Urgency, Ws-Language and Ws-Status headers
// for a client in another language). Several regions (or topics) cannot be
// one server-side filter without delivering a story on two of them twice,
// so they read OutAll.
func (f Filter) Subjects(n proto.Names) []string {
	if len(f.Regions) == 1 {
		if t, err := proto.RegionToken(f.Regions[0]); err == nil {
			return []string{n.Region(t)}
		}
	}
	if len(f.Topics) == 1 {
		if t, err := proto.TopicToken(f.Topics[0]); err == nil {
			return []string{n.Topic(t)}
		}
	}
	return []string{n.OutAll()}
}

// filterHeaders sets the headers a client filters on without decoding the
// story: Ws-Urgency (when set), Ws-Language (when set), Ws-Status.
func filterHeaders(h map[string][]string, s *proto.Story) {
	if s.Urgency > 0 {
		h[proto.HeaderUrgency] = []string{strconv.Itoa(int(s.Urgency))}
	}
	if l := headerToken(s.Language); l != "" {
		h[proto.HeaderLanguage] = []string{l}
	}
	h[proto.HeaderStatus] = []string{Status(s)}
}

// headerToken keeps a short value safe in a header: at most 35 bytes of
// letters, digits, '-' and '_' (a language tag); anything else gives "".
func headerToken(v string) string {
	if len(v) > 35 || proto.Token(v) != v {
		return ""
	}
	return v
}
