package dedupe

import (
	"context"
	"sync"
	"time"
)

// Log is the shared, totally ordered log of near-duplicate signature records
// that keeps the in-memory indexes of all instances in step. The JetStream
// implementation is a stream (MaxAge = the window) that every instance
// publishes to and consumes in full, in stream order.
//
// Append publishes rec. The implementation must then call Apply with every
// record of the log, in log order, on every instance — including rec on the
// instance that appended it. Decide waits for that local Apply of its own
// record: applying the same records in the same order gives every instance
// the same verdicts, so of two near copies decided at the same moment on two
// instances exactly one is new (the one earlier in the log) and the other is
// its near duplicate. On start an instance replays the log (the records
// within the window) before deciding, which is how a restart keeps the
// near-duplicate index.
type Log interface {
	Append(ctx context.Context, rec *Record) error
}

// MemoryLog is an in-process Log shared by several Dedupers: Append applies
// the record to every subscriber under one lock, so all see one order. It
// retains the records (Time within the window of the newest) so that a
// Deduper subscribed later, e.g. after a restart, replays them.
type MemoryLog struct {
	mu      sync.Mutex
	subs    []*Deduper
	records []*Record
	window  int64 // seconds
	maxTime int64
}

// NewMemoryLog returns an empty log retaining records whose Time is within
// window of the newest record's (0 means DefaultWindow).
func NewMemoryLog(window time.Duration) *MemoryLog {
	if window <= 0 {
		window = DefaultWindow
	}
	return &MemoryLog{window: int64(window.Seconds())}
}

// Subscribe replays the retained records into d and then delivers every
// later record to it.
func (l *MemoryLog) Subscribe(d *Deduper) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if _, err := d.Apply(r); err != nil {
			return err
		}
	}
	l.subs = append(l.subs, d)
	return nil
}

// Append implements Log.
func (l *MemoryLog) Append(ctx context.Context, rec *Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if rec.Time > l.maxTime {
		l.maxTime = rec.Time
		n := 0
		for n < len(l.records) && l.records[n].Time != 0 && l.records[n].Time < l.maxTime-l.window {
			n++
		}
		l.records = l.records[n:]
	}
	l.records = append(l.records, rec)
	var first error
	for _, d := range l.subs {
		if _, err := d.Apply(rec); err != nil && first == nil {
			first = err
		}
	}
	return first
}
