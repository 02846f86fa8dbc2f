package httpread

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/proto"
)

// Stats counts what the handler did.
type Stats struct {
	Pages, Lookups, Scanned  atomic.Int64
	StreamsOpen, StreamsCut  atomic.Int64 // event streams open now; cut by the write timeout or a failed write
	Events                   atomic.Int64
	StreamsRefused, Refusals atomic.Int64
}

// Page is the answer of GET /v1/stories.
type Page struct {
	// Stories, newest first, each the ninjs JSON of ws.out.all.
	Stories []json.RawMessage `json:"stories"`
	// Seqs are the output sequences of Stories (the SSE ids).
	Seqs []uint64 `json:"seqs"`
	// Next, when set, is the cursor of the following (older) page.
	Next string `json:"next,omitempty"`
	// Scanned is how many output messages this page read.
	Scanned int `json:"scanned"`
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	q, err := h.parseQuery(r, "since", "until", "limit", "cursor")
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	page, err := h.page(ctx, q)
	if err != nil {
		h.log.Warn("read API: page", zap.Error(err))
		w.Header().Set("Retry-After", "1")
		fail(w, r, http.StatusServiceUnavailable, "", "reading the output stream: "+err.Error())
		return
	}
	h.stats.Pages.Add(1)
	writeJSON(w, r, http.StatusOK, page)
}

// page walks the output stream backwards from the cursor in windows read
// forward with direct gets of the next ws.out.all message (node
// notifications are skipped by the server), until it has q.limit matches,
// passes q.since, reaches the first message or spends the scan budget.
func (h *Handler) page(ctx context.Context, q query) (Page, error) {
	p := Page{Stories: []json.RawMessage{}, Seqs: []uint64{}}
	st, err := h.js.Stream(ctx, h.cfg.Names.OutStream())
	if err != nil {
		return p, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return p, err
	}
	first, upper := info.State.FirstSeq, info.State.LastSeq+1
	if q.cursor != 0 && q.cursor < upper {
		upper = q.cursor
	}
	if first == 0 {
		first = 1
	}
	all := h.cfg.Names.OutAll()
	window := uint64(max(64, 4*q.limit))
	done := false
	for upper > first && !done && p.Scanned < h.cfg.ScanBudget {
		lo := first
		if upper-first > window {
			lo = upper - window
		}
		var msgs []*jetstream.RawStreamMsg
		for seq := lo; seq < upper; {
			m, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(all))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			if err != nil {
				return p, err
			}
			if m.Sequence >= upper {
				break
			}
			msgs = append(msgs, m)
			seq = m.Sequence + 1
		}
		p.Scanned += len(msgs)
		h.stats.Scanned.Add(int64(len(msgs)))
		for i := len(msgs) - 1; i >= 0; i-- {
			m := msgs[i]
			if !q.since.IsZero() && m.Time.Before(q.since) {
				done = true
				break
			}
			if !q.until.IsZero() && m.Time.After(q.until) {
				continue
			}
			s, err := outfilter.Decode(m.Header, m.Data)
			if err != nil {
				h.log.Warn("read API: undecodable output message", zap.Uint64("stream_seq", m.Sequence), zap.Error(err))
				continue
			}
			if !q.filter.Match(s, m.Header.Get(proto.HeaderNodes)) {
				continue
			}
			b, err := outfilter.Render(m.Header, m.Data, s, q.format)
			if err != nil {
				continue
			}
			p.Stories = append(p.Stories, b)
			p.Seqs = append(p.Seqs, m.Sequence)
			if len(p.Stories) == q.limit {
				done = true
				if m.Sequence > first {
					p.Next = strconv.FormatUint(m.Sequence, 10)
				}
				break
			}
		}
		upper = lo
		window *= 2
	}
	if !done && upper > first && p.Next == "" {
		p.Next = strconv.FormatUint(upper, 10) // scan budget spent: go on from here
	}
	return p, nil
}

// one serves GET /v1/stories/{uri} (the uri path-escaped).
func (h *Handler) one(w http.ResponseWriter, r *http.Request, escaped string) {
	uri, err := url.PathUnescape(escaped)
	if err != nil || uri == "" || len(uri) > proto.DefaultLimits.URIBytes {
		fail(w, r, http.StatusBadRequest, "uri", "the path after /v1/stories/ must be a story uri, path-escaped (urn%3Aap%3A123), at most 1024 bytes")
		return
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		fail(w, r, http.StatusBadRequest, "query", "malformed query string: "+err.Error())
		return
	}
	for k := range vals {
		if k != "format" && k != "access_token" {
			fail(w, r, http.StatusBadRequest, k, "GET /v1/stories/{uri} takes no parameters but format")
			return
		}
	}
	format := vals.Get("format")
	if err := outfilter.CheckFormat(format); err != nil {
		fail(w, r, http.StatusBadRequest, "format", strings.TrimPrefix(err.Error(), outfilter.ErrFilter.Error()+": "))
		return
	}
	if !h.index.ready.Load() {
		w.Header().Set("Retry-After", "2")
		fail(w, r, http.StatusServiceUnavailable, "", "the story index is still loading; retry shortly")
		return
	}
	h.stats.Lookups.Add(1)
	seq, ok := h.index.get(uri)
	if !ok {
		writeJSON(w, r, http.StatusNotFound, apiError{Error: "no story with this uri in the output stream", URI: uri})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	st, err := h.js.Stream(ctx, h.cfg.Names.OutStream())
	var m *jetstream.RawStreamMsg
	if err == nil {
		m, err = st.GetMsg(ctx, seq)
	}
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		writeJSON(w, r, http.StatusNotFound, apiError{Error: "the story has aged out of the output stream", URI: uri})
		return
	}
	if err != nil {
		w.Header().Set("Retry-After", "1")
		fail(w, r, http.StatusServiceUnavailable, "", "reading the output stream: "+err.Error())
		return
	}
	s, err := outfilter.Decode(m.Header, m.Data)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "", "stored story unreadable: "+err.Error())
		return
	}
	if outfilter.Event(s) == outfilter.EventKill {
		writeJSON(w, r, http.StatusNotFound, apiError{Error: "story killed", Killed: true, URI: uri})
		return
	}
	b, err := outfilter.Render(m.Header, m.Data, s, format)
	if err != nil {
		fail(w, r, http.StatusInternalServerError, "", err.Error())
		return
	}
	w.Header().Set("X-Wirestream-Seq", strconv.FormatUint(m.Sequence, 10))
	writeJSON(w, r, http.StatusOK, json.RawMessage(b))
}

