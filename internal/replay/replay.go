// Package replay re-runs stories through the current stages (`wirestream
// replay`): from the raw history (--since/--until) or from archives
// (--from-files), into the live pipeline or an isolated namespace, paced or
// as fast as the pipeline takes, resumable. Stories go back in through the
// one raw-input path (pipeline.RawPublisher).
package replay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// Config says what to replay and how.
type Config struct {
	// Live is the live namespace (the history is read from its raw stream).
	Live proto.Names
	// Into is an isolated namespace for the output; "" replays into the
	// live pipeline, where dedupe recognises stories subscribers already had
	// (they go to the audit subject as duplicates, not out again).
	Into string
	// Since and Until bound the history by arrival time (Until zero: up to
	// the moment the replay starts).
	Since, Until time.Time
	// Files, when set, replays archives instead of the history.
	Files []string
	// Speed 0 replays as fast as the pipeline takes; s > 0 keeps the
	// original gaps between stories divided by s (1: original pace).
	Speed float64
	// Resume continues an interrupted replay with the same target from its
	// last checkpoint.
	Resume bool
	// Workers per stage when the replay runs the namespace's stages.
	Workers  int
	MaxBytes int
	// MaxInflated bounds what one compressed archive may inflate to
	// (0: proto.DefaultLimits.InflatedBytes).
	MaxInflated int64
	// Memory bounds what a replay from files holds of its archives at once
	// (0: DefaultMemory): archives are read once in runs sorted by
	// versioncreated, spilled to TempDir ("" : the system's temporary
	// directory) when they outgrow half of it, then merged.
	Memory  int64
	TempDir string
	// Reading, when set, is called as the archives are read and sorted,
	// before the first story is sent.
	Reading func(ArchiveProgress)
	// Data is the process's tag data (nil: loaded when the namespace's
	// stages start).
	Data *wiring.Data
	// Progress is called as the replay goes: after stored stories, and
	// while the namespace's stages work through them.
	Progress func(Progress)
	// Starting, when set, is called once the stories to replay are known,
	// before any is sent: total, and how many an interrupted run already sent.
	Starting func(total, resumedFrom int)
	// Sent, when set, is called with each story's send time (tests).
	Sent func(i int, at time.Time)
}

// Progress is where a replay stands.
type Progress struct {
	Total int
	// Stored is how many stories JetStream has stored (in order; an
	// interrupted run's included when resumed).
	Stored int
	// Processed is how many the namespace's stages have finished (with
	// Into; -1 for a replay into the live pipeline, whose stages also work
	// on live input).
	Processed int
}

// ErrInterrupted is returned when ctx ends before the replay is done; the
// checkpoint is saved, so the same replay with Resume continues it.
var ErrInterrupted = errors.New("replay: interrupted")

// ErrNamespaceInUse is returned for a replay into a namespace that already
// holds one, without Resume.
var ErrNamespaceInUse = errors.New("replay: namespace in use")

// Result counts a replay.
type Result struct {
	Total, Replayed, Skipped         int
	Published, Audited, DeadLettered uint64 // in the namespace (Into only)
}

// replayItem is one raw story to republish.
type replayItem struct {
	data []byte
	meta proto.RawMeta // as first received (history) or read (archive)
	at   time.Time     // its original time, for pacing
	key  string        // stable identity within this replay
}

// checkpoint is a replay's progress, kept in the KV bucket <S>_REPLAY.
type checkpoint struct {
	Done  int    `json:"done"`
	Total int    `json:"total"`
	Key   string `json:"key"`
}

