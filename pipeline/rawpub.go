package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/proto"
)

// ErrNoAck is returned when JetStream does not acknowledge a raw publish
// within RawPublisherConfig.AckTimeout.
var ErrNoAck = errors.New("pipeline: no acknowledgement from JetStream")

// RawPublisherConfig configures a RawPublisher.
type RawPublisherConfig struct {
	// Names is the namespace whose raw history receives the input.
	Names proto.Names
	// Window bounds the publishes waiting for their acknowledgement: Publish
	// blocks while Window are pending. Default 256.
	Window int
	// WindowBytes bounds the bytes of those publishes (the client keeps each
	// message until its ack): Publish also blocks while they hold this
	// much. Default 64 MiB.
	WindowBytes int
	// AckTimeout is how long the oldest pending publish may wait for its
	// acknowledgement before Publish or Flush give up with ErrNoAck.
	// Default 30 s.
	AckTimeout time.Duration
	// Reader, when set, is the durable consumer that reads the raw history
	// (the first stage's). When the history has a size bound
	// (--history-max-bytes) and is full, storing more drops its oldest
	// stories: while those are not yet read by Reader, a publish is refused
	// with ErrHistoryFull instead, so no story is ever dropped unread.
	Reader string
}

func (c *RawPublisherConfig) setDefaults() {
	if c.Window == 0 {
		c.Window = 256
	}
	if c.WindowBytes == 0 {
		c.WindowBytes = 64 << 20
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = 30 * time.Second
	}
}

// Validate reports a configuration error naming the field.
func (c RawPublisherConfig) Validate() error {
	switch {
	case c.Names.Prefix == "" || c.Names.StreamPrefix == "":
		return fmt.Errorf("%w: RawPublisherConfig.Names is the zero value (use proto.Live())", ErrConfig)
	case c.Window < 1:
		return fmt.Errorf("%w: RawPublisherConfig.Window %d must be at least 1", ErrConfig, c.Window)
	case c.WindowBytes < 1:
		return fmt.Errorf("%w: RawPublisherConfig.WindowBytes %d must be at least 1", ErrConfig, c.WindowBytes)
	case c.AckTimeout < time.Millisecond:
		return fmt.Errorf("%w: RawPublisherConfig.AckTimeout %s is too short", ErrConfig, c.AckTimeout)
	}
	return nil
}

// ErrHistoryFull is a publish refused because the raw history is at its
// size bound and storing more would drop stories the first stage has not
// read yet. It is the server's state, not the input's: try again later.
var ErrHistoryFull = errors.New("raw history full")

// RawMsg is one raw input to store in the history.
type RawMsg struct {
	// Data is the input as received.
	Data []byte
	// Meta becomes the message's headers (proto.RawMeta.Header); its Source
	// picks the subject, Names.Raw(Source). Meta.Seq is ignored.
	Meta proto.RawMeta
	// ID is the Nats-Msg-Id. Empty: RawID(Meta.Source, Meta.Origin, Data),
	// so that the same bytes from the same place within the stream's
	// duplicate window are stored once.
	ID string
}

// RawAck is the outcome of one raw publish.
type RawAck struct {
	Meta      proto.RawMeta
	ID        string
	Seq       uint64 // sequence in the raw history; 0 on error
	Duplicate bool   // JetStream already held a message with this ID
	Err       error  // the server refused it (too large, no stream...), or it could not be sent
}

// RawPublisher is the one way raw input enters the pipeline: every path that
// stores raw input (files, the directory watcher, HTTP push, replay, feed
// pollers, the benchmark) publishes through it. It sets the raw headers from
// proto.RawMeta and a Nats-Msg-Id on every message, keeps at most Window
// publishes waiting for their acknowledgement, and reports each outcome in
// publish order.
//
// A RawPublisher is used from one goroutine: outcomes are delivered from
// within its own Publish, Poll and Flush calls.
type RawPublisher struct {
	cfg     RawPublisherConfig
	js      jetstream.JetStream
	pending []pendingRaw
	bytes   int // data bytes of the pending publishes
	guard   historyGuard
}

