package wiring

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag"
)

// Config is what the stages need to know, whichever process runs them.
type Config struct {
	// Names is the subject namespace (proto.Live() unless replaying).
	Names proto.Names
	// MaxBytes is the ingest size limit of one raw story (0: the ingest
	// stage's default).
	MaxBytes int
	// Workers is the number of concurrent inputs per stage in this process
	// (default 4); a stage's Spec.Workers may scale it.
	Workers int
	// StageWorkers overrides the concurrency of named stages.
	StageWorkers map[string]int
	// Dedupe configures the dedupe stage's state.
	Dedupe DedupeConfig
	// Data is the process's tag data (gazetteer, taxonomy), loaded once on
	// first use and shared by the tag stage and the CLI's look-ups. Nil: a
	// new one.
	Data *Data
	// Connect, when set, gives each stage its own connection: a NATS
	// connection is one ordered stream of messages, and stages sharing one
	// queue behind each other's traffic (measured: 3× slower).
	Connect func(stage string) (jetstream.JetStream, func(), error)
	// Metrics, when set, receives the runtime's per-stage metrics, and
	// Registry the stages' domain metrics (Spec.Observe).
	Metrics  *pipeline.Metrics
	Registry prometheus.Registerer
	// Tune adjusts every stage's runtime config after the defaults (tests).
	Tune func(*pipeline.StageConfig)
}

// DedupeConfig configures the dedupe stage's shared state.
type DedupeConfig struct {
	// Window is how long stories are remembered (default 7 days): the TTL
	// of the KV bucket and the max age of the signature log.
	Window time.Duration
	// Threshold is the near-duplicate similarity threshold (0: the dedupe
	// package's default, chosen from its precision/recall curve).
	Threshold float64
	// Replicas of the bucket and the log (default 1).
	Replicas int
	// State is where the shared state lives: DedupeStateLog (one record
	// per story in the ordered log, every process keeps the state in
	// memory, docs/dedupe.md "Ordered log") or DedupeStateKV (uri records
	// and content claims in a KV bucket, signatures in the log: the design
	// before the ordered log, three to four stored messages and round trips
	// per story). "" (the default) is kv when the namespace's KV bucket
	// exists already (an existing deployment keeps its design through an
	// upgrade), else log.
	State string
}

// Dedupe state designs (DedupeConfig.State).
const (
	DedupeStateLog = "log"
	DedupeStateKV  = "kv"
)

// Deps is what a stage's constructor is given.
type Deps struct {
	Config
	// JS is the stage's JetStream context; nil offline, where a stage keeps
	// its state in memory.
	JS  jetstream.JetStream
	Log *zap.Logger
}

// workers is stage i's concurrency under cfg.
func (c Config) workers(i int) int {
	if n, ok := c.StageWorkers[table[i].Name]; ok && n > 0 {
		return n
	}
	w := c.Workers
	if w <= 0 {
		w = 4
	}
	if f := table[i].Workers; f != nil {
		return f(w)
	}
	return w
}

// Data is the tag stage's data, loaded on first use: about a second of CPU
// and tens of MB, so a process loads it once and only when it needs it.
type Data struct {
	// GeoOverrides, when set before the first Tagger call, are gazetteer
	// override entries added to the embedded ones (replay --geo-overrides).
	GeoOverrides string

	once sync.Once
	tag  *tag.Stage
	err  error
}

// Tagger returns the tag stage, loading its data on the first call.
func (d *Data) Tagger() (*tag.Stage, error) {
	d.once.Do(func() { d.tag, d.err = tag.NewWithOverrides(d.GeoOverrides) })
	return d.tag, d.err
}
