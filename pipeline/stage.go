package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/proto"
)

// StageConfig configures how a stage consumes, retries and dead-letters.
type StageConfig struct {
	// Name of the stage ("ingest", "tag"...). Required.
	Name string
	// Stream and Subject are the input: the stream to consume and the
	// filter subject. Required (ForStage fills them for the pipeline's stages).
	Stream  string
	Subject string
	// DeadLetter is the subject failed inputs go to. Required.
	DeadLetter string
	// Output is where results go. Required unless the stage never returns any.
	Output Output
	// Durable is the consumer name shared by every process of the stage.
	// Default "ws-" + Name.
	Durable string
	// Workers is the number of inputs handled at once in this process. Default 4.
	Workers int
	// Batch is how many messages one pull asks for. Default 64.
	Batch int
	// PullExpiry is how long one pull request waits at the server; the
	// server sends heartbeats at half of it, and two missed heartbeats make
	// the client pull again. It bounds how long a stage waits when the
	// server holding its pull request dies (a cluster node loss) before it
	// pulls from the new consumer leader. Default 5 s (nats.go's default,
	// 30 s, stalled a stage for 30 s after a node loss). At least 1 s.
	PullExpiry time.Duration
	// MaxAckPending bounds unacknowledged inputs across all processes of the
	// stage: the backpressure limit. Default 1024.
	MaxAckPending int
	// AckWait is how long the server waits for an ack before redelivering.
	// Default 30 s.
	AckWait time.Duration
	// MaxDeliver is how many times a failing input is tried before it is
	// dead-lettered. Default 5. An input delivered more than 2*MaxDeliver
	// times without an outcome (the process died on it each time) is
	// dead-lettered before the stage sees it again.
	MaxDeliver int
	// Backoff is the delay before retry n (the last value repeats).
	// Default 250ms, 1s, 5s, 15s.
	Backoff []time.Duration
	// DrainTimeout bounds how long shutdown waits for in-flight inputs.
	// Default 30 s; what is unfinished then is handed back to the server.
	DrainTimeout time.Duration
	// PublishTimeout bounds one attempt to get publish acks. Default 10 s.
	PublishTimeout time.Duration
	// Metrics, when set, receives the stage's Prometheus metrics.
	Metrics *Metrics
	// Observe, when set, is called with every output before it is
	// published (domain metrics: dedupe decisions, tag counts). It must be
	// quick and must not keep or change the story.
	Observe func(s *proto.Story)
}

func (c *StageConfig) setDefaults() {
	if c.Durable == "" {
		c.Durable = "ws-" + c.Name
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Batch == 0 {
		c.Batch = 64
	}
	if c.PullExpiry == 0 {
		c.PullExpiry = 5 * time.Second
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = 1024
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 5
	}
	if c.Backoff == nil {
		c.Backoff = []time.Duration{250 * time.Millisecond, time.Second, 5 * time.Second, 15 * time.Second}
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 10 * time.Second
	}
}

// Validate reports a configuration error naming the field.
func (c StageConfig) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: StageConfig.Name is empty", ErrConfig)
	case c.Stream == "":
		return fmt.Errorf("%w: StageConfig.Stream of stage %q is empty", ErrConfig, c.Name)
	case c.Subject == "":
		return fmt.Errorf("%w: StageConfig.Subject of stage %q is empty", ErrConfig, c.Name)
	case c.DeadLetter == "":
		return fmt.Errorf("%w: StageConfig.DeadLetter of stage %q is empty", ErrConfig, c.Name)
	case c.Workers < 1:
		return fmt.Errorf("%w: StageConfig.Workers %d must be at least 1", ErrConfig, c.Workers)
	case c.Batch < 1:
		return fmt.Errorf("%w: StageConfig.Batch %d must be at least 1", ErrConfig, c.Batch)
	case c.PullExpiry < time.Second:
		return fmt.Errorf("%w: StageConfig.PullExpiry %s is under 1s", ErrConfig, c.PullExpiry)
	case c.MaxAckPending < c.Workers:
		return fmt.Errorf("%w: StageConfig.MaxAckPending %d is below Workers %d", ErrConfig, c.MaxAckPending, c.Workers)
	case c.MaxDeliver < 1:
		return fmt.Errorf("%w: StageConfig.MaxDeliver %d must be at least 1", ErrConfig, c.MaxDeliver)
	case c.AckWait < time.Second:
		return fmt.Errorf("%w: StageConfig.AckWait %s is under 1s", ErrConfig, c.AckWait)
	case len(c.Backoff) == 0:
		return fmt.Errorf("%w: StageConfig.Backoff is empty", ErrConfig)
	}
	return nil
}

