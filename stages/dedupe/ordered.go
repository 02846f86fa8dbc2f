package dedupe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wirestream/wirestream/proto"
)

// ordered is the state of a Deduper with Config.Ordered: every decision
// goes through the Log as one story record, and every instance applies the
// log, in order, to its own in-memory state (inner: a local Deduper over a
// MemoryStore whose clock is the newest record time applied). The verdict
// of a record is computed when it is applied, against exactly the records
// before it, so every instance reaches the same one; the instance that
// appended the record hands it to its waiting Decide. One stored message
// and one round trip (the append) per story, whatever the decision.
type ordered struct {
	inner *Deduper
	mem   *MemoryStore // inner's store
	inst  uint64
	nonce atomic.Uint64
	clock atomic.Int64 // newest record time applied, Unix seconds

	mu   sync.Mutex
	wait map[uint64]chan orderedResult
}

type orderedResult struct {
	d   *proto.Dedupe
	err error
}

func newOrdered(cfg Config) (*Deduper, error) {
	o := &ordered{wait: make(map[uint64]chan orderedResult)}
	var b [8]byte
	for o.inst == 0 {
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("dedupe: instance id: %w", err)
		}
		o.inst = binary.LittleEndian.Uint64(b[:])
	}
	icfg := cfg
	icfg.Log, icfg.Ordered = nil, false
	icfg.CacheSize = -1 // the MemoryStore is as fast as a cache
	store := NewMemoryStore(cfg.Window, func() time.Time { return time.Unix(o.clock.Load(), 0) })
	inner, err := New(icfg, store)
	if err != nil {
		return nil, err
	}
	o.inner, o.mem = inner, store
	return &Deduper{cfg: cfg, ord: o, done: make(chan struct{})}, nil
}

// decide computes the story record of s, appends it and waits for its
// verdict from the local apply.
func (o *ordered) decide(ctx context.Context, d *Deduper, s *proto.Story) (*proto.Dedupe, error) {
	if d.closed.Load() {
		return nil, ErrClosed
	}
	f := o.inner.features(s)
	defer f.release()
	rec := &Record{Story: true, Seq: s.IngestSeq, Time: storyTime(s), URI: s.URI,
		Version: s.Version, VC: int64(s.VersionCreated), Raw: f.raw, Content: f.content, Killed: s.Canceled()}
	// A retransmission or a stale version by the state applied so far
	// goes without text (no normalising, no signature: the cheap path of
	// the KV design's cache). The state can only have moved on by the time
	// the record is applied; if the decision then needs the text, the
	// record changes nothing and a full one follows.
	if _, ok := o.lean(rec); ok {
		rec.Lean = true
		dec, err := o.append(ctx, d, rec)
		if err != errNeedText {
			return dec, err
		}
		rec = &Record{Story: true, Seq: rec.Seq, Time: rec.Time, URI: rec.URI, Version: rec.Version,
			VC: rec.VC, Raw: rec.Raw, Content: rec.Content}
	}
	if !rec.Killed {
		if r, ok := o.inner.record(s, f); ok {
			rec.Fingerprint, rec.Sig, rec.Words = r.Fingerprint, r.Sig, true
		}
	}
	return o.append(ctx, d, rec)
}

// errNeedText is the verdict of a lean record whose decision needs the text.
var errNeedText = errors.New("dedupe: lean record needs the text")

// lean decides rec, a story record, from the uri record alone when that
// changes no state: a retransmission or a stale version (not a redelivery,
// not a write). It reads the applied state only.
func (o *ordered) lean(rec *Record) (*proto.Dedupe, bool) {
	val, ok := o.mem.peek(URIKey(rec.URI))
	if !ok {
		return nil, false
	}
	var ur uriRecord
	if ur.unmarshal(val) != nil {
		return nil, false
	}
	cur := uriRecord{Version: rec.Version, VC: rec.VC, Seq: rec.Seq, Content: rec.Content, Killed: rec.Killed}
	if rec.Seq != 0 && ur.Seq == rec.Seq && ur.Content == rec.Content {
		return nil, false // a redelivery: decided again by the full path
	}
	s := proto.Story{URI: rec.URI}
	status, write := judge(&s, &cur, &ur)
	if write {
		return nil, false
	}
	return &proto.Dedupe{Status: status, Of: rec.URI}, true
}

func (o *ordered) append(ctx context.Context, d *Deduper, rec *Record) (*proto.Dedupe, error) {
	rec.Inst, rec.Nonce = o.inst, o.nonce.Add(1)
	ch := make(chan orderedResult, 1)
	o.mu.Lock()
	o.wait[rec.Nonce] = ch
	o.mu.Unlock()
	forget := func() {
		o.mu.Lock()
		delete(o.wait, rec.Nonce)
		o.mu.Unlock()
	}
	if err := d.cfg.Log.Append(ctx, rec); err != nil {
		forget()
		return nil, fmt.Errorf("dedupe: append story record: %w", err)
	}
	select {
	case r := <-ch:
		return r.d, r.err
	case <-ctx.Done():
		forget()
		return nil, ctx.Err()
	case <-d.done:
		forget()
		return nil, ErrClosed
	}
}

// apply applies one log record. A signature record of the unordered design
// (an older deployment's log) only feeds the index. The error is
// ErrBadRecord (the record is skipped) or nil: a decision's own error goes
// to its waiting Decide, never stops the log.
func (o *ordered) apply(d *Deduper, rec *Record) (Verdict, error) {
	if !rec.Story {
		return o.inner.Apply(rec)
	}
	if rec.Words && len(rec.Sig) != d.cfg.Bands*d.cfg.Rows {
		o.deliver(rec, orderedResult{err: fmt.Errorf("%w: signature of %d values", ErrBadRecord, len(rec.Sig))})
		return Verdict{}, fmt.Errorf("%w: signature of %d values", ErrBadRecord, len(rec.Sig))
	}
	if rec.URI == "" {
		o.deliver(rec, orderedResult{err: fmt.Errorf("%w: empty uri", ErrBadRecord)})
		return Verdict{}, fmt.Errorf("%w: empty uri", ErrBadRecord)
	}
	if rec.Lean {
		// Decided on the uri record alone, or not at all: no state changes
		// (not even the clock), on every instance alike.
		if dec, ok := o.lean(rec); ok {
			o.deliver(rec, orderedResult{d: dec})
		} else {
			o.deliver(rec, orderedResult{err: errNeedText})
		}
		return Verdict{}, nil
	}
	if rec.Time > o.clock.Load() {
		o.clock.Store(rec.Time)
	}
	s := &proto.Story{URI: rec.URI, Version: rec.Version, VersionCreated: proto.Time(rec.VC),
		IngestSeq: rec.Seq, Received: proto.Time(rec.Time * 1e9)}
	if rec.Killed {
		s.PubStatus = proto.PubStatusCanceled
	}
	f := &features{s: s, raw: rec.Raw, content: rec.Content, given: true}
	if rec.Words {
		f.fp, f.words = rec.Fingerprint, 1
		f.rec = &Record{Seq: rec.Seq, Time: rec.Time, Fingerprint: rec.Fingerprint, Sig: rec.Sig, URI: rec.URI}
	}
	dec, err := o.inner.decide(context.Background(), s, f)
	o.deliver(rec, orderedResult{d: dec, err: err})
	return Verdict{}, nil
}

func (o *ordered) deliver(rec *Record, r orderedResult) {
	if rec.Inst != o.inst {
		return
	}
	o.mu.Lock()
	ch := o.wait[rec.Nonce]
	delete(o.wait, rec.Nonce)
	o.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}
