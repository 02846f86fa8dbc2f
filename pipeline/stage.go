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
	// Partitions, when it holds more than one input, are the stage's
	// inputs instead: one work stream per partition (proto.Names.Partitions).
	// Each is consumed by one process of the stage at a time, the one
	// holding its lease in the LeaseBucket; the processes of the stage
	// share the partitions evenly and take over a dead one's (see
	// runPartitions). Stream and Subject are then the first partition's.
	Partitions []Input
	// LeaseBucket is the KV bucket of the partition leases (required with
	// Partitions); LeaseTTL how long a lease outlives its holder's last
	// renewal, so how long a dead process's partitions wait before another
	// takes them over. Default 6 s; renewed every LeaseTTL/4.
	LeaseBucket string
	LeaseTTL    time.Duration
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
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 6 * time.Second
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
	case len(c.Partitions) > 1 && c.LeaseBucket == "":
		return fmt.Errorf("%w: StageConfig.LeaseBucket of partitioned stage %q is empty", ErrConfig, c.Name)
	case c.LeaseTTL < time.Second:
		return fmt.Errorf("%w: StageConfig.LeaseTTL %s is under 1s", ErrConfig, c.LeaseTTL)
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
	// raw: the input is raw (ingest), with no story uri to dispatch on;
	// its results are published in delivery order.
	raw bool
	// retrying counts the workers waiting to retry a publish the server
	// refused for its own trouble; active the inputs (partitions) consumed.
	retrying atomic.Int32
	active   atomic.Int32
	// lags: the lag of each input consumed, summed into the gauges.
	lagMu sync.Mutex
	lags  map[string][2]uint64
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
	track     *tracker // of the input it came from
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
	st.raw = true
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
func (st *Stage) Stuck() bool {
	return int(st.retrying.Load()) >= st.cfg.Workers*max(int(st.active.Load()), 1)
}

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
//
// A stage with partitioned input (StageConfig.Partitions) consumes the
// partitions this process holds a lease on (see runPartitions).
func (st *Stage) Run(ctx context.Context) error {
	var stopped error
	if len(st.cfg.Partitions) > 1 {
		stopped = st.runPartitions(ctx)
	} else {
		st.active.Store(1)
		stopped = st.consume(ctx, Input{Stream: st.cfg.Stream, Subject: st.cfg.Subject}, func() { close(st.ready) })
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

// item is one delivery handed to a worker: ticket is its place in the
// order of deliveries, for a stage that publishes in that order (raw input).
type item struct {
	m      jetstream.Msg
	ticket uint64
}

// consume reads one input (stream and filter subject) with the stage's
// durable consumer until ctx ends, then drains it. ready is called once it
// is fetching.
//
// Dispatch keeps one story's versions in order: a delivery carrying a story
// uri (every input after ingest) goes to the worker its uri hashes to, so
// the versions of one story in one stream are handled one after the other,
// in stream order (a delivery without the header goes to any free worker).
// Raw input (no uri yet) goes to any free worker, and its
// results are published in delivery order (turn): the parsing runs on every
// worker, the publishing is submitted in the order the raw stream holds.
func (st *Stage) consume(ctx context.Context, input Input, ready func()) error {
	cfg := st.cfg
	track := new(tracker)
	cons, err := ensureConsumer(ctx, st.js, input.Stream, st.consumerConfig(input.Subject, 0))
	if err != nil {
		return err
	}
	track.init(cons.CachedInfo().AckFloor.Stream + 1)
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
	// bound them), and the callback blocks while its worker is busy.
	shared := make(chan item)
	own := make([]chan item, cfg.Workers)
	for i := range own {
		own[i] = make(chan item, 4)
	}
	var order *turn
	if st.raw {
		order = new(turn)
	}
	var ticket uint64              // the next delivery's place (only the callback touches it)
	abandon := make(chan struct{}) // closed when the drain gives up
	workersDone := make(chan struct{})
	var lastErr atomic.Pointer[error] // the last error the consumer reported
	consumeFrom := func(c jetstream.Consumer) (jetstream.ConsumeContext, error) {
		lastErr.Store(nil)
		return c.Consume(func(m jetstream.Msg) {
			ch := shared
			if uri := m.Headers().Get(proto.HeaderStoryURI); uri != "" && !st.raw {
				ch = own[workerOf(uri, len(own))]
			}
			select {
			case ch <- item{m: m, ticket: ticket}:
				ticket++
			case <-abandon:
				_ = m.Nak()
			}
		}, jetstream.PullMaxMessages(cfg.Batch), jetstream.PullExpiry(cfg.PullExpiry), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			st.log.Warn("fetch", zap.String("stream", input.Stream), zap.Error(err))
			lastErr.Store(&err)
		}))
	}
	cc, err := consumeFrom(cons)
	if err != nil {
		return fmt.Errorf("start fetching: %w", err)
	}
	st.log.Info("stage started", zap.String("stream", input.Stream), zap.String("subject", input.Subject),
		zap.String("durable", cfg.Durable), zap.Int("workers", cfg.Workers))
	ready()
	lagCtx, stopLag := context.WithCancel(ctx)
	defer stopLag()
	var lagCons atomic.Pointer[jetstream.Consumer]
	lagCons.Store(&cons)
	go st.watchConsumer(lagCtx, input.Stream, track, func() jetstream.Consumer { return *lagCons.Load() }, 5*time.Second)
	defer st.forgetLag(input.Stream)

	run := func(it item) { st.process(workCtx, it, track, order) }
	var wg sync.WaitGroup
	for w := range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case it := <-shared:
					run(it)
				case it := <-own[w]:
					run(it)
				case <-workersDone:
					// No callback is left: finish what was queued here.
					for {
						select {
						case it := <-own[w]:
							run(it)
						default:
							return
						}
					}
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
		// the last callback has returned, so no delivery is in flight then.
		consumed := cc.Closed()
		select {
		case <-ctx.Done():
		case <-consumed:
		}
		if ctx.Err() != nil {
			st.log.Info("stage draining", zap.String("stream", input.Stream))
			cc.Drain()
			break
		}
		reason := errors.New("consuming ended")
		if e := lastErr.Load(); e != nil {
			reason = *e
		}
		if !consumerGone(reason) {
			st.log.Error("stage stopped consuming", zap.String("stream", input.Stream), zap.String("reason", reason.Error()))
			stopped = fmt.Errorf("stopped consuming %s: %s", input.Stream, reason)
			break
		}
		c, err := st.recreate(ctx, input, track)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			st.log.Error("stage stopped consuming: its consumer was deleted and could not be made again", zap.Error(err))
			stopped = fmt.Errorf("stopped consuming: consumer %q on %s deleted, and recreating it failed: %w", cfg.Durable, input.Stream, err)
			break
		}
		if cc, err = consumeFrom(c); err != nil {
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
		st.log.Warn("drain timeout: handing unfinished inputs back", zap.String("stream", input.Stream), zap.Duration("timeout", cfg.DrainTimeout))
		cancelWork()
		close(abandon)
		cc.Stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			st.log.Warn("consumer did not close after the drain timeout")
		}
	}
	return stopped
}

