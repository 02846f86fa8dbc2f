package pipeline

import (
	"context"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"maps"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/wirestream/wirestream/proto"
)

// Output decides where and how a stage's results are published.
type Output interface {
	// publish sends one result and returns once JetStream acknowledged
	// every message it needed.
	publish(ctx context.Context, p *publisher, in *inbound, s *proto.Story) error
}

// Route picks the subject and encoding of one result.
type Route func(s *proto.Story) (subject string, enc proto.Encoding)

// Forward publishes each result once, on the subject route picks.
func Forward(route Route) Output { return forward{route: route} }

// To publishes every result on one subject in one encoding.
func To(subject string, enc proto.Encoding) Output {
	return forward{route: func(*proto.Story) (string, proto.Encoding) { return subject, enc }}
}

type forward struct{ route Route }

func (f forward) publish(ctx context.Context, p *publisher, in *inbound, s *proto.Story) error {
	subject, enc := f.route(s)
	m, err := storyMsg(subject, enc, s, in)
	if err != nil {
		return err
	}
	_, err = p.publishAll(ctx, []*nats.Msg{m})
	return err
}

// FanOut publishes the full story once on all, and once per node subject
// (region and topic nodes). By default each node message is a copy of the
// full story (ninjs JSON body, same headers), so a plain subscriber of a
// node needs nothing but its subscription. When the output stream's
// metadata asks for the claim check (StreamsConfig.ClaimCheck), node
// messages are light notifications instead: headers only, Ws-Story-Seq
// pointing at the full story by its stream sequence; Subscribe fetches it
// with a direct get. A subscriber of one node receives each matching story
// exactly once either way. nodes must not return duplicates.
//
// Whether node messages are stored depends on the output stream: when its
// subjects cover the node subjects (the default, StreamsConfig) they are
// published to JetStream and acknowledged like the story; when the stream
// holds only all (StreamsConfig.LiveNodes) they are core NATS messages, sent
// once the story is stored. Every message carries the node list (Ws-Nodes)
// and the filter headers Ws-Urgency, Ws-Language and Ws-Status.
func FanOut(stream, all string, nodes func(s *proto.Story) []string) Output {
	return fanOut{stream: stream, all: all, nodes: nodes, mode: new(nodeMode)}
}

type fanOut struct {
	stream, all string
	nodes       func(s *proto.Story) []string
	mode        *nodeMode
}

// nodeMode caches how the output stream takes node messages.
type nodeMode struct {
	mu       sync.Mutex
	resolved bool
	stored   bool // node subjects are stored in the stream
	claim    bool // node messages are claim-check notifications
}

// resolve reads the output stream's configuration once: whether it
// captures the node subject subj and what node messages carry.
func (f fanOut) resolve(ctx context.Context, p *publisher, subj string) (stored, claim bool, err error) {
	f.mode.mu.Lock()
	defer f.mode.mu.Unlock()
	if f.mode.resolved {
		return f.mode.stored, f.mode.claim, nil
	}
	st, err := p.js.Stream(ctx, f.stream)
	if err != nil {
		return false, false, fmt.Errorf("output stream %s: %w", f.stream, err)
	}
	cfg := st.CachedInfo().Config
	f.mode.stored = captures(cfg.Subjects, subj)
	f.mode.claim = cfg.Metadata[NodeBodyKey] == NodeBodyClaimCheck
	f.mode.resolved = true
	return f.mode.stored, f.mode.claim, nil
}

// captures reports whether any of a stream's subject filters matches subj.
func captures(filters []string, subj string) bool {
	for _, f := range filters {
		if SubjectMatches(f, subj) {
			return true
		}
	}
	return false
}

// SubjectMatches reports whether the NATS subject subj (which may itself
// hold wildcards) matches filter, which may hold "*" and a final ">", as
// the server matches them.
func SubjectMatches(filter, subj string) bool {
	return server.SubjectMatchesFilter(subj, filter)
}

func (f fanOut) publish(ctx context.Context, p *publisher, in *inbound, s *proto.Story) error {
	full, err := storyMsg(f.all, proto.EncodingJSON, s, in)
	if err != nil {
		return err
	}
	filterHeaders(full.Header, s)
	if headline := headlineHeader(s.Headline); headline != "" {
		full.Header[proto.HeaderHeadline] = []string{headline}
	}
	subjects := f.nodes(s)
	if len(subjects) == 0 {
		_, err := p.publishAll(ctx, []*nats.Msg{full})
		return err
	}
	full.Header.Set(proto.HeaderNodes, strings.Join(subjects, " "))
	stored, claim, err := f.resolve(ctx, p, subjects[0])
	if err != nil {
		return err
	}
	if !claim {
		// Full copies: the same body and headers on every node, each with
		// its own message id. The JetStream client keeps a message until its
		// ack, so each gets its own header map; the body is shared (read only).
		msgs := make([]*nats.Msg, 0, 1+len(subjects))
		msgs = append(msgs, full)
		for _, subj := range subjects {
			h := maps.Clone(full.Header)
			h[proto.HeaderMsgID] = []string{msgID(s, subj)}
			msgs = append(msgs, &nats.Msg{Subject: subj, Header: h, Data: full.Data})
		}
		if stored {
			_, err = p.publishAll(ctx, msgs)
			return err
		}
		if _, err := p.publishAll(ctx, msgs[:1]); err != nil {
			return err
		}
		return notifyLive(p, msgs[1:])
	}
	acks, err := p.publishAll(ctx, []*nats.Msg{full})
	if err != nil {
		return err
	}
	seq := strconv.FormatUint(acks[0].Sequence, 10)
	// The notifications of one story carry the same headers (stored ones
	// add their own message id): build them once. A live notification
	// shares the map (core publish only reads it); a stored one gets a
	// copy, since the JetStream client keeps the message until its ack.
	hdr := nats.Header{
		proto.HeaderStorySeq:    {seq},
		proto.HeaderStoryStream: {f.stream},
		proto.HeaderStoryURI:    {s.URI},
		proto.HeaderNodes:       full.Header[proto.HeaderNodes],
	}
	for _, k := range []string{proto.HeaderStoryVersion, proto.HeaderHeadline, proto.HeaderDedupe,
		proto.HeaderUrgency, proto.HeaderLanguage, proto.HeaderStatus} {
		if v, ok := full.Header[k]; ok {
			hdr[k] = v
		}
	}
	msgs := make([]*nats.Msg, len(subjects))
	for i, subj := range subjects {
		m := &nats.Msg{Subject: subj, Header: hdr}
		if stored {
			m.Header = maps.Clone(hdr)
			m.Header[proto.HeaderMsgID] = []string{msgID(s, subj)}
		}
		msgs[i] = m
	}
	if !stored {
		return notifyLive(p, msgs)
	}
	_, err = p.publishAll(ctx, msgs)
	return err
}

