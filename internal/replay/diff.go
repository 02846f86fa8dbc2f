package replay

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// DiffConfig says what Diff compares: the enriched output of A (a replay
// namespace, the new run) against B (the live pipeline or another
// namespace), story by story: same uri and version.
type DiffConfig struct {
	A, B proto.Names
	// Threshold is the smallest relevance move reported for a place or
	// topic both sides have (default 10 points of 100).
	Threshold int
}

// Change is what differs for one story (uri and version) between A and B.
// Added means in A and not in B. Only is "a" or "b" when the story is on
// one side alone (then nothing else is set).
type Change struct {
	URI           string      `json:"uri"`
	Version       string      `json:"version,omitempty"`
	Only          string      `json:"only,omitempty"`
	PlacesAdded   []string    `json:"places_added,omitempty"`
	PlacesRemoved []string    `json:"places_removed,omitempty"`
	TopicsAdded   []string    `json:"topics_added,omitempty"`
	TopicsRemoved []string    `json:"topics_removed,omitempty"`
	Relevance     []Move      `json:"relevance,omitempty"`
	Dedupe        *DedupeDiff `json:"dedupe,omitempty"`
}

// Move is a relevance that moved by Threshold or more.
type Move struct {
	Code string `json:"code"`
	From int32  `json:"from"` // in B
	To   int32  `json:"to"`   // in A
}

// DedupeDiff is a dedupe decision that differs: To in A, From in B.
type DedupeDiff struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Change kinds counted in DiffSummary.Kinds.
const (
	KindPlaceAdded   = "place_added"
	KindPlaceRemoved = "place_removed"
	KindTopicAdded   = "topic_added"
	KindTopicRemoved = "topic_removed"
	KindRelevance    = "relevance_moved"
	KindDedupe       = "dedupe_changed"
	KindOnlyA        = "only_in_a"
	KindOnlyB        = "only_in_b"
)

// DiffSummary counts a comparison.
type DiffSummary struct {
	StoriesA, StoriesB int // stories (uri and version) read on each side
	Compared           int // on both sides
	Changed            int // stories with at least one change
	Kinds              map[string]int
	// Per code ("iso3166-1a2:UZ", "un-m49:143", "geonames:1216265",
	// "medtop:11000000"): how many stories gained it in A or lost it.
	Gained, Lost map[string]int
}

// side is what Diff keeps of one story of B (and reads of A).
type side struct {
	places, topics map[string]int32 // code → relevance
	dedupe         string
}

func summarize(s *proto.Story) side {
	sd := side{places: make(map[string]int32, len(s.Place)), topics: make(map[string]int32, len(s.Subject)), dedupe: proto.DedupeNew}
	for _, p := range s.Place {
		if p.Code != "" {
			sd.places[p.Scheme+":"+p.Code] = p.Relevance
		}
	}
	for _, t := range s.Subject {
		if t.Code != "" {
			code := t.Code
			if t.Scheme != "" && t.Scheme != proto.SchemeMedTop {
				code = t.Scheme + ":" + t.Code
			}
			sd.topics[code] = t.Relevance
		}
	}
	if s.Dedupe != nil && s.Dedupe.Status != "" {
		sd.dedupe = s.Dedupe.Status
	}
	return sd
}