// Run re-runs stories through the current stages. See Config.
func Run(ctx context.Context, js jetstream.JetStream, cfg Config, log *zap.Logger) (Result, error) {
	var res Result
	if log == nil {
		log = zap.NewNop()
	}
	target, err := proto.Namespace(cfg.Into)
	if err != nil {
		return res, err
	}
	id := "live"
	if cfg.Into != "" {
		id = cfg.Into
	}
	var src replaySource
	if len(cfg.Files) > 0 {
		as, err := openArchives(id, cfg.Files, cfg.MaxBytes, cfg.MaxInflated, cfg.Memory, cfg.TempDir, cfg.Reading, nil)
		if err != nil {
			return res, err
		}
		defer as.Close()
		src = as
	} else {
		if src, err = newHistorySource(ctx, js, cfg.Live, cfg.Since, cfg.Until); err != nil {
			return res, err
		}
	}
	res.Total = src.Total()
	runKey := src.Key()
	if ctx.Err() != nil {
		return res, fmt.Errorf("%w before the first story was sent", ErrInterrupted)
	}

	// Progress lives in a KV bucket so an interrupted replay can resume.
	kv, err := pipeline.EnsureBucket(ctx, js, jetstream.KeyValueConfig{Bucket: cfg.Live.StreamPrefix + "_REPLAY", Description: "wirestream replay checkpoints", History: 1})
	if err != nil {
		return res, fmt.Errorf("replay checkpoints: %w", err)
	}
	start := 0
	if cfg.Resume {
		if e, err := kv.Get(ctx, proto.Token(id)); err == nil {
			var cp checkpoint
			if json.Unmarshal(e.Value(), &cp) == nil {
				if cp.Key != runKey {
					return res, fmt.Errorf("replay %q: --resume, but the stories to replay are not those of the interrupted run (different range or files)", id)
				}
				start = cp.Done
			}
		}
	}
	res.Skipped = start
	if cfg.Into != "" && !cfg.Resume {
		if n, err := pipeline.CountMsgs(ctx, js, target.RawStream(), ""); err == nil && n > 0 {
			return res, fmt.Errorf("%w: namespace %s already holds a replay (%d raw stories): continue it with --resume, or drop it first (wirestream replay --drop %s)",
				ErrNamespaceInUse, cfg.Into, n, cfg.Into)
		}
	}
	if cfg.Starting != nil {
		cfg.Starting(res.Total, start)
	}

	var stop func() error
	if cfg.Into != "" {
		if err := pipeline.EnsureStreams(ctx, js, target, pipeline.StreamsConfig{}); err != nil {
			return res, err
		}
		stageCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stages, errc := wiring.RunStages(stageCtx, js, wiring.Names(), wiring.Config{Names: target, Workers: cfg.Workers, MaxBytes: cfg.MaxBytes, Data: cfg.Data}, log)
		stop = func() error { cancel(); return <-errc }
		// Send once every stage consumes (the tag stage loads its data
		// first), so that a paced replay keeps its schedule from the start.
		for _, st := range stages {
			select {
			case <-st.Ready():
			case err := <-errc:
				cancel()
				return res, fmt.Errorf("namespace %s: %w", cfg.Into, err)
			case <-ctx.Done():
				_ = stop()
				return res, fmt.Errorf("%w before the first story was sent", ErrInterrupted)
			}
		}
		if len(stages) == 0 {
			cancel()
			return res, fmt.Errorf("namespace %s: %w", cfg.Into, <-errc)
		}
	}

	save := func(done int) {
		b, _ := json.Marshal(checkpoint{Done: done, Total: res.Total, Key: runKey})
		if _, err := kv.Put(context.WithoutCancel(ctx), proto.Token(id), b); err != nil {
			log.Warn("replay checkpoint", zap.Error(err))
		}
	}
	snd, err := newSender(js, target, id, cfg, res.Total, start, save)
	if err != nil {
		if stop != nil {
			_ = stop()
		}
		return res, err
	}
	// Skip what an interrupted run already sent, then send chunk by chunk:
	// the history is never held in memory as a whole.
	for skipped := 0; skipped < start && err == nil; {
		var chunk []replayItem
		chunk, err = src.Next(ctx, min(replayChunk, start-skipped))
		if len(chunk) == 0 {
			break
		}
		skipped += len(chunk)
	}
	for err == nil {
		var chunk []replayItem
		if chunk, err = src.Next(ctx, replayChunk); err != nil || len(chunk) == 0 {
			break
		}
		err = snd.send(ctx, chunk)
	}
	if err == nil {
		err = snd.flush(ctx)
	}
	done := snd.done
	res.Replayed = done - start
	if err != nil {
		save(done)
		if stop != nil {
			_ = stop()
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("%w at %d of %d stories stored", ErrInterrupted, done, res.Total)
		}
		return res, err
	}
	save(done)
	if stop != nil {
		// Wait until the namespace's pipeline has dealt with every story:
		// every stage's consumer has delivered all its input and holds
		// nothing unacknowledged.
		log.Info("all stories sent; waiting for the namespace's stages", zap.String("namespace", cfg.Into), zap.Int("stories", done))
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			// Idle first, then the counts: counted before, the last
			// stories could leave the stages between the two reads.
			idle, processed := namespaceIdle(ctx, js, target)
			res.Published, _ = pipeline.CountMsgs(ctx, js, target.OutStream(), target.OutAll())
			res.Audited, _ = pipeline.CountMsgs(ctx, js, target.AuditStream(), "")
			res.DeadLettered, _ = pipeline.CountMsgs(ctx, js, target.DLQStream(), "")
			if cfg.Progress != nil {
				cfg.Progress(Progress{Total: res.Total, Stored: done, Processed: min(processed, done)})
			}
			if idle {
				break
			}
			select {
			case <-ctx.Done():
				_ = stop()
				return res, fmt.Errorf("%w with all %d stories stored and %d processed", ErrInterrupted, done, min(processed, done))
			case <-tick.C:
			}
		}
		if err := stop(); err != nil {
			return res, err
		}
	}
	// A finished replay starts afresh next time.
	if err := kv.Delete(context.WithoutCancel(ctx), proto.Token(id)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		log.Warn("replay checkpoint delete", zap.Error(err))
	}
	return res, nil
}