// historyGuard keeps what the publisher knows of the raw history's size
// bound, refreshed from the server when the bound is near.
type historyGuard struct {
	checked  time.Time // when the stream's state was last read
	maxBytes int64     // the bound; <= 0: none
	bytes    int64     // stored bytes at checked, plus what was sent since
}

type pendingRaw struct {
	size int
	f    jetstream.PubAckFuture // nil when the publish failed at once
	err  error
	meta proto.RawMeta
	id   string
	done func(RawAck)
}

// NewRawPublisher returns a publisher into cfg.Names' raw history.
func NewRawPublisher(js jetstream.JetStream, cfg RawPublisherConfig) (*RawPublisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if js == nil {
		return nil, fmt.Errorf("%w: NewRawPublisher without a JetStream context", ErrConfig)
	}
	return &RawPublisher{cfg: cfg, js: js, pending: make([]pendingRaw, 0, cfg.Window)}, nil
}

// ErrNoRawStream is returned by Check when the server has no raw history
// stream: the pipeline's streams were never created there.
var ErrNoRawStream = errors.New("pipeline: no raw history stream")

// Check makes sure the server stores raw input: the namespace's raw history
// stream exists. Without it every publish would fail with "no responders";
// the error says what to start instead.
func (p *RawPublisher) Check(ctx context.Context) error {
	_, err := p.js.Stream(ctx, p.cfg.Names.RawStream())
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("%w: no stream for %s on %s: is wirestream run (or run --stages ingest) started against this server?",
			ErrNoRawStream, p.cfg.Names.RawAll(), p.js.Conn().ConnectedUrlRedacted())
	}
	if err != nil {
		return fmt.Errorf("raw history %s on %s: %w", p.cfg.Names.RawStream(), p.js.Conn().ConnectedUrlRedacted(), err)
	}
	return nil
}

// RawID is the default Nats-Msg-Id of raw input: a hash of where it came
// from and its bytes. Re-running the same ingest within the duplicate window
// is then harmless, while a genuine resend (new bytes, or the same bytes
// from another place) is stored and left to the dedupe stage.
func RawID(source, origin string, data []byte) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(origin))
	h.Write([]byte{0})
	h.Write(data)
	var sum [sha256.Size]byte
	return "raw:" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// Publish sends m and returns once it is on its way; done (may be nil)
