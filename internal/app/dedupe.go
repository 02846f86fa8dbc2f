package app

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/dedupe"
)

// DedupeConfig configures the dedupe stage's shared state.
type DedupeConfig struct {
	// Window is how long stories are remembered (default 7 days): the TTL
	// of the KV bucket and the max age of the signature log.
	Window time.Duration
	// Threshold is the near-duplicate similarity threshold (0: the
	// dedupe package's default, chosen from its precision/recall curve).
	Threshold float64
	// Replicas of the bucket and the log (default 1).
	Replicas int
}

// decideTimeout bounds one dedupe decision (normally well under 10 ms). It
// is below the stage's ack wait (30 s), so a decision that gives up is
// retried by the stage's own Nak, not raced by a redelivery of the same
// input to another worker.
const decideTimeout = 20 * time.Second

// stateOpTimeout bounds one request to the dedupe state (a KV get, create
// or update, a log append; each normally a few ms). A request written to a
// connection as its server dies gets no reply; without this bound the
// decision waited for the decide timeout (then 30 s) before it was retried, which
// stalled the whole stage after a cluster node loss. A retry after a
// timeout is safe: Decide recognises the writes of an earlier attempt of
// the same story (docs/dedupe.md, "Redelivery").
const stateOpTimeout = 5 * time.Second

// dedupeHandler adapts a Deduper to the stage contract: it sets the story's
// dedupe decision and passes the story on (the output routes it downstream
// or to the audit subject).
type dedupeHandler struct {
	d       *dedupe.Deduper
	onClose func()
}

func (h *dedupeHandler) Handle(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
	// Decide waits for its signature to come back through the shared log;
	// bound it, so a stalled log turns into a retry instead of a stuck worker.
	ctx, cancel := context.WithTimeout(ctx, decideTimeout)
	defer cancel()
	dec, err := h.d.Decide(ctx, s)
	return decided(s, dec, err)
}

// decided sets the decision on s and passes it on; an invalid story is a
// permanent error (dead-lettered), anything else is retried.
func decided(s *proto.Story, dec *proto.Dedupe, err error) ([]*proto.Story, error) {
	if err != nil {
		if errors.Is(err, dedupe.ErrInvalidStory) {
			return nil, proto.Permanent(err)
		}
		return nil, err
	}
	s.Dedupe = dec
	return []*proto.Story{s}, nil
}

// handlePrepared is Handle for a story whose story-only work was done ahead
// by h.d.Prepare (on another goroutine).
func (h *dedupeHandler) handlePrepared(ctx context.Context, s *proto.Story, p *dedupe.Prepared) ([]*proto.Story, error) {
	dec, err := h.d.DecidePrepared(ctx, s, p)
	return decided(s, dec, err)
}

func (h *dedupeHandler) Close(context.Context) error {
	err := h.d.Close()
	if h.onClose != nil {
		h.onClose()
	}
	return err
}

var _ pipeline.Handler = (*dedupeHandler)(nil)

// newDedupeHandler builds the dedupe stage on JetStream state: a KV bucket
// for uri records and content claims (atomic create, compare-and-set) and a
// shared log of near-duplicate signatures that every process replays, so
// that N processes decide as one and a restart keeps what was seen.
func newDedupeHandler(ctx context.Context, js jetstream.JetStream, cfg Config, log *zap.Logger) (pipeline.Handler, error) {
	if log == nil {
		log = zap.NewNop()
	}
	dc := cfg.Dedupe
	if dc.Window == 0 {
		dc.Window = dedupe.DefaultWindow
	}
	if dc.Replicas == 0 {
		dc.Replicas = 1
	}
	bucket := cfg.Names.DedupeBucket()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "wirestream dedupe state", History: 1, TTL: dc.Window,
		Storage: jetstream.FileStorage, Replicas: dc.Replicas,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("dedupe bucket %s: %w", bucket, err)
	}
	slog, err := pipeline.NewSharedLog(ctx, js, pipeline.SharedLogConfig{
		Stream: cfg.Names.DedupeLogStream(), Subject: cfg.Names.Prefix + ".dedupe.log",
		MaxAge: dc.Window, Replicas: dc.Replicas,
	}, log)
	if err != nil {
		return nil, err
	}
	d, err := dedupe.New(dedupe.Config{Window: dc.Window, Threshold: dc.Threshold, Log: sharedLog{slog}}, kvStore{kv})
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
			_, err = d.Apply(rec)
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
		d.Close()
		slog.Close()
		return nil, fmt.Errorf("dedupe: replay signature log: %w", err)
	}
	return &dedupeHandler{d: d, onClose: slog.Close}, nil
}

// newOfflineDedupe is the dedupe stage with state in memory (enrich).
func newOfflineDedupe(cfg Config) (*dedupeHandler, error) {
	window := cfg.Dedupe.Window
	if window == 0 {
		window = dedupe.DefaultWindow
	}
	d, err := dedupe.New(dedupe.Config{Window: window, Threshold: cfg.Dedupe.Threshold}, dedupe.NewMemoryStore(window, nil))
	if err != nil {
		return nil, err
	}
	return &dedupeHandler{d: d}, nil
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

var _ dedupe.Store = kvStore{}