// namespaceIdle reports whether every stage of a namespace has consumed all
// its input and holds nothing unacknowledged, and how many raw stories the
// first stage has finished.
func namespaceIdle(ctx context.Context, js jetstream.JetStream, n proto.Names) (idle bool, processed int) {
	idle = true
	for i, name := range wiring.Names() {
		for _, in := range wiring.Inputs(n, i) {
			c, err := js.Consumer(ctx, in.Stream, wiring.Durable(n, name))
			if err != nil {
				return false, processed
			}
			info, err := c.Info(ctx)
			if err != nil {
				return false, processed
			}
			if i == 0 {
				processed = int(info.AckFloor.Stream)
			}
			if info.NumPending > 0 || info.NumAckPending > 0 || info.NumRedelivered > 0 {
				idle = false
			}
		}
	}
	return idle, processed
}

// Drop deletes a replay namespace: its streams, its dedupe state and its
// checkpoint. The live pipeline is never dropped.
func Drop(ctx context.Context, js jetstream.JetStream, live proto.Names, name string) error {
	if name == "" {
		return errors.New("replay: drop needs a namespace name; the live pipeline is never dropped")
	}
	n, err := proto.Namespace(name)
	if err != nil {
		return err
	}
	if p, err := pipeline.Partitions(ctx, js, n); err == nil {
		n = n.WithPartitions(p)
	}
	streams := slices.Concat([]string{n.RawStream()}, n.WorkStreams(),
		[]string{n.OutStream(), n.AuditStream(), n.DLQStream(), n.DedupeLogStream(), "KV_" + n.DedupeBucket(), "KV_" + n.LeaseBucket()})
	dropped := 0
	for _, st := range streams {
		err := js.DeleteStream(ctx, st)
		switch {
		case err == nil:
			dropped++
		case !errors.Is(err, jetstream.ErrStreamNotFound):
			return fmt.Errorf("drop %s: %w", st, err)
		}
	}
	if kv, err := js.KeyValue(ctx, live.StreamPrefix+"_REPLAY"); err == nil {
		if err := kv.Delete(ctx, proto.Token(name)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("drop the checkpoint of %s: %w", name, err)
		}
	}
	if dropped == 0 {
		return fmt.Errorf("replay: no namespace %s on this server", name)
	}
	return nil
}

// replayChunk is how many stories are read ahead of sending.
const replayChunk = 2000

// sender publishes stories to the target's raw subjects, paced, through
// the raw-input path (a bounded window of publishes awaiting their
// acknowledgement), counting what is stored, in order.
type sender struct {
	pub   *pipeline.RawPublisher
	id    string
	cfg   Config
	total int
	save  func(int)
	done  int // stories stored, counted in order
	sent  int // stories handed to the server
	err   error
	t0    time.Time
	first time.Time
}

func newSender(js jetstream.JetStream, target proto.Names, id string, cfg Config, total, done int, save func(int)) (*sender, error) {
	pub, err := pipeline.NewRawPublisher(js, pipeline.RawPublisherConfig{Names: target, Window: 256, Reader: wiring.RawReader(target)})
	if err != nil {
		return nil, err
	}
	return &sender{pub: pub, id: id, cfg: cfg, total: total, save: save, done: done}, nil
}

// stored counts one acknowledged story; the first refusal stops the replay.
func (s *sender) stored(a pipeline.RawAck) {
	if a.Err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("replay story %d (%s): %w", s.done+1, a.Meta.Origin, a.Err)
		}
		return
	}
	if s.err != nil {
		return
	}
	s.done++
	if s.done%256 == 0 {
		s.save(s.done)
	}
	if s.cfg.Progress != nil {
		processed := -1
		if s.cfg.Into != "" {
			processed = 0 // counted once every story is stored
		}
		s.cfg.Progress(Progress{Total: s.total, Stored: s.done, Processed: processed})
	}
}

