package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// SharedLogConfig configures a SharedLog.
type SharedLogConfig struct {
	Stream   string        // stream name, created if absent. Required.
	Subject  string        // the one subject of the log. Required.
	MaxAge   time.Duration // how long records are kept. Required.
	Replicas int           // default 1
	Memory   bool          // memory storage (tests)
}

// SharedLog is a totally ordered log in a JetStream stream that every
// process of a stage appends to and reads in full, in stream order: the way
// instances keep in-memory state (the dedupe stage's near-duplicate index)
// in step. Start replays the retained records before it returns, so a
// restarted process rebuilds its state; then every new record, its own
// included, is applied as it is stored.
type SharedLog struct {
	cfg    SharedLogConfig
	js     jetstream.JetStream
	log    *zap.Logger
	stream jetstream.Stream
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

// NewSharedLog creates the log's stream (idempotently). Call Start to read it.
func NewSharedLog(ctx context.Context, js jetstream.JetStream, cfg SharedLogConfig, log *zap.Logger) (*SharedLog, error) {
	if cfg.Stream == "" || cfg.Subject == "" || cfg.MaxAge <= 0 {
		return nil, fmt.Errorf("%w: SharedLogConfig needs Stream, Subject and a positive MaxAge", ErrConfig)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if log == nil {
		log = zap.NewNop()
	}
	storage := jetstream.FileStorage
	if cfg.Memory {
		storage = jetstream.MemoryStorage
	}
	sc := jetstream.StreamConfig{
		Name: cfg.Stream, Description: "wirestream shared log", Subjects: []string{cfg.Subject},
		Retention: jetstream.LimitsPolicy, Storage: storage, Replicas: cfg.Replicas, MaxAge: cfg.MaxAge,
		MaxBytes: -1, MaxMsgs: -1, Discard: jetstream.DiscardOld, Duplicates: 2 * time.Minute,
	}
	if err := ensureStream(ctx, js, sc); err != nil {
		return nil, err
	}
	s, err := js.Stream(ctx, cfg.Stream)
	if err != nil {
		return nil, err
	}
	return &SharedLog{cfg: cfg, js: js, log: log, stream: s, done: make(chan struct{})}, nil
}

// Start reads the log from its first retained record and calls apply with
// each record's data, in order, from one goroutine. It returns once every
// record stored before the call has been applied. apply errors are logged
// and stop the reader (Err reports them).
func (l *SharedLog) Start(ctx context.Context, apply func(data []byte) error) error {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("shared log %s: %w", l.cfg.Stream, err)
	}
	target := info.State.LastSeq
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return fmt.Errorf("shared log %s: %w", l.cfg.Stream, err)
	}
	iter, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return fmt.Errorf("shared log %s: %w", l.cfg.Stream, err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	caughtUp := make(chan struct{})
	var once sync.Once
	if target == 0 || info.State.Msgs == 0 {
		once.Do(func() { close(caughtUp) })
	}
	go func() {
		defer close(l.done)
		go func() { <-runCtx.Done(); iter.Stop() }()
		for {
			m, err := iter.Next()
			if err != nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) || runCtx.Err() != nil {
					return
				}
				l.log.Warn("shared log read", zap.String("stream", l.cfg.Stream), zap.Error(err))
				select {
				case <-runCtx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				continue
			}
			if err := apply(m.Data()); err != nil {
				l.mu.Lock()
				l.err = err
				l.mu.Unlock()
				l.log.Error("shared log apply", zap.String("stream", l.cfg.Stream), zap.Error(err))
				once.Do(func() { close(caughtUp) })
				return
			}
			if md, err := m.Metadata(); err == nil && md.Sequence.Stream >= target {
				once.Do(func() { close(caughtUp) })
			}
		}
	}()
	select {
	case <-caughtUp:
		return l.Err()
	case <-ctx.Done():
		cancel()
		return ctx.Err()
	}
}

// Append stores data in the log and waits for JetStream's acknowledgement.
// The record reaches apply (on every process) shortly after.
func (l *SharedLog) Append(ctx context.Context, data []byte) error {
	m := nats.NewMsg(l.cfg.Subject)
	m.Data = data
	f, err := l.js.PublishMsgAsync(m)
	if err != nil {
		return err
	}
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err returns the error that stopped the reader, if any.
func (l *SharedLog) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Close stops reading.
func (l *SharedLog) Close() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
}
