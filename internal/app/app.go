// Package app wires the stages (stages/*) to the runtime (pipeline): which
// handler, input and output each stage of the pipeline has, the offline
// enrich chain, and the helpers behind the CLI's commands. cmd/wirestream
// only maps flags onto it.
package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
	"github.com/wirestream/wirestream/stages/publish"
)

// Config is what the stages need to know, whichever process runs them.
type Config struct {
	// Names is the subject namespace (proto.Live() unless replaying).
	Names proto.Names
	// MaxBytes is the ingest size limit of one raw story.
	MaxBytes int
	// Workers is the number of concurrent inputs per stage in this process.
	Workers int
	// Dedupe configures the dedupe stage's state.
	Dedupe DedupeConfig
	// DedupeWorkers is the dedupe stage's concurrency: it waits on
	// JetStream round trips more than it computes (default 4 × Workers).
	DedupeWorkers int
	// Connect, when set, gives each stage its own connection: a NATS
	// connection is one ordered stream of messages, and stages sharing one
	// queue behind each other's traffic (measured: 3× slower).
	Connect func(stage string) (jetstream.JetStream, func(), error)
	// Obs, when set, receives the stages' metrics.
	Obs *Observability
	// Stage tweaks every stage's runtime config after defaults (tests).
	Stage func(*pipeline.StageConfig)
}

// ParseStages turns "all" or a comma-separated list into stage names in
// pipeline order.
func ParseStages(s string) ([]string, error) {
	if s == "" || s == "all" {
		return slices.Clone(proto.Stages), nil
	}
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(proto.Stages, name) {
			return nil, fmt.Errorf("unknown stage %q (stages: all, %s)", name, strings.Join(proto.Stages, ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return slices.Index(proto.Stages, a) - slices.Index(proto.Stages, b) })
	return out, nil
}

// Handler builds the domain logic of one stage: a pipeline.RawHandler for
// ingest, a pipeline.Handler for the others. The dedupe stage keeps its
// state in JetStream through js.
func Handler(ctx context.Context, js jetstream.JetStream, name string, cfg Config, log *zap.Logger) (any, error) {
	switch name {
	case proto.StageIngest:
		return ingest.New(ingest.Config{MaxBytes: cfg.MaxBytes})
	case proto.StageDedupe:
		return newDedupeHandler(ctx, js, cfg, log)
	case proto.StageTag:
		return Tagger()
	case proto.StagePublish:
		return publish.New(cfg.Names), nil
	}
	return nil, fmt.Errorf("unknown stage %q", name)
}

// Output is where a stage's results go in a namespace.
func Output(name string, n proto.Names) pipeline.Output {
	switch name {
	case proto.StageDedupe:
		return pipeline.Forward(func(s *proto.Story) (string, proto.Encoding) {
			if Republished(s) {
				return n.Work(name), proto.EncodingProto
			}
			return n.Audit(s.Dedupe.Status), proto.EncodingJSON
		})
	case proto.StagePublish:
		return pipeline.FanOut(n.OutStream(), n.OutAll(), publish.New(n).Nodes)
	}
	return pipeline.To(n.Work(name), proto.EncodingProto)
}

// NewStage builds the runtime of one pipeline stage on js.
func NewStage(ctx context.Context, js jetstream.JetStream, name string, cfg Config, log *zap.Logger) (*pipeline.Stage, error) {
	h, err := Handler(ctx, js, name, cfg, log)
	if err != nil {
		return nil, err
	}
	sc := pipeline.ForStage(cfg.Names, name)
	sc.Workers = cfg.Workers
	if name == proto.StageDedupe {
		sc.Workers = cfg.DedupeWorkers
		if sc.Workers == 0 && cfg.Workers > 0 {
			sc.Workers = 4 * cfg.Workers
		}
		if sc.Workers == 0 {
			sc.Workers = 16
		}
	}
	sc.Output = Output(name, cfg.Names)
	sc.Metrics = cfg.Obs.runtime()
	sc.Observe = cfg.Obs.observer(name)
	if cfg.Stage != nil {
		cfg.Stage(&sc)
	}
	switch h := h.(type) {
	case pipeline.RawHandler:
		return pipeline.NewRawStage(js, sc, h, log)
	case pipeline.Handler:
		return pipeline.NewStage(js, sc, h, log)
	}
	return nil, fmt.Errorf("stage %s: handler %T fits no stage contract", name, h)
}

// Republished reports whether dedupe sends a story downstream (new, update,
// kill) rather than to the audit subject (duplicate, near_duplicate, stale).
func Republished(s *proto.Story) bool {
	if s.Dedupe == nil {
		return true
	}
	switch s.Dedupe.Status {
	case proto.DedupeDuplicate, proto.DedupeNearDuplicate, proto.DedupeStale:
		return false
	}
	return true
}

// RunStages runs the named stages on js until ctx is cancelled, then drains
// them all. It returns the first start-up error, after stopping the others.
func RunStages(ctx context.Context, js jetstream.JetStream, names []string, cfg Config, log *zap.Logger) ([]*pipeline.Stage, <-chan error) {
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	var stages []*pipeline.Stage
	var closers []func()
	fail := func(err error) ([]*pipeline.Stage, <-chan error) {
		cancel()
		for _, c := range closers {
			c()
		}
		errc <- err
		close(errc)
		return nil, errc
	}
	for _, name := range names {
		sjs := js
		if cfg.Connect != nil {
			c, closeFn, err := cfg.Connect(name)
			if err != nil {
				return fail(fmt.Errorf("stage %s: connect: %w", name, err))
			}
			sjs = c
			closers = append(closers, closeFn)
		}
		st, err := NewStage(ctx, sjs, name, cfg, log)
		if err != nil {
			return fail(fmt.Errorf("stage %s: %w", name, err))
		}
		stages = append(stages, st)
	}
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, st := range stages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := st.Run(ctx); err != nil {
				once.Do(func() { first = fmt.Errorf("stage %s: %w", st.Name(), err) })
				cancel()
			}
		}()
	}
	go func() {
		wg.Wait()
		cancel()
		for _, c := range closers {
			c()
		}
		if first != nil {
			errc <- first
		}
		close(errc)
	}()
	return stages, errc
}