// flush waits until every publish is acknowledged.
func (s *sender) flush(ctx context.Context) error {
	err := s.pub.Flush(context.WithoutCancel(ctx))
	if err == nil {
		err = s.err
	}
	if err == nil {
		s.save(s.done)
	}
	return err
}

func (s *sender) send(ctx context.Context, items []replayItem) error {
	for _, it := range items {
		if s.cfg.Speed > 0 {
			if s.t0.IsZero() {
				s.t0, s.first = time.Now(), it.at
			} else if wait := time.Until(s.t0.Add(time.Duration(float64(it.at.Sub(s.first)) / s.cfg.Speed))); wait > 0 {
				// Sleep to the story's slot; acks are counted without
				// blocking meanwhile, so the schedule never slips.
				select {
				case <-ctx.Done():
					_ = s.flush(ctx)
					return ctx.Err()
				case <-time.After(wait):
				}
				s.pub.Poll()
			}
		}
		if ctx.Err() != nil {
			_ = s.flush(ctx)
			return ctx.Err()
		}
		if s.err != nil {
			return s.err
		}
		meta := it.meta
		if meta.Source == "" {
			meta.Source = "replay"
		}
		meta.Replay = s.id
		if s.cfg.Sent != nil {
			s.cfg.Sent(s.sent, time.Now())
		}
		if err := s.pub.Publish(ctx, pipeline.RawMsg{Data: it.data, Meta: meta, ID: "replay:" + proto.Token(s.id) + ":" + it.key}, s.stored); err != nil {
			return err
		}
		s.sent++
	}
	return s.err
}

// replaySource yields the stories of a replay in order, a chunk at a time.
type replaySource interface {
	Total() int
	Key() string // identifies the set of stories, for --resume
	Next(ctx context.Context, max int) ([]replayItem, error)
}

// historySource reads the raw history between since and until (or the last
// message when the replay started) with an ordered consumer, a chunk at a
// time.
type historySource struct {
	cons  jetstream.Consumer
	last  uint64
	until time.Time
	total int
	key   string
	done  bool
}

func newHistorySource(ctx context.Context, js jetstream.JetStream, live proto.Names, since, until time.Time) (*historySource, error) {
	stream, err := js.Stream(ctx, live.RawStream())
	if err != nil {
		return nil, fmt.Errorf("raw history %s: %w", live.RawStream(), err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, err
	}
	h := &historySource{last: info.State.LastSeq, until: until,
		key: fmt.Sprintf("history:%d:%d:%d", since.Unix(), until.Unix(), info.State.LastSeq)}
	if info.State.Msgs == 0 {
		h.done = true
		return h, nil
	}
	occ := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if !since.IsZero() {
		occ.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		occ.OptStartTime = &since
	}
	if h.cons, err = stream.OrderedConsumer(ctx, occ); err != nil {
		return nil, err
	}
	ci, err := h.cons.Info(ctx)
	if err != nil {
		return nil, err
	}
	h.total = int(ci.NumPending) // at most: --until may end it sooner
	return h, nil
}

func (h *historySource) Total() int  { return h.total }
func (h *historySource) Key() string { return h.key }

func (h *historySource) Next(ctx context.Context, max int) ([]replayItem, error) {
	if h.done {
		return nil, nil
	}
	var items []replayItem
	bytes := 0
	for len(items) < max && bytes < chunkBytes {
		// At most 256 stories a fetch, so a chunk of large stories stops
		// near chunkBytes instead of holding max of them.
		batch, err := h.cons.Fetch(min(max-len(items), 256), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, err
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			if (!h.until.IsZero() && md.Timestamp.After(h.until)) || md.Sequence.Stream > h.last {
				h.done = true
				return items, nil
			}
			meta := proto.ParseRawMeta(m.Headers(), m.Subject(), md.Sequence.Stream, md.Timestamp)
			items = append(items, replayItem{data: m.Data(), meta: meta, at: meta.Received.Time(), key: "seq" + strconv.FormatUint(md.Sequence.Stream, 10)})
			bytes += len(m.Data())
			if md.Sequence.Stream >= h.last {
				h.done = true
				return items, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, err
		}
		if got == 0 {
			h.done = true
			return items, nil
		}
	}
	return items, nil
}