// Stage runs one stage's handler as a durable pull consumer.
type Stage struct {
	cfg    StageConfig
	js     jetstream.JetStream
	log    *zap.Logger
	handle func(ctx context.Context, in *inbound) ([]*proto.Story, error)
	close  func(ctx context.Context) error
	stats  Stats
	ready  chan struct{}
	track  tracker
	// retrying counts the workers waiting to retry a publish the server
	// refused for its own trouble.
	retrying atomic.Int32
}

// inbound is one input message with its metadata.
type inbound struct {
	msg       jetstream.Msg
	data      []byte
	header    nats.Header
	subject   string
	stream    string
	seq       uint64
	delivered uint64
	timestamp time.Time
}

// NewStage returns a runtime for a stage that reads stories.
func NewStage(js jetstream.JetStream, cfg StageConfig, h Handler, log *zap.Logger) (*Stage, error) {
	st, err := newStage(js, cfg, log)
	if err != nil {
		return nil, err
	}
	st.handle = func(ctx context.Context, in *inbound) ([]*proto.Story, error) {
		enc, err := proto.ParseEncoding(in.header.Get(proto.HeaderEncoding))
		if err != nil {
			return nil, err
		}
		// The message's data is this input's own (the client allocates it
		// per message) and nothing writes to it, so the story's strings can
		// point into it instead of into a copy.
		var s *proto.Story
		if enc == proto.EncodingProto {
			s, err = proto.UnmarshalProtoOwned(in.data)
		} else {
			s, err = proto.Unmarshal(enc, in.data)
		}
		if err != nil {
			return nil, err
		}
		return h.Handle(ctx, s)
	}
	st.close = h.Close
	return st, nil
}

// NewRawStage returns a runtime for a stage that reads raw input (ingest).
func NewRawStage(js jetstream.JetStream, cfg StageConfig, h RawHandler, log *zap.Logger) (*Stage, error) {
	st, err := newStage(js, cfg, log)
	if err != nil {
		return nil, err
	}
	st.handle = func(ctx context.Context, in *inbound) ([]*proto.Story, error) {
		return h.HandleRaw(ctx, in.data, proto.ParseRawMeta(in.header, in.subject, in.seq, in.timestamp))
	}
	st.close = h.Close
	return st, nil
}

func newStage(js jetstream.JetStream, cfg StageConfig, log *zap.Logger) (*Stage, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if js == nil {
		return nil, fmt.Errorf("%w: stage %q has no JetStream context", ErrConfig, cfg.Name)
	}
	if log == nil {
		log = zap.NewNop()
	}
	st := &Stage{cfg: cfg, js: js, log: log.With(zap.String("stage", cfg.Name)), ready: make(chan struct{})}
	st.stats.m = cfg.Metrics.forStage(cfg.Name)
	return st, nil
}

// Stuck reports whether every worker of the stage is waiting to retry a
// publish: the stage takes no new input until the server's trouble clears,
// so the process is not ready (/readyz).
func (st *Stage) Stuck() bool { return int(st.retrying.Load()) >= st.cfg.Workers }

// Name returns the stage's name.
func (st *Stage) Name() string { return st.cfg.Name }

// Stats returns a snapshot of the stage's counters.
func (st *Stage) Stats() StatsSnapshot { return st.stats.Snapshot() }

// Ready is closed once the stage's consumer exists and it is fetching.
func (st *Stage) Ready() <-chan struct{} { return st.ready }

