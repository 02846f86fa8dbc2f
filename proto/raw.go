package proto

import (
	"strconv"
	"strings"
	"time"
)

// RawMeta describes one raw input message: what its publisher says about it
// (the raw headers) and where it sits in the history stream. Every path that
// publishes raw input builds its headers with Header, and the ingest stage
// reads them back with ParseRawMeta, so the two sides cannot drift apart.
type RawMeta struct {
	Format   string // HeaderFormat: "ninjs", "text", "newsml"...; empty: detect
	Source   string // HeaderSource: the feed's name (the last token of the raw subject)
	Origin   string // HeaderOrigin: "file:line", "http:3", ... where the input came from
	Received Time   // HeaderReceived: when it entered the pipeline
	Replay   string // HeaderReplay: the replay that republished it ("live" or a namespace), or ""
	Seq      uint64 // sequence in the raw history stream (set by the reader, not a header)
}

// Header returns the headers a raw message carries for m (empty fields are
// left out). The map has the shape of nats.Header and http.Header; the
// publisher adds the Nats-Msg-Id.
func (m RawMeta) Header() map[string][]string {
	h := make(map[string][]string, 6)
	set := func(k, v string) {
		if v != "" {
			h[k] = []string{v}
		}
	}
	set(HeaderSource, m.Source)
	set(HeaderFormat, m.Format)
	set(HeaderOrigin, m.Origin)
	if m.Received != 0 {
		set(HeaderReceived, strconv.FormatInt(int64(m.Received), 10))
	}
	set(HeaderReplay, m.Replay)
	return h
}

// ParseRawMeta reads the headers of a raw message stored as seq on subject at
// timestamp (the stream's time). A message without Ws-Source takes the last
// token of its subject as source; without a valid Ws-Received, the stream's
// timestamp as its arrival.
func ParseRawMeta(h map[string][]string, subject string, seq uint64, timestamp time.Time) RawMeta {
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	m := RawMeta{
		Format: get(HeaderFormat),
		Source: get(HeaderSource),
		Origin: get(HeaderOrigin),
		Replay: get(HeaderReplay),
		Seq:    seq,
	}
	if m.Source == "" {
		if i := strings.LastIndexByte(subject, '.'); i >= 0 {
			m.Source = subject[i+1:]
		}
	}
	if v, err := strconv.ParseInt(get(HeaderReceived), 10, 64); err == nil && v > 0 {
		m.Received = Time(v)
	} else if !timestamp.IsZero() {
		m.Received = FromTime(timestamp)
	}
	return m
}
