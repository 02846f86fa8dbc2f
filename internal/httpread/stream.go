package httpread

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/proto"
)

// stream serves GET /v1/stream: Server-Sent Events, one per matching story
// of ws.out.all, from now on, or after Last-Event-ID (or ?last_event_id=),
// or from ?since=, or from=start. Each client has its own ordered consumer,
// so a client that reads slowly holds only its own; each write has its own
// deadline (Config.WriteTimeout), so a client that stops reading is cut off.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request) {
	q, err := h.parseQuery(r, "since", "from", "last_event_id")
	if err != nil {
		h.badRequest(w, r, err)
		return
	}
	select {
	case h.streams <- struct{}{}:
		defer func() { <-h.streams }()
	default:
		h.stats.StreamsRefused.Add(1)
		w.Header().Set("Retry-After", "5")
		fail(w, r, http.StatusServiceUnavailable, "", fmt.Sprintf("%d event streams open, the limit; retry later", h.cfg.MaxStreams))
		return
	}
	rc := http.NewResponseController(w)
	// The server's whole-request deadlines would end the stream: reads are
	// lifted (the request has no body), writes get a deadline each.
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		fail(w, r, http.StatusInternalServerError, "", "this connection cannot stream")
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	st, err := h.js.Stream(ctx, h.cfg.Names.OutStream())
	if err != nil {
		w.Header().Set("Retry-After", "1")
		fail(w, r, http.StatusServiceUnavailable, "", "output stream: "+err.Error())
		return
	}
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: []string{h.cfg.Names.OutAll()}, DeliverPolicy: jetstream.DeliverNewPolicy}
	switch {
	case q.after > 0:
		occ.DeliverPolicy, occ.OptStartSeq = jetstream.DeliverByStartSequencePolicy, q.after+1
	case !q.since.IsZero():
		since := q.since
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	case q.fromStart:
		occ.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	cons, err := st.OrderedConsumer(ctx, occ)
	if err != nil {
		w.Header().Set("Retry-After", "1")
		fail(w, r, http.StatusServiceUnavailable, "", "subscribe: "+err.Error())
		return
	}
	iter, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		fail(w, r, http.StatusServiceUnavailable, "", "subscribe: "+err.Error())
		return
	}
	defer iter.Stop()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	var out io.Writer = w
	flush := func() error { return rc.Flush() }
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		gz := getGzip(w)
		defer func() { _ = rc.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout)); _ = gz.Close(); putGzip(gz) }()
		out = gz
		flush = func() error {
			if err := gz.Flush(); err != nil {
				return err
			}
			return rc.Flush()
		}
	}
	h.stats.StreamsOpen.Add(1)
	defer h.stats.StreamsOpen.Add(-1)
	write := func(b []byte) bool {
		if err := rc.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout)); err != nil {
			return false
		}
		if _, err := out.Write(b); err != nil {
			return false
		}
		return flush() == nil
	}
	w.WriteHeader(http.StatusOK)
	if !write([]byte("retry: 2000\n: wirestream stream\n\n")) {
		h.stats.StreamsCut.Add(1)
		return
	}

	type item struct {
		m   jetstream.Msg
		err error
	}
	msgs := make(chan item)
	go func() {
		defer close(msgs)
		for {
			m, err := iter.Next()
			select {
			case msgs <- item{m, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	beat := time.NewTicker(h.cfg.Heartbeat)
	defer beat.Stop()
	var buf bytes.Buffer
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if !write([]byte(": heartbeat\n\n")) {
				h.stats.StreamsCut.Add(1)
				return
			}
		case it, ok := <-msgs:
			if !ok || it.err != nil {
				if ctx.Err() == nil {
					h.log.Warn("event stream: consumer ended", zap.Error(it.err))
				}
				return
			}
			md, err := it.m.Metadata()
			if err != nil {
				continue
			}
			s, err := outfilter.Decode(it.m.Headers(), it.m.Data())
			if err != nil {
				h.log.Warn("event stream: undecodable output message", zap.Uint64("stream_seq", md.Sequence.Stream), zap.Error(err))
				continue
			}
			if !q.filter.Match(s, it.m.Headers().Get(proto.HeaderNodes)) {
				continue
			}
			data, err := outfilter.Render(it.m.Headers(), it.m.Data(), s, q.format)
			if err != nil {
				continue
			}
			buf.Reset()
			appendEvent(&buf, md.Sequence.Stream, outfilter.Event(s), data)
			if !write(buf.Bytes()) {
				h.stats.StreamsCut.Add(1)
				return
			}
			h.stats.Events.Add(1)
			beat.Reset(h.cfg.Heartbeat)
		}
	}
}

// appendEvent writes one SSE event; data lines are split at line breaks
// (JSON from the output stream has none, but the format demands it).
func appendEvent(b *bytes.Buffer, seq uint64, event string, data []byte) {
	b.WriteString("id: ")
	b.WriteString(strconv.FormatUint(seq, 10))
	b.WriteString("\nevent: ")
	b.WriteString(event)
	b.WriteByte('\n')
	for len(data) > 0 {
		line := data
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		b.WriteString("data: ")
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
}