// Run consumes until ctx is cancelled, then drains: it stops fetching,
// finishes the inputs in flight (bounded by DrainTimeout; what is left is
// handed back to the server for redelivery), closes the handler and returns.
// It returns an error if the stage cannot start, or if consuming ends
// before ctx does (the consumer was deleted, the connection was closed):
// a stage that cannot consume stops instead of idling.
func (st *Stage) Run(ctx context.Context) error {
	cfg := st.cfg
	cons, err := ensureConsumer(ctx, st.js, cfg.Stream, st.consumerConfig(0))
	if err != nil {
		return err
	}
	st.track.init(cons.CachedInfo().AckFloor.Stream + 1)
	// Handlers run under workCtx, which outlives ctx by up to DrainTimeout.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	// Consume (a callback) rather than the Messages iterator: the iterator
	// buffers deliveries in a channel of cfg.Batch and drops what does not
	// fit ("slow consumer, messages dropped"). After a reconnect or a
	// missed heartbeat the client issues a new pull while the old one may
	// still be live on the consumer leader, so up to twice the batch
	// arrives while the workers are busy; each dropped message then waited
	// AckWait (30 s) for redelivery. That happened in 3 of 4 runs of
	// TestClusterNodeLossMidStream, which now fails on it. A callback
	// subscription queues deliveries without that limit (the pulls still
	// bound them), and the callback blocks while every worker is busy.
	msgs := make(chan jetstream.Msg)
	abandon := make(chan struct{}) // closed when the drain gives up
	workersDone := make(chan struct{})
	var lastErr atomic.Pointer[error] // the last error the consumer reported
	consume := func(c jetstream.Consumer) (jetstream.ConsumeContext, error) {
		lastErr.Store(nil)
		return c.Consume(func(m jetstream.Msg) {
			select {
			case msgs <- m:
			case <-abandon:
				_ = m.Nak()
			}
		}, jetstream.PullMaxMessages(cfg.Batch), jetstream.PullExpiry(cfg.PullExpiry), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			st.log.Warn("fetch", zap.Error(err))
			lastErr.Store(&err)
		}))
	}
	cc, err := consume(cons)
	if err != nil {
		return fmt.Errorf("start fetching: %w", err)
	}
	st.log.Info("stage started", zap.String("stream", cfg.Stream), zap.String("subject", cfg.Subject),
		zap.String("durable", cfg.Durable), zap.Int("workers", cfg.Workers))
	close(st.ready)
	lagCtx, stopLag := context.WithCancel(ctx)
	defer stopLag()
	var lagCons atomic.Pointer[jetstream.Consumer]
	lagCons.Store(&cons)
	go st.watchConsumer(lagCtx, func() jetstream.Consumer { return *lagCons.Load() }, 5*time.Second)

	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case m := <-msgs:
					st.process(workCtx, m)
				case <-workersDone:
					return
				}
			}
		}()
	}

	// Consuming ends on ctx (shutdown: drain) or on its own, when the
	// client gives up. A deleted consumer (nats consumer rm) is made again
	// and consuming goes on, from where this process had got to: the
	// other stages of the process never notice. Anything else (the
	// connection closed) stops the stage with an error: a stage that
	// cannot consume must not sit there alive and idle.
	var stopped error
	for {
		// Taken now, while the subscription is valid: it is closed after
		// the last callback has returned, so no delivery is in msgs then.
		consumed := cc.Closed()
		select {
		case <-ctx.Done():
		case <-consumed:
		}
		if ctx.Err() != nil {
			st.log.Info("stage draining")
			cc.Drain()
			break
		}
		reason := errors.New("consuming ended")
		if e := lastErr.Load(); e != nil {
			reason = *e
		}
		if !consumerGone(reason) {
			st.log.Error("stage stopped consuming", zap.String("reason", reason.Error()))
			stopped = fmt.Errorf("stopped consuming: %s", reason)
			break
		}
		c, err := st.recreate(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			st.log.Error("stage stopped consuming: its consumer was deleted and could not be made again", zap.Error(err))
			stopped = fmt.Errorf("stopped consuming: consumer %q deleted, and recreating it failed: %w", cfg.Durable, err)
			break
		}
		if cc, err = consume(c); err != nil {
			stopped = fmt.Errorf("start fetching again: %w", err)
			break
		}
		lagCons.Store(&c)
	}
	// The final subscription is closed (or stopped below): no callback
	// is left to hand a delivery to the workers.
	go func() { <-cc.Closed(); close(workersDone) }()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(cfg.DrainTimeout):
		st.log.Warn("drain timeout: handing unfinished inputs back", zap.Duration("timeout", cfg.DrainTimeout))
		cancelWork()
		close(abandon)
		cc.Stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			st.log.Warn("consumer did not close after the drain timeout")
		}
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := st.close(closeCtx); err != nil {
		st.log.Warn("close stage", zap.Error(err))
	}
	s := st.stats.Snapshot()
	st.log.Info("stage stopped", zap.Int64("processed", s.Processed), zap.Int64("published", s.Published),
		zap.Int64("dead_lettered", s.DeadLettered), zap.Int64("errors", s.Errors))
	return stopped
}

