package app

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// ReplayConfig says what to replay and how.
type ReplayConfig struct {
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
	// Progress is called after each stored story (done, total).
	Progress func(done, total int)
	// Sent, when set, is called with each story's send time (tests).
	Sent func(i int, at time.Time)
}

// ReplayResult counts a replay.
type ReplayResult struct {
	Total, Replayed, Skipped         int
	Published, Audited, DeadLettered uint64 // in the namespace (Into only)
}

// replayItem is one raw story to republish.
type replayItem struct {
	data   []byte
	header nats.Header
	at     time.Time // its original time, for pacing
	key    string    // stable identity within this replay
}

// checkpoint is a replay's progress, kept in the KV bucket <S>_REPLAY.
type checkpoint struct {
	Done  int    `json:"done"`
	Total int    `json:"total"`
	Key   string `json:"key"`
}

// Replay re-runs stories through the current stages. See ReplayConfig.
func Replay(ctx context.Context, js jetstream.JetStream, cfg ReplayConfig, log *zap.Logger) (ReplayResult, error) {
	var res ReplayResult
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
	var items []replayItem
	if len(cfg.Files) > 0 {
		items, err = archiveItems(cfg.Files, cfg.MaxBytes)
	} else {
		items, err = historyItems(ctx, js, cfg.Live, cfg.Since, cfg.Until)
	}
	if err != nil {
		return res, err
	}
	res.Total = len(items)
	runKey := replayKey(items)

	// Progress lives in a KV bucket so an interrupted replay can resume.
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.Live.StreamPrefix + "_REPLAY", Description: "wirestream replay checkpoints", History: 1})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, cfg.Live.StreamPrefix+"_REPLAY")
	}
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

	var stop func() error
	if cfg.Into != "" {
		if err := pipeline.EnsureStreams(ctx, js, target, pipeline.StreamsConfig{}); err != nil {
			return res, err
		}
		stageCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		_, errc := RunStages(stageCtx, js, proto.Stages, Config{Names: target, Workers: cfg.Workers, MaxBytes: cfg.MaxBytes}, log)
		stop = func() error { cancel(); return <-errc }
	}

	save := func(done int) {
		b, _ := json.Marshal(checkpoint{Done: done, Total: len(items), Key: runKey})
		if _, err := kv.Put(context.WithoutCancel(ctx), proto.Token(id), b); err != nil {
			log.Warn("replay checkpoint", zap.Error(err))
		}
	}
	done, err := replaySend(ctx, js, target, id, items, start, cfg, save)
	res.Replayed = done - start
	if err != nil {
		save(done)
		if stop != nil {
			_ = stop()
		}
		return res, err
	}
	save(done)
	if stop != nil {
		// Wait until the namespace's pipeline has dealt with every story.
		log.Info("all stories sent; waiting for the namespace's stages", zap.String("namespace", cfg.Into), zap.Int("stories", len(items)))
		want := uint64(len(items))
		deadline := time.Now().Add(10 * time.Minute)
		for {
			res.Published, _ = pipeline.CountMsgs(ctx, js, target.OutStream(), target.OutAll())
			res.Audited, _ = pipeline.CountMsgs(ctx, js, target.AuditStream(), "")
			res.DeadLettered, _ = pipeline.CountMsgs(ctx, js, target.DLQStream(), "")
			if res.Published+res.Audited+res.DeadLettered >= want || ctx.Err() != nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
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

// replaySend publishes items[start:] to the target's raw subjects, paced,
// with a bounded window of unacknowledged publishes. It returns how many
// items are stored (a prefix of items).
func replaySend(ctx context.Context, js jetstream.JetStream, target proto.Names, id string, items []replayItem, start int, cfg ReplayConfig, save func(int)) (int, error) {
	const window = 256
	type pending struct {
		f jetstream.PubAckFuture
		i int
	}
	var inflight []pending
	done := start
	flush := func() error {
		for _, p := range inflight {
			select {
			case <-p.f.Ok():
			case err := <-p.f.Err():
				return fmt.Errorf("replay story %d: %w", p.i, err)
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(30 * time.Second):
				return fmt.Errorf("replay story %d: no acknowledgement", p.i)
			}
			done = p.i + 1
			if cfg.Progress != nil {
				cfg.Progress(done, len(items))
			}
		}
		inflight = inflight[:0]
		save(done)
		return nil
	}
	// collect counts the publishes already acknowledged, in order, without
	// waiting.
	collect := func() error {
		n := 0
		for _, p := range inflight {
			select {
			case <-p.f.Ok():
			case err := <-p.f.Err():
				return fmt.Errorf("replay story %d: %w", p.i, err)
			default:
				goto stop
			}
			done = p.i + 1
			n++
			if cfg.Progress != nil {
				cfg.Progress(done, len(items))
			}
		}
	stop:
		if n > 0 {
			inflight = inflight[n:]
			save(done)
		}
		return nil
	}
	var t0 time.Time
	var first time.Time
	for i := start; i < len(items); i++ {
		it := items[i]
		if cfg.Speed > 0 {
			if t0.IsZero() {
				t0, first = time.Now(), it.at
			} else if wait := time.Until(t0.Add(time.Duration(float64(it.at.Sub(first)) / cfg.Speed))); wait > 0 {
				// Sleep to the story's slot; meanwhile acks come in and are
				// counted without blocking, so the schedule never slips.
				select {
				case <-ctx.Done():
					_ = flush()
					return done, ctx.Err()
				case <-time.After(wait):
				}
				if err := collect(); err != nil {
					return done, err
				}
			}
		}
		if ctx.Err() != nil {
			_ = flush()
			return done, ctx.Err()
		}
		source := it.header.Get(proto.HeaderSource)
		if source == "" {
			source = "replay"
		}
		m := nats.NewMsg(target.Raw(source))
		m.Data = it.data
		for k, v := range it.header {
			if k != proto.HeaderMsgID {
				m.Header[k] = v
			}
		}
		m.Header.Set(proto.HeaderReplay, id)
		m.Header.Set(proto.HeaderMsgID, "replay:"+proto.Token(id)+":"+it.key)
		if cfg.Sent != nil {
			cfg.Sent(i, time.Now())
		}
		f, err := js.PublishMsgAsync(m)
		if err != nil {
			return done, err
		}
		inflight = append(inflight, pending{f: f, i: i})
		if len(inflight) >= window {
			if err := flush(); err != nil {
				return done, err
			}
		}
	}
	return done, flush()
}

// historyItems reads the raw history between since and until.
func historyItems(ctx context.Context, js jetstream.JetStream, live proto.Names, since, until time.Time) ([]replayItem, error) {
	stream, err := js.Stream(ctx, live.RawStream())
	if err != nil {
		return nil, fmt.Errorf("raw history %s: %w", live.RawStream(), err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, err
	}
	last := info.State.LastSeq
	if last == 0 || info.State.Msgs == 0 {
		return nil, nil
	}
	occ := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if !since.IsZero() {
		occ.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		occ.OptStartTime = &since
	}
	cons, err := stream.OrderedConsumer(ctx, occ)
	if err != nil {
		return nil, err
	}
	var items []replayItem
	for {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
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
			if (!until.IsZero() && md.Timestamp.After(until)) || md.Sequence.Stream > last {
				return items, nil
			}
			at := md.Timestamp
			if v, err := strconv.ParseInt(m.Headers().Get(proto.HeaderReceived), 10, 64); err == nil {
				at = time.Unix(0, v)
			}
			items = append(items, replayItem{data: m.Data(), header: m.Headers(), at: at, key: "seq" + strconv.FormatUint(md.Sequence.Stream, 10)})
			if md.Sequence.Stream >= last {
				return items, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, err
		}
		if got == 0 {
			return items, nil
		}
	}
}

// archiveItems reads files and directories of stories (JSON lines, ninjs,
// plain text, NewsML-G2; gzip-compressed or not) and orders them by
// versioncreated (stories without one keep their place at the start).
func archiveItems(paths []string, maxBytes int) ([]replayItem, error) {
	st, err := ingest.New(ingest.Config{MaxBytes: maxBytes})
	if err != nil {
		return nil, err
	}
	if maxBytes == 0 {
		maxBytes = ingest.DefaultMaxBytes
	}
	var files []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var items []replayItem
	for _, name := range files {
		r, closeFn, err := openMaybeGzip(name)
		if err != nil {
			return nil, err
		}
		err = ingest.Split(r, maxBytes, func(rec ingest.Record) error {
			origin := name + ":" + strconv.Itoa(rec.Line)
			var at time.Time
			if s, err := st.ParseAll(rec.Data, rec.Format); err == nil && len(s) > 0 {
				at = s[0].VersionCreated.Time()
			}
			h := nats.Header{}
			h.Set(proto.HeaderFormat, rec.Format)
			h.Set(proto.HeaderOrigin, origin)
			h.Set(proto.HeaderSource, "archive")
			sum := sha256.Sum256(rec.Data)
			items = append(items, replayItem{data: rec.Data, header: h, at: at, key: hex.EncodeToString(sum[:12]) + ":" + strconv.Itoa(len(items))})
			return nil
		})
		closeFn()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	return items, nil
}

func openMaybeGzip(name string) (io.Reader, func(), error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		return zr, func() { zr.Close(); f.Close() }, nil
	}
	return br, func() { f.Close() }, nil
}

// replayKey identifies the set of stories of a replay, so --resume refuses
// to continue a different one.
func replayKey(items []replayItem) string {
	h := sha256.New()
	for _, it := range items {
		h.Write([]byte(it.key))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
