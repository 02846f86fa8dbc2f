package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/enrich"
	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// The phases of a run, each on its own streams, which it deletes when it
// ends; Run performs them in the order relay, pipeline, latency, enrich, cpu.

// preload stores the raw stories in names' raw history, through the same
// raw-input path as every other source, each stamped with its own arrival
// time (the latency phase measures from it).
func preload(ctx context.Context, js jetstream.JetStream, names proto.Names, raws [][]byte, paced time.Duration) error {
	pub, err := pipeline.NewRawPublisher(js, pipeline.RawPublisherConfig{Names: names, Window: 4096, AckTimeout: 2 * time.Minute})
	if err != nil {
		return err
	}
	var stored error
	next := time.Now()
	for i, raw := range raws {
		if paced > 0 {
			next = next.Add(paced)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
		m := pipeline.RawMsg{Data: raw, ID: names.Prefix + ":bench:" + strconv.Itoa(i),
			Meta: proto.RawMeta{Source: "bench", Format: ingest.FormatNinjs, Received: proto.FromTime(time.Now())}}
		if err := pub.Publish(ctx, m, func(a pipeline.RawAck) {
			if a.Err != nil && stored == nil {
				stored = a.Err
			}
		}); err != nil {
			return err
		}
	}
	if err := pub.Flush(ctx); err != nil {
		return err
	}
	return stored
}

// waitFor polls until done() reports want, returning when it got there.
// It polls every 20 ms: each poll is a stream-info request or two, and
// polling faster took measurable server CPU from the run it measures.
func waitFor(ctx context.Context, want uint64, done func() (uint64, error)) (time.Time, error) {
	deadline := time.Now().Add(30 * time.Minute)
	for {
		n, err := done()
		if err != nil {
			return time.Time{}, err
		}
		if n >= want {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("stuck at %d of %d", n, want)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// runRelay runs four relays (raw→ingest→dedupe→tag→out), the pipeline's hops.
func runRelay(ctx context.Context, js jetstream.JetStream, raws [][]byte, cfg Config) (float64, error) {
	names, _ := proto.Namespace("bench-relay")
	if err := dropPhase(ctx, js, names, false); err != nil {
		return 0, err
	}
	if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{}); err != nil {
		return 0, err
	}
	if err := preload(ctx, js, names, raws, 0); err != nil {
		return 0, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start := time.Now()
	specs := wiring.Stages()
	for i, spec := range specs {
		// The pipeline's hops: each relay reads what its stage reads and
		// writes where the next stage reads (the last, the output).
		sc := wiring.StageConfig(wiring.Config{Names: names, Workers: cfg.Workers}, i)
		sc.Workers, sc.Observe = cfg.Workers, nil
		target := names.OutAll()
		if i+1 < len(specs) {
			_, target = wiring.Input(names, i+1)
		}
		sjs, closeConn, err := cfg.connect("relay-" + spec.Name)
		if err != nil {
			cancel()
			return 0, err
		}
		defer closeConn()
		st, err := pipeline.NewRelay(sjs, sc, target, cfg.Log)
		if err != nil {
			cancel()
			return 0, err
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = st.Run(runCtx) }()
	}
	end, err := waitFor(ctx, uint64(len(raws)), func() (uint64, error) { return pipeline.CountMsgs(ctx, js, names.OutStream(), names.OutAll()) })
	cancel()
	wg.Wait()
	if err != nil {
		return 0, err
	}
	perS := float64(len(raws)) / end.Sub(start).Seconds()
	return perS, dropPhase(ctx, js, names, false)
}

// dropPhase deletes the streams (and the dedupe bucket) a phase wrote, and
// collects the garbage, so that the next phase starts on a server that
// holds only its own state: the stored messages, the message-id tables of
// the duplicate windows and the block caches of a finished phase otherwise
// stay in the process's heap (they are a large part of it) and lengthen the
// next phase's garbage collections.
//
// It deletes the live streams only on the bench's own temporary server
// (ownServer): with Config.URL the server may be one that also runs the
// real pipeline, and only bench namespaces are touched there.
func dropPhase(ctx context.Context, js jetstream.JetStream, names proto.Names, ownServer bool) error {
	if names.StreamPrefix == proto.Live().StreamPrefix && !ownServer {
		return fmt.Errorf("bench: refusing to delete the live streams (%s_*) on a server it did not start", names.StreamPrefix)
	}
	for _, stream := range phaseStreams(names) {
		if err := js.DeleteStream(ctx, stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("drop %s: %w", stream, err)
		}
	}
	runtime.GC()
	return nil
}

// phaseStreams are the streams a phase in names may write: the pipeline's,
// the dedupe log, and the stream behind the dedupe KV bucket.
func phaseStreams(names proto.Names) []string {
	return slices.Concat([]string{names.RawStream()}, names.WorkStreams(), []string{names.OutStream(), names.AuditStream(),
		names.DLQStream(), names.DedupeLogStream(), "KV_" + names.DedupeBucket(), "KV_" + names.LeaseBucket()})
}

func runPipeline(ctx context.Context, js jetstream.JetStream, raws [][]byte, cfg Config, res *Result) error {
	// On the bench's own server the pipeline runs under the live names, as
	// a deployment does (a namespace's longer subjects and stream names add
	// ~5% to stored_bytes_per_story); on an external server, in a namespace.
	names, temp := proto.Live(), true
	if cfg.URL != "" {
		names, _ = proto.Namespace("bench-pipeline")
		temp = false
		if err := dropPhase(ctx, js, names, false); err != nil {
			return err
		}
	}
	if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{LiveNodes: cfg.LiveNodes, ClaimCheck: cfg.ClaimCheck}); err != nil {
		return err
	}
	if err := preload(ctx, js, names, raws, 0); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	start := time.Now()
	_, errc := wiring.RunStages(runCtx, js, wiring.Names(), cfg.stages(names), cfg.Log)
	done := func() (uint64, error) {
		out, err := pipeline.CountMsgs(ctx, js, names.OutStream(), names.OutAll())
		if err != nil {
			return 0, err
		}
		audit, err := pipeline.CountMsgs(ctx, js, names.AuditStream(), "")
		return out + audit, err
	}
	end, err := waitFor(ctx, uint64(len(raws)), done)
	cancel()
	if rerr := <-errc; rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	res.PipelinePerS = float64(len(raws)) / end.Sub(start).Seconds()
	if res.RelayPerS > 0 {
		res.PipelineRatio = res.PipelinePerS / res.RelayPerS
	}
	out, _ := pipeline.CountMsgs(ctx, js, names.OutStream(), names.OutAll())
	audit, _ := pipeline.CountMsgs(ctx, js, names.AuditStream(), "")
	res.Published, res.Audited = int(out), int(audit)
	// Bytes stored per story: every stream the pipeline writes, the dedupe
	// state included (the raw history holds the input itself).
	var bytesTotal uint64
	for _, stream := range phaseStreams(names) {
		s, err := js.Stream(ctx, stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		bytesTotal += info.State.Bytes
		if stream == names.OutStream() {
			res.OutputBytesPerStory = float64(info.State.Bytes) / float64(len(raws))
		}
	}
	res.StoredBytesPerStory = float64(bytesTotal) / float64(len(raws))
	return dropPhase(ctx, js, names, temp)
}

// runLatency feeds a fresh namespace at half the pipeline's throughput and
// measures ingest (Ws-Received) to published (seen by a subscriber).
func runLatency(ctx context.Context, js jetstream.JetStream, nc *nats.Conn, raws [][]byte, cfg Config, res *Result) error {
	names, _ := proto.Namespace("bench-latency")
	if err := dropPhase(ctx, js, names, false); err != nil {
		return err
	}
	if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{LiveNodes: cfg.LiveNodes, ClaimCheck: cfg.ClaimCheck}); err != nil {
		return err
	}
	n := cfg.LatencyN
	rate := res.PipelinePerS / 2
	res.LatencyRatePerS = rate
	var mu sync.Mutex
	lat := make([]float64, 0, n)
	sub, err := nc.Subscribe(names.OutAll(), func(m *nats.Msg) {
		if v, err := strconv.ParseInt(m.Header.Get(proto.HeaderReceived), 10, 64); err == nil {
			mu.Lock()
			lat = append(lat, float64(time.Now().UnixNano()-v)/1e6)
			mu.Unlock()
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	runCtx, cancel := context.WithCancel(ctx)
	stages, errc := wiring.RunStages(runCtx, js, wiring.Names(), cfg.stages(names), cfg.Log)
	for _, st := range stages {
		<-st.Ready()
	}
	// Distinct stories only (resends would go to audit, not be seen).
	var feed [][]byte
	for i := 0; i < len(raws) && len(feed) < n; i++ {
		feed = append(feed, raws[i])
	}
	err = preload(ctx, js, names, feed, time.Duration(float64(time.Second)/rate))
	if err == nil {
		_, err = waitFor(ctx, uint64(len(feed)), func() (uint64, error) {
			out, err := pipeline.CountMsgs(ctx, js, names.OutStream(), names.OutAll())
			if err != nil {
				return 0, err
			}
			audit, err := pipeline.CountMsgs(ctx, js, names.AuditStream(), "")
			return out + audit, err
		})
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	if rerr := <-errc; rerr != nil && err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lat) == 0 {
		return fmt.Errorf("no latency samples")
	}
	sort.Float64s(lat)
	res.P50Ms = lat[len(lat)/2]
	res.P90Ms = lat[min(len(lat)-1, len(lat)*90/100)]
	res.P99Ms = lat[min(len(lat)-1, len(lat)*99/100)]
	res.P999Ms = lat[min(len(lat)-1, len(lat)*999/1000)]
	res.MaxMs = lat[len(lat)-1]
	return dropPhase(ctx, js, names, false)
}

func runEnrich(ctx context.Context, raws [][]byte, data *wiring.Data) (perS, cpuMicros float64, err error) {
	var in bytes.Buffer
	for _, r := range raws {
		in.Write(r)
		in.WriteByte('\n')
	}
	start, cpu0 := time.Now(), cpuTime()
	res, err := enrich.Run(ctx, wiring.Config{Names: proto.Live(), Data: data}, []fileingest.Input{{Name: "corpus", R: &in}}, enrich.Options{}, io.Discard, io.Discard)
	if err != nil {
		return 0, 0, err
	}
	if res.Rejected > 0 {
		return 0, 0, fmt.Errorf("%d stories rejected", res.Rejected)
	}
	return float64(len(raws)) / time.Since(start).Seconds(), perStory(cpuTime()-cpu0, len(raws)), nil
}

// stageCPU measures the process CPU time each stage's handler costs per
// story, one stage at a time over the corpus, on one goroutine (the
// offline chain: the same stage code, state in memory).
func stageCPU(ctx context.Context, raws [][]byte, data *wiring.Data) (map[string]float64, error) {
	c, err := enrich.NewChain(ctx, wiring.Config{Names: proto.Live(), Data: data})
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	out := map[string]float64{}
	stories := make([]*proto.Story, 0, len(raws))
	t0 := cpuTime()
	for i, r := range raws {
		s, err := c.Ingest(ctx, r, proto.RawMeta{Seq: uint64(i + 1)})
		if err != nil {
			return nil, err
		}
		stories = append(stories, s...)
	}
	out[c.Spec(0).Name] = perStory(cpuTime()-t0, len(raws))
	for i := 1; i < c.Len(); i++ {
		t0 = cpuTime()
		for _, s := range stories {
			if _, err := c.Stage(ctx, i, s); err != nil {
				return nil, err
			}
		}
		out[c.Spec(i).Name] = perStory(cpuTime()-t0, len(stories))
	}
	return out, nil
}
