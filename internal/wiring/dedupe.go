package wiring

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/stages/dedupe"
)

// stateOpTimeout bounds one request to the dedupe state (a KV get, create
// or update, a log append; each normally a few ms). A request written to a
// connection as its server dies gets no reply; without this bound the
// decision waited for the decide timeout before it was retried, which
// stalled the whole stage after a cluster node loss. A retry after a
// timeout is safe: Decide recognises the writes of an earlier attempt of
// the same story (docs/dedupe.md, "Redelivery").
const stateOpTimeout = 5 * time.Second

// newDedupe builds the dedupe stage. On JetStream (d.JS set) its state is
// shared by every process: a KV bucket for uri records and content claims
// (atomic create, compare-and-set) and a shared log of near-duplicate
// signatures that every process replays, so N processes decide as one and a
// restart keeps what was seen. Offline the state is in memory.
func newDedupe(ctx context.Context, d Deps) (pipeline.Handler, error) {
	log := d.Log
	if log == nil {
		log = zap.NewNop()
	}
	dc := d.Dedupe
	if dc.Window == 0 {
		dc.Window = dedupe.DefaultWindow
	}
	if dc.Replicas == 0 {
		dc.Replicas = 1
	}
	if d.JS == nil {
		dd, err := dedupe.New(dedupe.Config{Window: dc.Window, Threshold: dc.Threshold}, dedupe.NewMemoryStore(dc.Window, nil))
		if err != nil {
			return nil, err
		}
		return dedupe.NewStage(dd, nil), nil
	}
	var store dedupe.Store
	state := dc.State
	if state == "" {
		// Auto: a namespace whose dedupe already keeps its state in the KV
		// bucket (a deployment from before the ordered log, or one set to
		// kv) goes on with it, so an upgrade or a rolling restart never has
		// processes of both designs deciding side by side; a new one starts
		// with the ordered log.
		state = DedupeStateLog
		if _, err := d.JS.KeyValue(ctx, d.Names.DedupeBucket()); err == nil {
			state = DedupeStateKV
		} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
			return nil, fmt.Errorf("dedupe state: look for bucket %s: %w", d.Names.DedupeBucket(), err)
		}
	}
	switch state {
	case DedupeStateLog:
	case DedupeStateKV:
		kv, err := pipeline.EnsureBucket(ctx, d.JS, jetstream.KeyValueConfig{
			Bucket: d.Names.DedupeBucket(), Description: "wirestream dedupe state", History: 1, TTL: dc.Window,
			Storage: jetstream.FileStorage, Replicas: dc.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("dedupe state: %w", err)
		}
		store = kvStore{kv}
	default:
		return nil, fmt.Errorf("%w: dedupe state %q: %s or %s", pipeline.ErrConfig, dc.State, DedupeStateLog, DedupeStateKV)
	}
	slog, err := pipeline.NewSharedLog(ctx, d.JS, pipeline.SharedLogConfig{
		Stream: d.Names.DedupeLogStream(), Subject: d.Names.Prefix + ".dedupe.log",
		MaxAge: dc.Window, Replicas: dc.Replicas,
	}, log)
	if err != nil {
		return nil, err
	}
	dd, err := dedupe.New(dedupe.Config{Window: dc.Window, Threshold: dc.Threshold, Log: sharedLog{slog}, Ordered: store == nil}, store)
	if err != nil {
		return nil, err
	}
	var skipped atomic.Int64
	err = slog.Start(ctx, func(data []byte) error {
		// A record that cannot be read or applied (written by another
		// version or with another signature shape, or damaged) is skipped:
		// stopping the reader on it would make every later decision wait
		// for its own record until the decide timeout, and a restarted
		// instance could not start for as long as the record stays in the
		// log. What a skip costs: that one story is missing from this
		// instance's near-duplicate index. Logged, the first and every
		// 1,000th, with the count.
		rec := new(dedupe.Record)
		err := rec.UnmarshalBinary(data)
		if err == nil {
			_, err = dd.Apply(rec)
		}
		if errors.Is(err, dedupe.ErrBadRecord) {
			if n := skipped.Add(1); n == 1 || n%1000 == 0 {
				log.Error("dedupe: skipping a signature record this version cannot use", zap.Int64("skipped", n), zap.Int("bytes", len(data)), zap.Error(err))
			}
			return nil
		}
		return err
	})
	if err != nil {
		dd.Close()
		slog.Close()
		return nil, fmt.Errorf("dedupe: replay signature log: %w", err)
	}
	return dedupe.NewStage(dd, func() error { slog.Close(); return nil }), nil
}

// sharedLog carries dedupe signature records over a pipeline.SharedLog.
type sharedLog struct{ l *pipeline.SharedLog }

func (s sharedLog) Append(ctx context.Context, rec *dedupe.Record) error {
	b, err := rec.MarshalBinary()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, stateOpTimeout)
	defer cancel()
	return s.l.Append(ctx, b)
}

// kvStore is dedupe.Store on a JetStream KV bucket.
type kvStore struct{ kv jetstream.KeyValue }

var _ dedupe.Store = kvStore{}

func (s kvStore) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, stateOpTimeout)
	defer cancel()
	rev, err := s.kv.Create(ctx, key, value)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("%w: %v", dedupe.ErrExists, err)
	}
	return rev, err
}

func (s kvStore) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, stateOpTimeout)
	defer cancel()
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, 0, fmt.Errorf("%w: %v", dedupe.ErrNotFound, err)
	}
	if err != nil {
		return nil, 0, err
	}
	return e.Value(), e.Revision(), nil
}

func (s kvStore) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, stateOpTimeout)
	defer cancel()
	n, err := s.kv.Update(ctx, key, value, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, fmt.Errorf("%w: %v", dedupe.ErrConflict, err)
	}
	return n, err
}
