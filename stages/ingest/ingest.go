// Package ingest is the first stage of wirestream: it turns raw input (ninjs
// 1.x, 2.x and 3.x JSON, NewsML-G2, NITF 3.x, IPTC 7901 and ANPA 1312 wire
// messages, AP-style plain text) into normalised stories. It is plain Go with no
// NATS import; the pipeline runtime feeds it messages from the raw history.
package ingest

import (
	"context"
	"fmt"

	"github.com/wirestream/wirestream/proto"
)

// DefaultMaxBytes is the default size limit of one raw story (1 MiB).
const DefaultMaxBytes = proto.DefaultStoryBytes

// Config configures the ingest stage.
type Config struct {
	// MaxBytes rejects raw stories larger than this (the --max-bytes
	// flag); it sets Limits.StoryBytes. Default DefaultMaxBytes.
	MaxBytes int
	// Limits bound the rest of a story at the boundary (uri and version
	// bytes, JSON depth); zero fields take proto.DefaultLimits.
	Limits proto.Limits
}

func (c *Config) setDefaults() {
	if c.MaxBytes != 0 {
		c.Limits.StoryBytes = c.MaxBytes
	}
	c.Limits = c.Limits.WithDefaults()
	if int64(c.Limits.StoryBytes) > c.Limits.InflatedBytes {
		c.Limits.InflatedBytes = int64(c.Limits.StoryBytes)
	}
	c.MaxBytes = c.Limits.StoryBytes
}

// Validate reports a configuration error naming the field.
func (c Config) Validate() error {
	if c.MaxBytes < 0 {
		return fmt.Errorf("ingest: Config.MaxBytes %d is negative", c.MaxBytes)
	}
	if err := c.Limits.Validate(); err != nil {
		return fmt.Errorf("ingest: Config: %w", err)
	}
	return nil
}

// Stage parses and normalises raw stories. It is stateless and safe for
// concurrent use.
type Stage struct {
	cfg Config
}

// New returns an ingest stage.
func New(cfg Config) (*Stage, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Stage{cfg: cfg}, nil
}

// HandleRaw parses one raw input: one story, or several for a NewsML-G2
// message; or a permanent *Error that names the reason (the runtime
// dead-letters the input).
func (st *Stage) HandleRaw(_ context.Context, data []byte, m proto.RawMeta) ([]*proto.Story, error) {
	stories, err := st.ParseAll(data, m.Format)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Origin == "" {
			e.Origin = m.Origin
		}
		return nil, err
	}
	for _, s := range stories {
		s.Source = m.Source
		s.Received = m.Received
		s.IngestSeq = m.Seq
	}
	return stories, nil
}

// Limits are the bounds the stage enforces, defaults applied.
func (st *Stage) Limits() proto.Limits { return st.cfg.Limits }

// Close implements the stage contract; ingest holds no resources.
func (st *Stage) Close(context.Context) error { return nil }
