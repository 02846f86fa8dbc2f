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

// NewStage builds the runtime of one pipeline stage on js.
func NewStage(ctx context.Context, js jetstream.JetStream, name string, cfg Config, log *zap.Logger) (*pipeline.Stage, error) {
	sc := pipeline.ForStage(cfg.Names, name)
	sc.Workers = cfg.Workers
	n := cfg.Names
	var st *pipeline.Stage
	var err error
	switch name {
	case proto.StageIngest:
		h, herr := ingest.New(ingest.Config{MaxBytes: cfg.MaxBytes})
		if herr != nil {
			return nil, herr
		}
		sc.Output = pipeline.To(n.Work(name), proto.EncodingProto)
		applyStage(&sc, cfg)
		st, err = pipeline.NewRawStage(js, sc, h, log)
	case proto.StageDedupe:
		h, herr := newDedupeHandler(ctx, js, cfg, log)
		if herr != nil {
			return nil, herr
		}
		sc.Output = pipeline.Forward(func(s *proto.Story) (string, proto.Encoding) {
			if Republished(s) {
				return n.Work(name), proto.EncodingProto
			}
			return n.Audit(s.Dedupe.Status), proto.EncodingJSON
		})
		applyStage(&sc, cfg)
		st, err = pipeline.NewStage(js, sc, h, log)
	case proto.StageTag:
		h, herr := newTagHandler()
		if herr != nil {
			return nil, herr
		}
		sc.Output = pipeline.To(n.Work(name), proto.EncodingProto)
		applyStage(&sc, cfg)
		st, err = pipeline.NewStage(js, sc, h, log)
	case proto.StagePublish:
		h := publish.New(n)
		sc.Output = pipeline.FanOut(n.OutStream(), n.OutAll(), h.Nodes)
		applyStage(&sc, cfg)
		st, err = pipeline.NewStage(js, sc, h, log)
	default:
		return nil, fmt.Errorf("unknown stage %q", name)
	}
	return st, err
}

func applyStage(sc *pipeline.StageConfig, cfg Config) {
	if cfg.Stage != nil {
		cfg.Stage(sc)
	}
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
	for _, name := range names {
		st, err := NewStage(ctx, js, name, cfg, log)
		if err != nil {
			cancel()
			errc <- fmt.Errorf("stage %s: %w", name, err)
			close(errc)
			return nil, errc
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
		if first != nil {
			errc <- first
		}
		close(errc)
	}()
	return stages, errc
}
