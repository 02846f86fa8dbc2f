package pipeline

import "sync/atomic"

// Stats counts what a stage did since it started. Read it with Snapshot.
type Stats struct {
	processed    atomic.Int64 // inputs acknowledged after success
	dropped      atomic.Int64 // inputs the stage consumed with no output
	published    atomic.Int64 // outputs acknowledged by JetStream
	duplicates   atomic.Int64 // outputs JetStream reported as duplicates
	errors       atomic.Int64 // handler errors (each try)
	deadLettered atomic.Int64 // inputs sent to the dead-letter subject
	redelivered  atomic.Int64 // inputs seen with a delivery count above 1
	publishRetry atomic.Int64 // output publishes retried
}

// StatsSnapshot is a copy of the counters.
type StatsSnapshot struct {
	Processed, Dropped, Published, Duplicates, Errors, DeadLettered, Redelivered, PublishRetries int64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Processed:      s.processed.Load(),
		Dropped:        s.dropped.Load(),
		Published:      s.published.Load(),
		Duplicates:     s.duplicates.Load(),
		Errors:         s.errors.Load(),
		DeadLettered:   s.deadLettered.Load(),
		Redelivered:    s.redelivered.Load(),
		PublishRetries: s.publishRetry.Load(),
	}
}