// receives its outcome later, in publish order. It blocks while Window
// publishes are pending. An error means the publisher cannot go on: ctx
// ended, or the oldest publish got no acknowledgement within AckTimeout;
// outcomes not yet delivered are then lost to the caller, who must treat
// those inputs as not stored.
func (p *RawPublisher) Publish(ctx context.Context, m RawMsg, done func(RawAck)) error {
	for len(p.pending) >= p.cfg.Window || len(p.pending) > 0 && p.bytes+len(m.Data) > p.cfg.WindowBytes {
		if err := p.deliver(ctx, true); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	id := m.ID
	if id == "" {
		id = RawID(m.Meta.Source, m.Meta.Origin, m.Data)
	}
	if err := p.roomFor(ctx, len(m.Data)); err != nil {
		if !errors.Is(err, ErrHistoryFull) {
			return err
		}
		p.pending = append(p.pending, pendingRaw{err: err, meta: m.Meta, id: id, done: done})
		p.Poll()
		return nil
	}
	msg := &nats.Msg{Subject: p.cfg.Names.Raw(m.Meta.Source), Data: m.Data, Header: nats.Header(m.Meta.Header())}
	msg.Header.Set(proto.HeaderMsgID, id)
	f, err := p.js.PublishMsgAsync(msg)
	p.pending = append(p.pending, pendingRaw{size: len(m.Data), f: f, err: err, meta: m.Meta, id: id, done: done})
	p.bytes += len(m.Data)
	p.Poll()
	return nil
}

// roomFor checks that storing n more bytes drops no unread story. Far from
// the bound it costs nothing; near it, a read of the stream and the
// reader's consumer per publish.
func (p *RawPublisher) roomFor(ctx context.Context, n int) error {
	if p.cfg.Reader == "" {
		return nil
	}
	g := &p.guard
	size := int64(n) + 512 // headers
	stale := time.Since(g.checked) > 10*time.Second
	near := g.maxBytes > 0 && g.bytes+size > g.maxBytes-g.maxBytes/20
	if !stale && !near {
		g.bytes += size
		return nil
	}
	s, err := p.js.Stream(ctx, p.cfg.Names.RawStream())
	if err != nil {
		return nil // Check reports a missing stream; a publish error says the rest
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil
	}
	g.checked, g.maxBytes, g.bytes = time.Now(), info.Config.MaxBytes, int64(info.State.Bytes)
	if g.maxBytes <= 0 || info.Config.Discard != jetstream.DiscardOld || g.bytes+size <= g.maxBytes {
		g.bytes += size
		return nil
	}
	// Full: storing this drops the oldest stories. Fine when the reader has
	// read them (and a few after, for the bytes this one needs).
	c, err := p.js.Consumer(ctx, p.cfg.Names.RawStream(), p.cfg.Reader)
	if err != nil {
		return fmt.Errorf("%w: the history is at its bound of %d bytes and its reader %s is not there to have read the oldest stories", ErrHistoryFull, g.maxBytes, p.cfg.Reader)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		return nil
	}
	if ci.AckFloor.Stream >= info.State.FirstSeq+8 {
		g.bytes += size
		return nil
	}
	unread := info.State.LastSeq - ci.AckFloor.Stream
	return fmt.Errorf("%w: %d bytes stored, bound %d (--history-max-bytes), and its oldest stories are not yet ingested (%d unread): try again once the ingest stage catches up, or raise the bound",
		ErrHistoryFull, info.State.Bytes, g.maxBytes, unread)
}

// Poll delivers the outcomes already known, without waiting.
func (p *RawPublisher) Poll() {
	_ = p.deliver(context.Background(), false)
}

// Flush waits until every pending publish has its outcome delivered. It
// returns an error under the same conditions as Publish.
func (p *RawPublisher) Flush(ctx context.Context) error {
	for len(p.pending) > 0 {
		if err := p.deliver(ctx, true); err != nil {
			return err
		}
	}
	return nil
}

// Pending is the number of publishes whose outcome is not yet delivered.
func (p *RawPublisher) Pending() int { return len(p.pending) }

// deliver hands out the outcomes at the head of the queue: those already
// known, and with wait at least one (waiting for it).
func (p *RawPublisher) deliver(ctx context.Context, wait bool) error {
	n := 0
	defer func() {
		if n > 0 {
			for _, pr := range p.pending[:n] {
				p.bytes -= pr.size
			}
			p.pending = append(p.pending[:0], p.pending[n:]...)
		}
	}()
	var timer *time.Timer
	for n < len(p.pending) {
		pr := &p.pending[n]
		ack := RawAck{Meta: pr.meta, ID: pr.id, Err: pr.err}
		if pr.f != nil {
			if wait && n == 0 {
				if timer == nil {
					timer = time.NewTimer(p.cfg.AckTimeout)
					defer timer.Stop()
				}
				select {
				case a := <-pr.f.Ok():
					ack.Seq, ack.Duplicate = a.Sequence, a.Duplicate
				case err := <-pr.f.Err():
					ack.Err = err
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
					return fmt.Errorf("%w after %s (%s)", ErrNoAck, p.cfg.AckTimeout, describeRaw(pr.meta))
				}
			} else {
				select {
				case a := <-pr.f.Ok():
					ack.Seq, ack.Duplicate = a.Sequence, a.Duplicate
				case err := <-pr.f.Err():
					ack.Err = err
				default:
					return nil
				}
			}
		}
		n++
		if pr.done != nil {
			pr.done(ack)
		}
	}
	return nil
}

func describeRaw(m proto.RawMeta) string {
	if m.Origin != "" {
		return m.Origin
	}
	return "raw input from " + m.Source
}
