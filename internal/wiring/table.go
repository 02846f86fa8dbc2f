// Package wiring is where the pipeline's stages meet the runtime: the one
// ordered table of stage specs (this file) and the JetStream adapters the
// stages need (dedupe's shared state). Everything that runs stages — `run`,
// `enrich`, `bench`, replay, the metrics — derives what it does from the
// table, so adding or changing a stage touches this file and its tests.
//
// The floors, from the top: cmd/wirestream → the engines behind commands
// (internal/fileingest, httppush, replay, enrich, metrics, bench) → wiring →
// pipeline (runtime) and stages/* (domain logic) → proto.
package wiring

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/dedupe"
	"github.com/wirestream/wirestream/stages/ingest"
	"github.com/wirestream/wirestream/stages/publish"
	"github.com/wirestream/wirestream/stages/tag"
)

// Spec is one stage of the pipeline.
type Spec struct {
	// Name is the stage's name: its consumer (ws-<name>), its output subject
	// (<p>.work.<name>), its dead letters (<p>.dlq.<name>), its metrics label.
	Name string
	// NewRaw or New builds the stage's handler from its dependencies; exactly
	// one is set, and NewRaw only on the first stage, which reads the raw
	// history. A handler with a nil Deps.JS keeps its state in memory (the
	// offline chain).
	NewRaw func(ctx context.Context, d Deps) (pipeline.RawHandler, error)
	New    func(ctx context.Context, d Deps) (pipeline.Handler, error)
	// Workers is the stage's concurrency in one process given --workers
	// (nil: workers itself).
	Workers func(workers int) int
	// Ordered marks a stage that keeps state from story to story: offline it
	// sees the stories one at a time, in input order, so that its decisions
	// are those of a sequential run. The other stages are pure and run on
	// every core.
	Ordered bool
	// Forward, when set, says whether a result goes on to the next stage;
	// the others are kept on the audit subject <p>.audit.<status> (full
	// JSON) and leave the pipeline there.
	Forward func(s *proto.Story) bool
	// Nodes, on the last stage, gives the region and topic node subjects a
	// result is announced on (pipeline.FanOut).
	Nodes func(n proto.Names) func(s *proto.Story) []string
	// Observe, when set, registers the stage's domain metrics with reg and
	// returns the hook the runtime calls with every output.
	Observe func(reg prometheus.Registerer) func(s *proto.Story)
}

// table is the pipeline, in order.
var table = []Spec{
	{
		Name: "ingest",
		NewRaw: func(_ context.Context, d Deps) (pipeline.RawHandler, error) {
			return ingest.New(ingest.Config{MaxBytes: d.MaxBytes})
		},
	},
	{
		Name:    "dedupe",
		New:     newDedupe,
		Workers: func(w int) int { return 4 * w }, // it mostly waits on JetStream round trips
		Ordered: true,
		Forward: dedupe.Forward,
		Observe: observeDedupe,
	},
	{
		Name: "tag",
		New: func(_ context.Context, d Deps) (pipeline.Handler, error) {
			return d.Data.Tagger()
		},
		Observe: observeTag,
	},
	{
		Name: "publish",
		New: func(_ context.Context, d Deps) (pipeline.Handler, error) {
			return publish.New(d.Names), nil
		},
		Nodes: func(n proto.Names) func(*proto.Story) []string { return publish.New(n).Nodes },
	},
}

var (
	_ pipeline.RawHandler = (*ingest.Stage)(nil)
	_ pipeline.Handler    = (*dedupe.Stage)(nil)
	_ pipeline.Handler    = (*tag.Stage)(nil)
	_ pipeline.Handler    = (*publish.Stage)(nil)
)

// Stages returns the stage specs in pipeline order.
func Stages() []Spec { return slices.Clone(table) }

// Names returns the stage names in pipeline order.
func Names() []string {
	out := make([]string, len(table))
	for i, s := range table {
		out[i] = s.Name
	}
	return out
}

// index returns the position of a stage in the table, or -1.
func index(name string) int {
	return slices.IndexFunc(table, func(s Spec) bool { return s.Name == name })
}

// ParseStages turns "all" or a comma-separated list into stage names in
// pipeline order.
func ParseStages(s string) ([]string, error) {
	if s == "" || s == "all" {
		return Names(), nil
	}
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if index(name) < 0 {
			return nil, fmt.Errorf("unknown stage %q (stages: all, %s)", name, strings.Join(Names(), ", "))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return index(a) - index(b) })
	return out, nil
}

// Input is the stream and subject stage i consumes: the raw history for the
// first, the previous stage's output for the others (in partition 0 when
// the work subjects are partitioned: Inputs has them all).
func Input(n proto.Names, i int) (stream, subject string) {
	in := Inputs(n, i)[0]
	return in.Stream, in.Subject
}

// Inputs are every input of stage i: the raw history for the first, the
// previous stage's output in each work partition for the others.
func Inputs(n proto.Names, i int) []pipeline.Input {
	if i == 0 {
		return []pipeline.Input{{Stream: n.RawStream(), Subject: n.RawAll()}}
	}
	out := make([]pipeline.Input, n.PartitionCount())
	for k := range out {
		out[k] = pipeline.Input{Stream: n.WorkStreamOf(k), Subject: n.WorkOf(k, table[i-1].Name)}
	}
	return out
}

// Output is where stage i's results go: the next stage's input (binary),
// or the audit subject (JSON) for a result the stage does not forward; the
// last stage fans out to the output stream.
func Output(n proto.Names, i int) pipeline.Output {
	spec := table[i]
	if i == len(table)-1 {
		return pipeline.FanOut(n.OutStream(), n.OutAll(), spec.Nodes(n))
	}
	// A story's partition is its uri's: every version of it, at every
	// stage, goes through the same work stream, in order.
	work := func(s *proto.Story) string { return n.WorkOf(n.PartitionOf(s.URI), spec.Name) }
	if spec.Forward == nil {
		return pipeline.Forward(func(s *proto.Story) (string, proto.Encoding) { return work(s), proto.EncodingProto })
	}
	return pipeline.Forward(func(s *proto.Story) (string, proto.Encoding) {
		if spec.Forward(s) {
			return work(s), proto.EncodingProto
		}
		if s.Dedupe == nil {
			return n.Audit(spec.Name), proto.EncodingJSON
		}
		return n.Audit(s.Dedupe.Status), proto.EncodingJSON
	})
}

// RawReader is the consumer that reads a namespace's raw history (the
// first stage's): what must not be dropped from the history unread.
func RawReader(n proto.Names) string { return Durable(n, table[0].Name) }

// Durable is the consumer name of a stage in a namespace, shared by every
// process that runs it.
func Durable(n proto.Names, stage string) string {
	if n.Prefix != proto.DefaultPrefix {
		return "ws-" + strings.ToLower(n.StreamPrefix) + "-" + stage
	}
	return "ws-" + stage
}
