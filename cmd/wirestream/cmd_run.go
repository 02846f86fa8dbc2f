package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/desk"
	"github.com/wirestream/wirestream/internal/feeds"
	"github.com/wirestream/wirestream/internal/httppush"
	"github.com/wirestream/wirestream/internal/httpread"
	"github.com/wirestream/wirestream/internal/httpserve"
	"github.com/wirestream/wirestream/internal/metrics"
	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/internal/webhooks"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

func cmdRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "[--nats URL] [--listen HOST:PORT] [--data DIR] [--stages all|none|ingest,dedupe,tag,publish] [--workers N] [--feeds FILE]")
	conn := addConnFlags(fs, e)
	listen := fs.String("listen", "127.0.0.1:4222", "client address of the embedded NATS server (without --nats)")
	data := fs.String("data", "./data", "JetStream store directory of the embedded server (without --nats)")
	stagesFlag := fs.String("stages", "all", "stages to run: all, none (only --webhooks, --http), or a comma-separated list of ingest, dedupe, tag, publish")
	workers := fs.Int("workers", 4, "concurrent stories per stage in this process (per work partition it holds)")
	partitions := fs.Int("partitions", 0, "work partitions of a new pipeline: the work subjects are split by a hash of the story uri into this many streams (WS_WORK_0…), whose leaders spread over a cluster's servers, and each stage's processes share them (docs/scaling.md). Default: what the pipeline's streams have, else 1. A different count than the streams have is refused (wirestream repartition)")
	dedupeWorkers := fs.Int("dedupe-workers", 0, "concurrent stories in the dedupe stage, which mostly waits on JetStream (default 4 × --workers)")
	replicas := fs.Int("replicas", 1, "replicas of each stream (3 on a three-node cluster)")
	dedupeState := fs.String("dedupe-state", "auto", "where the dedupe stage keeps its shared state: log (one record per story in WS_DEDUPE_LOG, every process holds the state in memory), kv (uri records and claims in the WS_DEDUPE bucket), or auto: kv when that bucket exists already (a deployment from before the log keeps its design), else log; see docs/dedupe.md before switching")
	maxBytes := fs.Int("max-bytes", ingest.DefaultMaxBytes, "largest raw story ingest accepts, in bytes")
	history := fs.Duration("history-max-age", 30*24*time.Hour, "how long the raw history (the replay source) is kept")
	historyBytes := fs.Int64("history-max-bytes", -1, "size bound of the raw history in bytes, oldest dropped first (-1: none)")
	nodeSubjects := fs.String("node-subjects", "stored", "region and topic notifications: stored (durable, in the output stream) or live (core NATS only; ~1.5x throughput, see docs/performance.md)")
	nodeBody := fs.String("node-body", "full", "what region and topic messages carry: full (the ninjs JSON story, for any NATS client) or claim-check (headers only, Ws-Story-Seq points at the story on ws.out.all; for very high volume, see docs/subjects.md)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "console", "log format: console or json")
	httpAddr := fs.String("http", "", "serve HTTP on HOST:PORT: push (POST /v1/stories), the read API (GET /v1/stories, /v1/stream) and the wire desk (/ and /pipeline); off when empty")
	httpToken := fs.String("http-token", e.getenv("WIRESTREAM_HTTP_TOKEN"), "bearer token HTTP push requires (env WIRESTREAM_HTTP_TOKEN; never logged)")
	httpMax := fs.Int64("http-max-bytes", proto.DefaultBodyBytes, "largest HTTP push request body, as sent and once inflated (Content-Encoding gzip, zstd)")
	httpConc := fs.Int("http-max-requests", 16, "HTTP push requests handled at once; more get 503 with Retry-After (memory for bodies: this × --http-max-bytes)")
	httpReadToken := fs.String("http-read-token", e.getenv("WIRESTREAM_HTTP_READ_TOKEN"), "bearer token the read API (GET /v1/stories, /v1/stream) requires; the push token also reads; empty: the push token (env WIRESTREAM_HTTP_READ_TOKEN; never logged)")
	httpOrigins := fs.String("http-cors-origins", "", "comma-separated origins browsers may read from (https://desk.example), or * (off when empty)")
	httpStreams := fs.Int("http-max-streams", 256, "event streams (GET /v1/stream) open at once; more get 503")
	webhooksFile := fs.String("webhooks", "", "deliver stories to the webhooks of this YAML file (docs/webhooks.md)")
	websocketAddr := fs.String("websocket", "", "open the embedded NATS server's WebSocket listener on HOST:PORT for browser clients (without --nats)")
	metricsAddr := fs.String("metrics", "", "serve Prometheus /metrics, /healthz and /readyz on HOST:PORT (off when empty)")
	feedsFile := fs.String("feeds", "", "poll the feeds listed in this YAML file into the raw history (README: Connect your feeds)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var feedList []feeds.Feed
	if *feedsFile != "" {
		var err error
		if feedList, err = feeds.LoadFile(*feedsFile, e.getenv); err != nil {
			return usagef("--feeds %v", err)
		}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	var names []string
	var err error
	if *stagesFlag != "none" { // none: only what the other flags ask (--webhooks, --http)
		names, err = wiring.ParseStages(*stagesFlag)
		if err != nil {
			return usagef("--stages: %v", err)
		}
	}
	if *dedupeWorkers < 0 {
		return usagef("--dedupe-workers %d is negative", *dedupeWorkers)
	}
	if *workers < 1 {
		return usagef("--workers %d: must be at least 1", *workers)
	}
	liveNodes, err := parseNodeSubjects(*nodeSubjects)
	if err != nil {
		return err
	}
	if *websocketAddr != "" && conn.cfg.URL != "" {
		return usagef("--websocket opens the embedded server's listener: it does not go with --nats (configure websocket on that server)")
	}
	if *httpStreams < 1 {
		return usagef("--http-max-streams %d: must be at least 1", *httpStreams)
	}
	gaz := new(wiring.Data) // gazetteer and taxonomy, loaded once
	var hooks []webhooks.Hook
	if *webhooksFile != "" {
		if hooks, err = webhooks.Load(*webhooksFile, gaz, proto.Live(), e.lookupEnv); err != nil {
			return usagef("--webhooks %v", err)
		}
	}
	claimCheck, err := parseNodeBody(*nodeBody)
	if err != nil {
		return err
	}
	if *dedupeState == "auto" {
		*dedupeState = ""
	} else if *dedupeState != wiring.DedupeStateLog && *dedupeState != wiring.DedupeStateKV {
		return usagef("--dedupe-state %q: auto, log or kv", *dedupeState)
	}
	log, err := newLogger(e, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr

	// Embedded server unless a NATS URL is given.
	var stopServer func()
	if conn.cfg.URL == "" {
		dir, _ := filepath.Abs(*data)
		srv, err := pipeline.StartServer(pipeline.ServerConfig{Listen: *listen, StoreDir: dir,
			User: conn.cfg.User, Password: conn.cfg.Password, Websocket: *websocketAddr}, log)
		if err != nil {
			return err
		}
		stopServer = func() { srv.Shutdown(); srv.WaitForShutdown() }
		conn.cfg.URL = srv.ClientURL()
		log.Info("embedded NATS server ready", zap.String("url", srv.ClientURL()), zap.String("store", dir))
		if *websocketAddr != "" {
			log.Info("NATS WebSocket listener open", zap.String("url", "ws://"+*websocketAddr))
		}
	}
	nc, js, err := conn.connect("wirestream run "+strings.Join(names, ","), log)
	if err != nil {
		if stopServer != nil {
			stopServer()
		}
		return err
	}
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	live := proto.Live()
	p, err := pipeline.ResolvePartitions(setupCtx, js, live, *partitions)
	if err == nil {
		live = live.WithPartitions(p)
		err = pipeline.EnsureStreams(setupCtx, js, live, pipeline.StreamsConfig{Replicas: *replicas, HistoryMaxAge: *history, HistoryMaxBytes: *historyBytes, LiveNodes: liveNodes, ClaimCheck: claimCheck})
	}
	cancel()
	if err != nil {
		nc.Close()
		if stopServer != nil {
			stopServer()
		}
		return err
	}
	cfg := wiring.Config{Names: live, MaxBytes: *maxBytes, Workers: *workers,
		Dedupe: wiring.DedupeConfig{Replicas: *replicas, State: *dedupeState}, Data: gaz}
	if *dedupeWorkers > 0 {
		cfg.StageWorkers = map[string]int{"dedupe": *dedupeWorkers}
	}
	// One connection per stage, as separate processes would have.
	cfg.Connect = func(stage string) (jetstream.JetStream, func(), error) {
		snc, sjs, err := conn.connect("wirestream "+stage, log)
		if err != nil {
			return nil, nil, err
		}
		return sjs, func() { drainConn(snc, log) }, nil
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var stages atomic.Pointer[[]*pipeline.Stage]
	var m *metrics.Metrics
	if *metricsAddr != "" || *httpAddr != "" { // the desk's pipeline page shows the handler latencies too
		m = metrics.New()
		cfg.Metrics, cfg.Registry = m.Runtime, m.Registry
	}
	if *metricsAddr != "" {
		addr, err := metrics.Serve(runCtx, *metricsAddr, m, func() error {
			if !nc.IsConnected() {
				return fmt.Errorf("NATS %s", nc.Status())
			}
			sts := stages.Load()
			if sts == nil {
				return errors.New("stages starting")
			}
			for _, st := range *sts {
				select {
				case <-st.Ready():
				default:
					return fmt.Errorf("stage %s starting", st.Name())
				}
				if st.Stuck() {
					return fmt.Errorf("stage %s: every worker is waiting to retry a publish the server refused", st.Name())
				}
			}
			if runCtx.Err() != nil {
				return errors.New("shutting down")
			}
			return nil
		})
		if err != nil {
			nc.Close()
			if stopServer != nil {
				stopServer()
			}
			return fmt.Errorf("--metrics %s: %w", *metricsAddr, err)
		}
		log.Info("serving metrics", zap.String("addr", addr.String()))
	}
	if *httpAddr != "" {
		h, err := httppush.New(js, httppush.Config{Names: proto.Live(), Token: *httpToken, MaxBody: *httpMax, MaxBytes: *maxBytes, MaxConcurrent: *httpConc}, log.Named("http"))
		if err != nil {
			return err
		}
		fallback := &deskRef{}
		rh, err := httpread.New(js, httpread.Config{Names: proto.Live(), Data: gaz, ReadToken: *httpReadToken, PushToken: *httpToken,
			Push: h, Origins: outfilter.SplitList(*httpOrigins), MaxStreams: *httpStreams, Fallback: fallback}, log.Named("http"))
		if err != nil {
			return usagef("--http-cors-origins: %v", err)
		}
		if fallback.h, err = desk.New(js, desk.Config{Names: live, Data: gaz, Read: rh, Gatherer: m.Registry, Hooks: hooks}, log.Named("desk")); err != nil {
			return err
		}
		go func() { _ = rh.Run(runCtx) }()
		addr, err := httpserve.Serve(runCtx, *httpAddr, rh)
		if err != nil {
			nc.Close()
			if stopServer != nil {
				stopServer()
			}
			return fmt.Errorf("--http %s: %w", *httpAddr, err)
		}
		log.Info("accepting HTTP push", zap.String("url", "http://"+addr.String()+"/v1/stories"), zap.Bool("token", *httpToken != ""))
		log.Info("serving the HTTP read API", zap.String("url", "http://"+addr.String()+"/v1/stream"), zap.Bool("read_token", *httpReadToken != ""))
		log.Info("serving the wire desk", zap.String("url", "http://"+addr.String()+"/"), zap.String("pipeline", "http://"+addr.String()+"/pipeline"))
	}
	hooksDone := make(chan struct{})
	if len(hooks) > 0 {
		d, err := webhooks.New(js, webhooks.Config{Names: proto.Live(), Hooks: hooks, Registerer: cfg.Registry}, log.Named("webhooks"))
		if err == nil {
			sctx, cancel := context.WithTimeout(runCtx, 30*time.Second)
			_, err = d.Ensure(sctx)
			cancel()
		}
		if err != nil {
			nc.Close()
			if stopServer != nil {
				stopServer()
			}
			return fmt.Errorf("--webhooks: %w", err)
		}
		names := make([]string, len(hooks))
		for i, h := range hooks {
			names[i] = h.Name
		}
		log.Info("delivering webhooks", zap.Strings("webhooks", names))
		go func() { defer close(hooksDone); _ = d.Run(runCtx) }()
	} else {
		close(hooksDone)
	}
	feedsDone := make(chan struct{})
	close(feedsDone)
	if len(feedList) > 0 {
		var reg prometheus.Registerer
		if cfg.Registry != nil {
			reg = cfg.Registry
		}
		fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
		eng, err := feeds.New(fctx, js, feeds.Config{Feeds: feedList, Names: proto.Live(), Reader: wiring.RawReader(proto.Live()),
			Replicas: *replicas, Limits: proto.Limits{StoryBytes: *maxBytes}, Registry: reg}, log.Named("feeds"))
		fcancel()
		if err != nil {
			nc.Close()
			if stopServer != nil {
				stopServer()
			}
			return err
		}
		if !slices.Contains(names, "ingest") {
			log.Info("polling feeds without the ingest stage here: their items wait in the raw history for the process that runs it")
		}
		feedsDone = make(chan struct{})
		go func() {
			defer close(feedsDone)
			_ = eng.Run(runCtx)
		}()
	}
	log.Info("running stages", zap.Strings("stages", names), zap.Int("workers", *workers))
	var sts []*pipeline.Stage
	var errc <-chan error
	if len(names) > 0 {
		sts, errc = wiring.RunStages(runCtx, js, names, cfg, log)
	} else {
		idle := make(chan error, 1)
		go func() { <-runCtx.Done(); idle <- nil }()
		errc = idle
	}
	stages.Store(&sts)
	runErr := <-errc
	stopRun()
	<-hooksDone
	<-feedsDone // pollers stopped, leases given up
	// Shutdown order: stages drained (RunStages returned, their connections
	// drained), then the main connection, then the embedded server.
	drainConn(nc, log)
	if stopServer != nil {
		stopServer()
	}
	if runErr != nil {
		return runErr
	}
	log.Info("stopped")
	return nil
}

// drainConn drains a connection and waits (bounded) until it is closed.
func drainConn(nc *nats.Conn, log *zap.Logger) {
	if err := nc.Drain(); err != nil {
		log.Warn("drain connection", zap.Error(err))
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for !nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// parseNodeBody reads --node-body: true for the claim check.
func parseNodeBody(v string) (bool, error) {
	switch v {
	case pipeline.NodeBodyFull:
		return false, nil
	case pipeline.NodeBodyClaimCheck:
		return true, nil
	}
	return false, usagef("--node-body %q: full or claim-check", v)
}

// parseNodeSubjects reads --node-subjects: true for live.
func parseNodeSubjects(v string) (bool, error) {
	switch v {
	case "stored":
		return false, nil
	case "live":
		return true, nil
	}
	return false, usagef("--node-subjects %q: stored or live", v)
}

// deskRef lets the read API hand other paths to the desk, which is made
// after it (the desk reads through the read API's index).
type deskRef struct{ h http.Handler }

func (d *deskRef) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.h.ServeHTTP(w, r) }