// notifyLive sends unstored node messages: at most once, to the subscribers
// connected now. A redelivered input (a duplicate story ack) sends them again.
func notifyLive(p *publisher, msgs []*nats.Msg) error {
	nc := p.js.Conn()
	for _, m := range msgs {
		if err := nc.PublishMsg(m); err != nil {
			return fmt.Errorf("notify %s: %w", m.Subject, err)
		}
	}
	return nil
}

// storyMsg encodes a story for subject, with its idempotency id and the
// provenance headers carried through the pipeline.
func storyMsg(subject string, enc proto.Encoding, s *proto.Story, in *inbound) (*nats.Msg, error) {
	data, err := proto.Marshal(enc, s)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", s.URI, err)
	}
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(proto.HeaderMsgID, msgID(s, subject))
	m.Header.Set(proto.HeaderEncoding, string(enc))
	m.Header.Set(proto.HeaderStoryURI, s.URI)
	if s.Version != "" {
		m.Header.Set(proto.HeaderStoryVersion, s.Version)
	}
	if s.Dedupe != nil {
		m.Header.Set(proto.HeaderDedupe, s.Dedupe.Status)
		if s.Dedupe.Of != "" {
			m.Header.Set(proto.HeaderDedupeOf, s.Dedupe.Of)
		}
	}
	if in != nil {
		if v := in.header.Get(proto.HeaderReceived); v != "" {
			m.Header.Set(proto.HeaderReceived, v)
		}
	}
	if s.Received != 0 && m.Header.Get(proto.HeaderReceived) == "" {
		m.Header.Set(proto.HeaderReceived, strconv.FormatInt(int64(s.Received), 10))
	}
	return m, nil
}

// msgID is the Nats-Msg-Id of a story published on subject: a 128-bit hash
// of its uri, version, raw arrival (ingest sequence) and the subject. A
// redelivered input yields the same id, so JetStream drops the second copy;
// a genuine resend (a new raw arrival) yields a new one, so the dedupe stage
// sees it and decides.
func msgID(s *proto.Story, subject string) string {
	h := fnv.New128a()
	h.Write([]byte(s.URI))
	h.Write([]byte{0})
	h.Write([]byte(s.Version))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatUint(s.IngestSeq, 10)))
	h.Write([]byte{0})
	h.Write([]byte(subject))
	var sum [16]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// FanOutCopies publishes the full story on all and again on every node
// subject. It is the simple alternative to FanOut, kept to measure against
// (see BenchmarkFanOut and docs/subjects.md): it costs a full copy per node.
func FanOutCopies(all string, nodes func(s *proto.Story) []string) Output {
	return fanOutCopies{all: all, nodes: nodes}
}

type fanOutCopies struct {
	all   string
	nodes func(s *proto.Story) []string
}

func (f fanOutCopies) publish(ctx context.Context, p *publisher, in *inbound, s *proto.Story) error {
	subjects := append([]string{f.all}, f.nodes(s)...)
	msgs := make([]*nats.Msg, len(subjects))
	for i, subj := range subjects {
		m, err := storyMsg(subj, proto.EncodingJSON, s, in)
		if err != nil {
			return err
		}
		msgs[i] = m
	}
	_, err := p.publishAll(ctx, msgs)
	return err
}

// headlineHeader is a headline as a header value: at most 200 bytes, cut
// at a character boundary (a cut inside a UTF-8 sequence made the value
// invalid UTF-8), on one line (a CR or LF would end the header; ingest
// already normalises headlines to one line, other producers may not), and
// without control or bidi-override characters (a terminal running nats
// sub would act on them).
func headlineHeader(h string) string {
	if len(h) > 200 {
		n := 200
		for n > 0 && !utf8.RuneStart(h[n]) {
			n--
		}
		h = h[:n]
	}
	if strings.IndexFunc(h, unprintable) >= 0 {
		h = strings.Map(func(r rune) rune {
			switch {
			case r == '\r' || r == '\n' || r == '\t':
				return ' '
			case unprintable(r):
				return -1
			}
			return r
		}, h)
	}
	return h
}

// unprintable: control characters (C0, DEL, C1) and the bidirectional
// overrides and isolates, which reorder what a terminal shows (a headline
// watched with nats sub must read as it is).
func unprintable(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == utf8.RuneError
}