// workerOf is the worker a story uri's deliveries go to (FNV-1a).
func workerOf(uri string, workers int) int {
	h := uint32(2166136261)
	for i := 0; i < len(uri); i++ {
		h ^= uint32(uri[i])
		h *= 16777619
	}
	// A different mix from proto.Names.PartitionOf (which uses the same
	// hash modulo P): within one partition the low bits would otherwise
	// agree, and with P = workers every uri of a partition would go to one
	// worker.
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	return int(h % uint32(workers))
}

// turn makes workers submit their publishes in ticket order: a worker
// waits until every earlier ticket has submitted (or finished without
// publishing) before it submits, then lets the next one go. The acks are
// awaited after the turn is passed, so the round trips still overlap.
type turn struct {
	mu   sync.Mutex
	cond *sync.Cond
	next uint64
}

// wait blocks until it is ticket's turn.
func (t *turn) wait(ticket uint64) {
	t.mu.Lock()
	if t.cond == nil {
		t.cond = sync.NewCond(&t.mu)
	}
	for t.next != ticket {
		t.cond.Wait()
	}
	t.mu.Unlock()
}

// pass ends ticket's turn (it must have waited for it).
func (t *turn) pass(ticket uint64) {
	t.mu.Lock()
	if t.next == ticket {
		t.next++
		if t.cond != nil {
			t.cond.Broadcast()
		}
	}
	t.mu.Unlock()
}

