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
	recreated    atomic.Int64 // times the consumer was made again after it was deleted

	m *stageMetrics // Prometheus counterparts, nil without metrics
}

func (s *Stats) incProcessed() {
	s.processed.Add(1)
	if s.m != nil {
		s.m.processed.Inc()
	}
}

func (s *Stats) incDropped() {
	s.dropped.Add(1)
	if s.m != nil {
		s.m.dropped.Inc()
	}
}

func (s *Stats) incPublished() {
	s.published.Add(1)
	if s.m != nil {
		s.m.published.Inc()
		s.m.lastPublish.SetToCurrentTime()
	}
}

func (s *Stats) incDuplicates() {
	s.duplicates.Add(1)
	if s.m != nil {
		s.m.duplicates.Inc()
	}
}

func (s *Stats) incErrors() {
	s.errors.Add(1)
	if s.m != nil {
		s.m.errors.Inc()
	}
}

func (s *Stats) incDeadLettered() {
	s.deadLettered.Add(1)
	if s.m != nil {
		s.m.deadLettered.Inc()
	}
}

func (s *Stats) incRedelivered() {
	s.redelivered.Add(1)
	if s.m != nil {
		s.m.redelivered.Inc()
	}
}

func (s *Stats) incRecreated() { s.recreated.Add(1) }

// StatsSnapshot is a copy of the counters.
type StatsSnapshot struct {
	Processed, Dropped, Published, Duplicates, Errors, DeadLettered, Redelivered, PublishRetries int64
	ConsumerRecreated                                                                            int64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Processed:         s.processed.Load(),
		Dropped:           s.dropped.Load(),
		Published:         s.published.Load(),
		Duplicates:        s.duplicates.Load(),
		Errors:            s.errors.Load(),
		DeadLettered:      s.deadLettered.Load(),
		Redelivered:       s.redelivered.Load(),
		PublishRetries:    s.publishRetry.Load(),
		ConsumerRecreated: s.recreated.Load(),
	}
}