// Diff compares the output of cfg.A with cfg.B and calls fn with each
// story that changed, in A's output order, then those only B has. B is
// indexed in memory (a few hundred bytes per story); A is streamed.
func Diff(ctx context.Context, js jetstream.JetStream, cfg DiffConfig, fn func(Change) error) (DiffSummary, error) {
	if cfg.Threshold <= 0 {
		cfg.Threshold = 10
	}
	sum := DiffSummary{Kinds: map[string]int{}, Gained: map[string]int{}, Lost: map[string]int{}}
	b := make(map[string]side)
	order := make(map[string]int) // B's output order, for the only-in-B tail
	err := readDecisions(ctx, js, cfg.B, func(s *proto.Story) error {
		k := s.URI + "\x00" + s.Version
		if _, ok := b[k]; !ok {
			order[k] = len(order)
			sum.StoriesB++
		}
		b[k] = summarize(s)
		return nil
	})
	if err != nil {
		return sum, err
	}
	seenA := make(map[string]bool)
	err = readDecisions(ctx, js, cfg.A, func(s *proto.Story) error {
		k := s.URI + "\x00" + s.Version
		if seenA[k] {
			return nil
		}
		seenA[k] = true
		sum.StoriesA++
		a := summarize(s)
		old, ok := b[k]
		if !ok {
			sum.Kinds[KindOnlyA]++
			sum.Changed++
			return fn(Change{URI: s.URI, Version: s.Version, Only: "a"})
		}
		delete(b, k)
		sum.Compared++
		c := Change{URI: s.URI, Version: s.Version}
		c.PlacesAdded, c.PlacesRemoved, c.Relevance = compare(a.places, old.places, cfg.Threshold, c.Relevance)
		c.TopicsAdded, c.TopicsRemoved, c.Relevance = compare(a.topics, old.topics, cfg.Threshold, c.Relevance)
		if a.dedupe != old.dedupe {
			c.Dedupe = &DedupeDiff{From: old.dedupe, To: a.dedupe}
			sum.Kinds[KindDedupe]++
		}
		count := func(kind string, codes []string, into map[string]int) {
			if len(codes) > 0 {
				sum.Kinds[kind]++
			}
			for _, code := range codes {
				into[code]++
			}
		}
		count(KindPlaceAdded, c.PlacesAdded, sum.Gained)
		count(KindPlaceRemoved, c.PlacesRemoved, sum.Lost)
		count(KindTopicAdded, c.TopicsAdded, sum.Gained)
		count(KindTopicRemoved, c.TopicsRemoved, sum.Lost)
		if len(c.Relevance) > 0 {
			sum.Kinds[KindRelevance]++
		}
		if len(c.PlacesAdded)+len(c.PlacesRemoved)+len(c.TopicsAdded)+len(c.TopicsRemoved)+len(c.Relevance) == 0 && c.Dedupe == nil {
			return nil
		}
		sum.Changed++
		return fn(c)
	})
	if err != nil {
		return sum, err
	}
	rest := make([]string, 0, len(b))
	for k := range b {
		rest = append(rest, k)
	}
	sort.Slice(rest, func(i, j int) bool { return order[rest[i]] < order[rest[j]] })
	for _, k := range rest {
		uri, version := k, ""
		for i := 0; i < len(k); i++ {
			if k[i] == 0 {
				uri, version = k[:i], k[i+1:]
				break
			}
		}
		sum.Kinds[KindOnlyB]++
		sum.Changed++
		if err := fn(Change{URI: uri, Version: version, Only: "b"}); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// compare returns the codes of a not in b, of b not in a, and appends the
// relevance moves of codes in both by threshold or more.
func compare(a, b map[string]int32, threshold int, moves []Move) (added, removed []string, _ []Move) {
	for code, ra := range a {
		rb, ok := b[code]
		if !ok {
			added = append(added, code)
			continue
		}
		if d := int(ra) - int(rb); d >= threshold || -d >= threshold {
			moves = append(moves, Move{Code: code, From: rb, To: ra})
		}
	}
	for code := range b {
		if _, ok := a[code]; !ok {
			removed = append(removed, code)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	sort.Slice(moves, func(i, j int) bool { return moves[i].Code < moves[j].Code })
	return added, removed, moves
}

// readDecisions reads every story a namespace decided on, as it stands
// now: the full stories of its output (published) and of its audit
// (duplicates, stale versions: not published).
func readDecisions(ctx context.Context, js jetstream.JetStream, n proto.Names, fn func(*proto.Story) error) error {
	if err := readStream(ctx, js, n.OutStream(), n.OutAll(), fn); err != nil {
		return err
	}
	return readStream(ctx, js, n.AuditStream(), n.AuditAll(), fn)
}

// readStream reads the messages on subject of a stream, up to its last
// message when the read began, decoding each as a story.
func readStream(ctx context.Context, js jetstream.JetStream, name, subject string, fn func(*proto.Story) error) error {
	stream, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("no stream %s: is the namespace there? (wirestream namespaces lists them)", name)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	last := stream.CachedInfo().State.LastSeq
	if stream.CachedInfo().State.Msgs == 0 {
		return nil
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			if md.Sequence.Stream > last {
				return nil
			}
			enc, err := proto.ParseEncoding(m.Headers().Get(proto.HeaderEncoding))
			if err != nil {
				return fmt.Errorf("%s message %d: %w", name, md.Sequence.Stream, err)
			}
			s, err := proto.Unmarshal(enc, m.Data())
			if err != nil {
				return fmt.Errorf("%s message %d: %w", name, md.Sequence.Stream, err)
			}
			if err := fn(s); err != nil {
				return err
			}
			if md.Sequence.Stream >= last {
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("%s: %w", name, err)
		}
		if got == 0 {
			return nil // nothing more on the subject up to last
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// Top returns the n codes with the largest counts, largest first (ties by
// code), as "code (count)".
func Top(m map[string]int, n int) []string {
	codes := make([]string, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if m[codes[i]] != m[codes[j]] {
			return m[codes[i]] > m[codes[j]]
		}
		return codes[i] < codes[j]
	})
	if len(codes) > n {
		codes = codes[:n]
	}
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = c + " (" + strconv.Itoa(m[c]) + ")"
	}
	return out
}

// NamespaceInfo describes one replay namespace.
type NamespaceInfo struct {
	Name                                  string
	Raw, Published, Audited, DeadLettered uint64
	Bytes                                 uint64 // of all its streams
	Created                               time.Time
	Interrupted                           bool // a checkpoint is waiting for replay --resume
}

// Namespaces lists the replay namespaces on the server, by name.
func Namespaces(ctx context.Context, js jetstream.JetStream, live proto.Names) ([]NamespaceInfo, error) {
	const prefix = "WS_NS_"
	byName := map[string]*NamespaceInfo{}
	var streams []*jetstream.StreamInfo
	lister := js.ListStreams(ctx)
	for si := range lister.Info() {
		streams = append(streams, si)
	}
	if err := lister.Err(); err != nil {
		return nil, err
	}
	for _, si := range streams {
		if name, ok := strings.CutSuffix(si.Config.Name, "_RAW"); ok && strings.HasPrefix(name, prefix) {
			n := strings.ToLower(strings.TrimPrefix(name, prefix))
			byName[n] = &NamespaceInfo{Name: n, Raw: si.State.Msgs, Created: si.Created}
		}
	}
	for n, info := range byName {
		names, err := proto.Namespace(n)
		if err != nil {
			continue
		}
		own := []string{names.RawStream(), names.OutStream(), names.AuditStream(), names.DLQStream(),
			names.DedupeLogStream(), "KV_" + names.DedupeBucket(), "KV_" + names.LeaseBucket()}
		work := regexp.MustCompile("^" + regexp.QuoteMeta(names.WorkStream()) + "(_[0-9]+)?$")
		for _, si := range streams {
			if slices.Contains(own, si.Config.Name) || work.MatchString(si.Config.Name) {
				info.Bytes += si.State.Bytes
			}
		}
		info.Published, _ = pipeline.CountMsgs(ctx, js, names.OutStream(), names.OutAll())
		info.Audited, _ = pipeline.CountMsgs(ctx, js, names.AuditStream(), "")
		info.DeadLettered, _ = pipeline.CountMsgs(ctx, js, names.DLQStream(), "")
	}
	if kv, err := js.KeyValue(ctx, live.StreamPrefix+"_REPLAY"); err == nil {
		for n, info := range byName {
			if _, err := kv.Get(ctx, proto.Token(n)); err == nil {
				info.Interrupted = true
			}
		}
	}
	out := make([]NamespaceInfo, 0, len(byName))
	for _, info := range byName {
		out = append(out, *info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