// watchConsumer reads the consumer's info every few seconds until ctx
// ends: its lag for the metrics, its ack floor for the tracker.
func (st *Stage) watchConsumer(ctx context.Context, stream string, track *tracker, consumer func() jetstream.Consumer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ictx, cancel := context.WithTimeout(ctx, every)
		info, err := consumer().Info(ictx)
		cancel()
		if err == nil {
			st.setLag(stream, info)
			track.ackFloor(info.AckFloor.Stream)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// setLag records one input's lag and sets the stage's gauges to the sum
// over the inputs this process consumes.
func (st *Stage) setLag(stream string, info *jetstream.ConsumerInfo) {
	st.lagMu.Lock()
	defer st.lagMu.Unlock()
	if st.lags == nil {
		st.lags = map[string][2]uint64{}
	}
	st.lags[stream] = [2]uint64{info.NumPending, uint64(info.NumAckPending)}
	st.publishLag()
}

func (st *Stage) forgetLag(stream string) {
	st.lagMu.Lock()
	defer st.lagMu.Unlock()
	delete(st.lags, stream)
	st.publishLag()
}

func (st *Stage) publishLag() {
	var sum jetstream.ConsumerInfo
	for _, l := range st.lags {
		sum.NumPending += l[0]
		sum.NumAckPending += int(l[1])
	}
	st.stats.m.setLag(&sum)
}

// consumerConfig is the stage's durable consumer of subject; start > 0
// makes it begin at that stream sequence (a consumer made again after it
// was deleted).
func (st *Stage) consumerConfig(subject string, start uint64) jetstream.ConsumerConfig {
	cfg := st.cfg
	cc := jetstream.ConsumerConfig{
		Durable:       cfg.Durable,
		Description:   "wirestream stage " + cfg.Name,
		FilterSubject: subject,
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

// recreate makes the stage's consumer of input again after it was deleted,
// retrying until ctx ends. On a work queue (what is acknowledged is gone)
// it starts at the beginning, which is what is still unprocessed; on
// another stream (the raw history) at the first input this process had not
// finished, so nothing it processed is processed again and nothing after it
// is skipped. Another process of the stage may have made it already: then
// it is used.
func (st *Stage) recreate(ctx context.Context, input Input, track *tracker) (jetstream.Consumer, error) {
	backoff := 100 * time.Millisecond
	for {
		var start uint64
		s, err := st.js.Stream(ctx, input.Stream)
		if err == nil && s.CachedInfo().Config.Retention != jetstream.WorkQueuePolicy {
			start = track.floor()
		}
		if err == nil {
			var c jetstream.Consumer
			if c, err = ensureConsumer(ctx, st.js, input.Stream, st.consumerConfig(input.Subject, start)); err == nil {
				st.log.Warn("the stage's consumer was deleted; made it again and consuming goes on",
					zap.String("durable", st.cfg.Durable), zap.String("stream", input.Stream), zap.Uint64("from_stream_seq", start))
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

// orderSlot is one delivery's place in a turn: enter waits for it, leave
// lets the next delivery go. Only the delivery's worker uses it; a nil slot
// (unordered input) does nothing.
type orderSlot struct {
	t              *turn
	ticket         uint64
	waited, passed bool
}

func (o *orderSlot) enter() {
	if o == nil || o.waited {
		return
	}
	o.t.wait(o.ticket)
	o.waited = true
}

func (o *orderSlot) leave() {
	if o == nil || o.passed {
		return
	}
	o.enter()
	o.t.pass(o.ticket)
	o.passed = true
}

func (st *Stage) process(ctx context.Context, it item, track *tracker, order *turn) {
	m := it.m
	var slot *orderSlot
	if order != nil {
		slot = &orderSlot{t: order, ticket: it.ticket}
		defer slot.leave() // whatever happens, the next delivery's turn comes
	}
	md, err := m.Metadata()
	if err != nil {
		st.log.Error("message without JetStream metadata", zap.String("subject", m.Subject()), zap.Error(err))
		_ = m.Term()
		return
	}
	in := &inbound{msg: m, data: m.Data(), header: m.Headers(), subject: m.Subject(), stream: md.Stream,
		seq: md.Sequence.Stream, delivered: md.NumDelivered, timestamp: md.Timestamp, track: track}
	track.start(in.seq)
	if in.header == nil {
		in.header = nats.Header{}
	}
	if in.delivered > 1 {
		st.stats.incRedelivered()
	}
	pub := &publisher{js: st.js, stats: &st.stats, log: st.log, timeout: st.cfg.PublishTimeout,
		progress: func() { _ = m.InProgress() }, retrying: &st.retrying, slot: slot}
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
	track.done(in.seq) // its outputs are stored, acked or not
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
	in.track.done(in.seq)
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