// index maps a uri to the output sequence of its latest full story. It is
// kept in memory from a headers-only ordered consumer of ws.out.all: about
// 100 bytes per uri plus the uri, rebuilt at start (docs/http.md has the
// cost measured).
type index struct {
	mu  sync.RWMutex
	seq map[string]uint64
	// older holds, for a uri with several versions in the stream, the
	// sequences before the latest (oldest first, at most maxVersions).
	older map[string][]uint64
	// copies holds the audit stream sequences of the decisions that link
	// another story to a uri (resends, near copies: Ws-Dedupe-Of), at most
	// maxCopies, oldest first.
	copies map[string][]uint64
	ready  atomic.Bool
}

// Bounds of what the index keeps per uri.
const (
	maxVersions = 16
	maxCopies   = 32
)

func newIndex() *index {
	return &index{seq: make(map[string]uint64), older: make(map[string][]uint64), copies: make(map[string][]uint64)}
}

// versions returns the output sequences of every version of uri the index
// holds, oldest first.
func (x *index) versions(uri string) []uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	last, ok := x.seq[uri]
	if !ok {
		return nil
	}
	return append(append([]uint64(nil), x.older[uri]...), last)
}

func (x *index) copiesOf(uri string) []uint64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return append([]uint64(nil), x.copies[uri]...)
}

// add records an output message of uri at seq.
func (x *index) add(uri string, seq uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	prev, ok := x.seq[uri]
	switch {
	case !ok:
		x.seq[uri] = seq
	case seq > prev:
		x.seq[uri] = seq
		o := append(x.older[uri], prev)
		if len(o) > maxVersions-1 {
			o = o[len(o)-(maxVersions-1):]
		}
		x.older[uri] = o
	}
}

func (x *index) addCopy(of string, seq uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	c := x.copies[of]
	if len(c) > 0 && c[len(c)-1] >= seq {
		return // seen already (the consumer was recreated)
	}
	c = append(c, seq)
	if len(c) > maxCopies {
		c = c[len(c)-maxCopies:]
	}
	x.copies[of] = c
}

func (x *index) get(uri string) (uint64, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s, ok := x.seq[uri]
	return s, ok
}

func (x *index) run(ctx context.Context, js jetstream.JetStream, n proto.Names, log *zap.Logger) error {
	if log == nil {
		log = zap.NewNop()
	}
	go keepFollowing(ctx, log, "the audit stream", func() error { return x.followAudit(ctx, js, n) })
	keepFollowing(ctx, log, "the output stream", func() error { return x.follow(ctx, js, n) })
	return nil
}

// keepFollowing runs follow until ctx ends, again a second after each
// failure.
func keepFollowing(ctx context.Context, log *zap.Logger, what string, follow func() error) {
	for ctx.Err() == nil {
		err := follow()
		if ctx.Err() != nil {
			return
		}
		log.Warn("read API: story index: following "+what, zap.Error(err))
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// followHeaders reads the headers of st's messages (those on filter, or
// all) from the start, in order, calling fn for each, until ctx ends or
// the consumer fails.
func followHeaders(ctx context.Context, st jetstream.Stream, filter []string, fn func(h nats.Header, md *jetstream.MsgMetadata)) error {
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: filter, HeadersOnly: true})
	if err != nil {
		return err
	}
	iter, err := cons.Messages()
	if err != nil {
		return err
	}
	defer iter.Stop()
	go func() { <-ctx.Done(); iter.Stop() }()
	for {
		m, err := iter.Next()
		if err != nil {
			return err
		}
		if md, err := m.Metadata(); err == nil {
			fn(m.Headers(), md)
		}
	}
}

// follow keeps the uri index from the headers of ws.out.all; the index is
// ready once it has read the messages stored when it started.
func (x *index) follow(ctx context.Context, js jetstream.JetStream, n proto.Names) error {
	st, err := js.Stream(ctx, n.OutStream())
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	target := info.State.LastSeq
	if target == 0 {
		x.ready.Store(true)
	}
	return followHeaders(ctx, st, []string{n.OutAll()}, func(h nats.Header, md *jetstream.MsgMetadata) {
		if uri := h.Get(proto.HeaderStoryURI); uri != "" {
			x.add(uri, md.Sequence.Stream)
		}
		if md.Sequence.Stream >= target || md.NumPending == 0 {
			x.ready.Store(true)
		}
	})
}

// followAudit keeps the copies index from the audit stream's headers.
func (x *index) followAudit(ctx context.Context, js jetstream.JetStream, n proto.Names) error {
	st, err := js.Stream(ctx, n.AuditStream())
	if err != nil {
		return err
	}
	return followHeaders(ctx, st, nil, func(h nats.Header, md *jetstream.MsgMetadata) {
		if of := h.Get(proto.HeaderDedupeOf); of != "" {
			x.addCopy(of, md.Sequence.Stream)
		}
	})
}