// watchConsumer reads the consumer's info every few seconds until ctx
// ends: its lag for the metrics, its ack floor for the tracker.
func (st *Stage) watchConsumer(ctx context.Context, consumer func() jetstream.Consumer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ictx, cancel := context.WithTimeout(ctx, every)
		info, err := consumer().Info(ictx)
		cancel()
		if err == nil {
			st.stats.m.setLag(info)
			st.track.ackFloor(info.AckFloor.Stream)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// consumerConfig is the stage's durable consumer; start > 0 makes it begin
// at that stream sequence (a consumer made again after it was deleted).
func (st *Stage) consumerConfig(start uint64) jetstream.ConsumerConfig {
	cfg := st.cfg
	cc := jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "wirestream stage " + cfg.Name,
		FilterSubject: cfg.Subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1, // the runtime enforces MaxDeliver so nothing is dropped silently
		MaxAckPending: cfg.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if start > 0 {
		cc.DeliverPolicy, cc.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	return cc
}

// consumerGone reports whether consuming ended because the consumer no
// longer exists.
func consumerGone(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound)
}

// recreate makes the stage's consumer again after it was deleted, retrying
// until ctx ends. On a work queue (what is acknowledged is gone) it starts
// at the beginning, which is what is still unprocessed; on another stream
// (the raw history) at the first input this process had not finished, so
// nothing it processed is processed again and nothing after it is skipped.
// Another process of the stage may have made it already: then it is used.
func (st *Stage) recreate(ctx context.Context) (jetstream.Consumer, error) {
	backoff := 100 * time.Millisecond
	for {
		var start uint64
		s, err := st.js.Stream(ctx, st.cfg.Stream)
		if err == nil && s.CachedInfo().Config.Retention != jetstream.WorkQueuePolicy {
			start = st.track.floor()
		}
		if err == nil {
			var c jetstream.Consumer
			if c, err = ensureConsumer(ctx, st.js, st.cfg.Stream, st.consumerConfig(start)); err == nil {
				st.log.Warn("the stage's consumer was deleted; made it again and consuming goes on",
					zap.String("durable", st.cfg.Durable), zap.String("stream", st.cfg.Stream), zap.Uint64("from_stream_seq", start))
				st.stats.incRecreated()
				return c, nil
			}
		}
		if errors.Is(err, ErrIncompatible) {
			return nil, err
		}
		st.log.Warn("recreating the stage's consumer", zap.Error(err), zap.Duration("retry_in", backoff))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

// tracker follows which inputs are finished (acknowledged or
// dead-lettered), so that a consumer made again after it was deleted starts
// where the stage got to. An input handed back for a retry stays
// unfinished until this process finishes it or the consumer's ack floor
// (read every few seconds) passes it: then another process did.
type tracker struct {
	mu         sync.Mutex
	next       uint64              // every input below it is finished
	unfinished map[uint64]struct{} // inputs seen here and not yet finished
}

func (t *tracker) init(next uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next, t.unfinished = next, map[uint64]struct{}{}
}

func (t *tracker) start(seq uint64) {
	t.mu.Lock()
	t.unfinished[seq] = struct{}{}
	t.mu.Unlock()
}

func (t *tracker) done(seq uint64) {
	t.mu.Lock()
	delete(t.unfinished, seq)
	if seq >= t.next {
		t.next = seq + 1
	}
	t.mu.Unlock()
}

// ackFloor takes the consumer's ack floor: every input up to it is
// finished, by whichever process.
func (t *tracker) ackFloor(floor uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for seq := range t.unfinished {
		if seq <= floor {
			delete(t.unfinished, seq)
		}
	}
	if floor >= t.next {
		t.next = floor + 1
	}
}

// floor is where to start again: the lowest unfinished input, else the one
// after the last finished.
func (t *tracker) floor() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.next
	for seq := range t.unfinished {
		if seq < f {
			f = seq
		}
	}
	return max(f, 1)
}

func (st *Stage) process(ctx context.Context, m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		st.log.Error("message without JetStream metadata", zap.String("subject", m.Subject()), zap.Error(err))
		_ = m.Term()
		return
	}
	in := &inbound{msg: m, data: m.Data(), header: m.Headers(), subject: m.Subject(), stream: md.Stream,
		seq: md.Sequence.Stream, delivered: md.NumDelivered, timestamp: md.Timestamp}
	st.track.start(in.seq)
	if in.header == nil {
		in.header = nats.Header{}
	}
	if in.delivered > 1 {
		st.stats.incRedelivered()
	}
	pub := &publisher{js: st.js, stats: &st.stats, log: st.log, timeout: st.cfg.PublishTimeout,
		progress: func() { _ = m.InProgress() }, retrying: &st.retrying}
	if ctx.Err() != nil {
		_ = m.Nak()
		return
	}
	if in.delivered > uint64(2*st.cfg.MaxDeliver) {
		st.deadLetter(ctx, pub, in, "max-deliver",
			fmt.Errorf("delivered %d times without an outcome: the stage may crash on it", in.delivered))
		return
	}
	start := time.Now()
	outs, err := st.call(ctx, in)
	if st.stats.m != nil {
		st.stats.m.latency.Observe(time.Since(start).Seconds())
	}
	if err != nil {
		st.stats.incErrors()
		switch {
		case ctx.Err() != nil:
			_ = m.Nak()
		case proto.IsPermanent(err):
			st.deadLetter(ctx, pub, in, "permanent", err)
		case in.delivered >= uint64(st.cfg.MaxDeliver):
			st.deadLetter(ctx, pub, in, "max-deliver", fmt.Errorf("failed %d times, last: %w", in.delivered, err))
		default:
			delay := st.backoff(in.delivered)
			st.log.Warn("handler failed, retrying", st.fields(in, zap.Duration("delay", delay), zap.Error(err))...)
			_ = m.NakWithDelay(delay)
		}
		return
	}
	if st.cfg.Output == nil && len(outs) > 0 {
		st.log.Error("stage returned stories but has no output", st.fields(in)...)
		st.deadLetter(ctx, pub, in, "permanent", errors.New("stage has no output configured"))
		return
	}
	for _, s := range outs {
		if st.cfg.Observe != nil {
			st.cfg.Observe(s)
		}
		if err := st.cfg.Output.publish(ctx, pub, in, s); err != nil {
			if proto.IsPermanent(err) {
				// The server refuses the output for what it is (too large,
				// headers over its limit): no retry can store it.
				st.deadLetter(ctx, pub, in, "permanent", err)
				return
			}
			// Only shutdown stops the publisher's retries: hand the input back.
			st.log.Warn("publish abandoned, input handed back", st.fields(in, zap.Error(err))...)
			_ = m.Nak()
			return
		}
	}
	if len(outs) == 0 {
		st.stats.incDropped()
	}
	err = m.Ack()
	st.track.done(in.seq) // its outputs are stored, acked or not
	if err != nil {
		st.log.Warn("ack", st.fields(in, zap.Error(err))...)
		return
	}
	st.stats.incProcessed()
}

// call runs the handler, turning a panic into an error.
func (st *Stage) call(ctx context.Context, in *inbound) (outs []*proto.Story, err error) {
	defer func() {
		if v := recover(); v != nil {
			outs, err = nil, recoverError(v)
		}
	}()
	return st.handle(ctx, in)
}

func (st *Stage) backoff(delivered uint64) time.Duration {
	i := int(delivered) - 1
	if i >= len(st.cfg.Backoff) {
		i = len(st.cfg.Backoff) - 1
	}
	if i < 0 {
		i = 0
	}
	return st.cfg.Backoff[i]
}

// deadLetter publishes the input to the dead-letter subject with the reason
// in headers, then terminates it. If the dead letter cannot be stored
// (shutdown), the input is handed back instead.
//
// The dead letter must be storable even when the input's own headers or
// size are why it failed: copied header values are cut to
// proto.DefaultLimits.HeaderBytes (at most 32 of them), and a body the
// server refuses with the headers added is cut to what fits, saying so in
// Ws-Error-Body.
func (st *Stage) deadLetter(ctx context.Context, pub *publisher, in *inbound, kind string, reason error) {
	dm := nats.NewMsg(st.cfg.DeadLetter)
	dm.Data = in.data
	copied := 0
	for k, v := range in.header {
		if k == proto.HeaderMsgID || len(v) == 0 || copied == 32 {
			continue
		}
		dm.Header[k] = []string{cutHeader(v[0], proto.DefaultLimits.HeaderBytes)}
		copied++
	}
	dm.Header.Set(proto.HeaderMsgID, "dlq:"+in.stream+":"+strconv.FormatUint(in.seq, 10))
	dm.Header.Set(proto.HeaderError, oneLine(reason.Error()))
	dm.Header.Set(proto.HeaderErrorKind, kind)
	dm.Header.Set(proto.HeaderStage, st.cfg.Name)
	dm.Header.Set(proto.HeaderOrigSubject, in.subject)
	dm.Header.Set(proto.HeaderOrigStream, in.stream)
	dm.Header.Set(proto.HeaderOrigSeq, strconv.FormatUint(in.seq, 10))
	dm.Header.Set(proto.HeaderDeliveredCount, strconv.FormatUint(in.delivered, 10))
	_, err := pub.publishAll(ctx, []*nats.Msg{dm})
	if proto.IsPermanent(err) {
		// With the headers added, the body no longer fits: keep what does.
		room := max(int(st.js.Conn().MaxPayload())-headerBytes(dm.Header)-1024, 0)
		if room < len(dm.Data) {
			dm.Header.Set(proto.HeaderErrorBody, fmt.Sprintf("cut to %d of %d bytes; the whole input is message %d of %s", room, len(in.data), in.seq, in.stream))
			dm.Data = in.data[:room]
		}
		_, err = pub.publishAll(ctx, []*nats.Msg{dm})
	}
	if err != nil {
		st.log.Warn("dead letter not stored, input handed back", st.fields(in, zap.Error(err))...)
		_ = in.msg.Nak()
		return
	}
	err = in.msg.TermWithReason(kind + ": " + oneLine(reason.Error()))
	st.track.done(in.seq)
	if err != nil {
		st.log.Warn("term", st.fields(in, zap.Error(err))...)
	}
	st.stats.incDeadLettered()
	st.log.Warn("dead-lettered", st.fields(in, zap.String("kind", kind), zap.String("dead_letter", st.cfg.DeadLetter), zap.Error(reason))...)
}

// cutHeader is v as a header value of at most n bytes, cut at a character
// boundary and on one line.
func cutHeader(v string, n int) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
	}
	if len(v) <= n {
		return v
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}

// headerBytes is about what h takes on the wire.
func headerBytes(h nats.Header) int {
	n := 12 // "NATS/1.0\r\n" and the final "\r\n"
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

func (st *Stage) fields(in *inbound, extra ...zap.Field) []zap.Field {
	f := append(make([]zap.Field, 0, 5+len(extra)),
		zap.String("subject", in.subject), zap.Uint64("stream_seq", in.seq), zap.Uint64("delivered", in.delivered))
	if uri := in.header.Get(proto.HeaderStoryURI); uri != "" {
		f = append(f, zap.String("story_uri", uri))
	} else if o := in.header.Get(proto.HeaderOrigin); o != "" {
		f = append(f, zap.String("origin", o))
	}
	return append(f, extra...)
}
