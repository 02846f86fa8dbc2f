// Package enrich runs the pipeline's stages in-process, without NATS: the
// offline chain behind `wirestream enrich` and the benchmark's per-stage CPU
// figures. The chain is built from the stage table (internal/wiring), so it
// runs the same stage code as the live pipeline, with state in memory.
package enrich

import (
	"context"
	"errors"
	"fmt"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// Chain is the stage table's handlers, built once with in-memory state.
type Chain struct {
	specs []wiring.Spec
	raw   pipeline.RawHandler
	story []pipeline.Handler // story[i] is stage i's handler; nil for the raw stage
	nodes func(*proto.Story) []string
}

// NewChain builds every stage of the table offline (no JetStream).
func NewChain(ctx context.Context, cfg wiring.Config) (*Chain, error) {
	if cfg.Data == nil {
		cfg.Data = new(wiring.Data)
	}
	c := &Chain{specs: wiring.Stages()}
	d := wiring.Deps{Config: cfg}
	for i, spec := range c.specs {
		switch {
		case i == 0 && spec.NewRaw != nil:
			h, err := spec.NewRaw(ctx, d)
			if err != nil {
				return nil, fmt.Errorf("stage %s: %w", spec.Name, err)
			}
			c.raw = h
			c.story = append(c.story, nil)
		case i > 0 && spec.New != nil:
			h, err := spec.New(ctx, d)
			if err != nil {
				c.Close(ctx)
				return nil, fmt.Errorf("stage %s: %w", spec.Name, err)
			}
			c.story = append(c.story, h)
		default:
			return nil, fmt.Errorf("stage %s: the first stage must read raw input and the others stories", spec.Name)
		}
		if spec.Nodes != nil {
			c.nodes = spec.Nodes(cfg.Names)
		}
	}
	return c, nil
}

// Len is the number of stages.
func (c *Chain) Len() int { return len(c.specs) }

// Spec returns stage i's spec.
func (c *Chain) Spec(i int) wiring.Spec { return c.specs[i] }

// Ingest runs the first stage on one raw input.
func (c *Chain) Ingest(ctx context.Context, data []byte, m proto.RawMeta) ([]*proto.Story, error) {
	return c.raw.HandleRaw(ctx, data, m)
}

// Stage runs story stage i (1 ≤ i < Len) on s. For the last stage it also
// computes the node subjects, as the runtime's fan-out does, so the stage's
// whole cost is measured.
func (c *Chain) Stage(ctx context.Context, i int, s *proto.Story) ([]*proto.Story, error) {
	outs, err := c.story[i].Handle(ctx, s)
	if err == nil && i == len(c.specs)-1 && c.nodes != nil {
		for _, o := range outs {
			_ = c.nodes(o)
		}
	}
	return outs, err
}

// Close closes every stage.
func (c *Chain) Close(ctx context.Context) error {
	var errs []error
	if c.raw != nil {
		errs = append(errs, c.raw.Close(ctx))
	}
	for _, h := range c.story {
		if h != nil {
			errs = append(errs, h.Close(ctx))
		}
	}
	return errors.Join(errs...)
}
