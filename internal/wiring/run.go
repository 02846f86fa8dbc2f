package wiring

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/pipeline"
)

// StageConfig is the runtime configuration of stage i under cfg: its input,
// output, dead letters, consumer, concurrency and observers.
func StageConfig(cfg Config, i int) pipeline.StageConfig {
	spec := table[i]
	stream, subject := Input(cfg.Names, i)
	sc := pipeline.StageConfig{
		Name:       spec.Name,
		Stream:     stream,
		Subject:    subject,
		DeadLetter: cfg.Names.DLQ(spec.Name),
		Durable:    Durable(cfg.Names, spec.Name),
		Output:     Output(cfg.Names, i),
		Workers:    cfg.workers(i),
		Metrics:    cfg.Metrics,
	}
	if ins := Inputs(cfg.Names, i); len(ins) > 1 {
		sc.Partitions, sc.LeaseBucket = ins, cfg.Names.LeaseBucket()
	}
	if spec.Observe != nil && cfg.Registry != nil {
		sc.Observe = spec.Observe(cfg.Registry)
	}
	if cfg.Tune != nil {
		cfg.Tune(&sc)
	}
	return sc
}

// NewStage builds the runtime of the named stage on js.
func NewStage(ctx context.Context, js jetstream.JetStream, name string, cfg Config, log *zap.Logger) (*pipeline.Stage, error) {
	i := index(name)
	if i < 0 {
		return nil, fmt.Errorf("unknown stage %q", name)
	}
	if cfg.Data == nil {
		cfg.Data = new(Data)
	}
	spec, sc := table[i], StageConfig(cfg, i)
	d := Deps{Config: cfg, JS: js, Log: log}
	if spec.NewRaw != nil {
		h, err := spec.NewRaw(ctx, d)
		if err != nil {
			return nil, err
		}
		return pipeline.NewRawStage(js, sc, h, log)
	}
	h, err := spec.New(ctx, d)
	if err != nil {
		return nil, err
	}
	return pipeline.NewStage(js, sc, h, log)
}

// RunStages runs the named stages on js until ctx is cancelled, then drains
// them all. The channel yields the first error (a stage that could not
// start, or stopped consuming on its own), after the others were stopped,
// and is closed when every stage has returned.
func RunStages(ctx context.Context, js jetstream.JetStream, names []string, cfg Config, log *zap.Logger) ([]*pipeline.Stage, <-chan error) {
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	if cfg.Data == nil {
		cfg.Data = new(Data) // one load of the tag data for all the stages started here
	}
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
