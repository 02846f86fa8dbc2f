package pipeline

import (
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the runtime's Prometheus metrics, labelled by stage. One
// Metrics serves every stage of a process; pass it in StageConfig.Metrics.
type Metrics struct {
	processed    *prometheus.CounterVec
	dropped      *prometheus.CounterVec
	published    *prometheus.CounterVec
	duplicates   *prometheus.CounterVec
	errors       *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
	redelivered  *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	pending      *prometheus.GaugeVec
	ackPending   *prometheus.GaugeVec
	lastPublish  *prometheus.GaugeVec
}

// NewMetrics creates the runtime metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: name, Help: help}, []string{"stage"})
	}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wirestream", Name: name, Help: help}, []string{"stage"})
	}
	m := &Metrics{
		processed:    counter("processed_total", "Inputs acknowledged after their outputs were stored."),
		dropped:      counter("dropped_total", "Inputs the stage consumed without output (acknowledged)."),
		published:    counter("published_total", "Output messages acknowledged by JetStream."),
		duplicates:   counter("publish_duplicates_total", "Output messages JetStream dropped as duplicates (a redelivered input republished)."),
		errors:       counter("errors_total", "Handler failures, each attempt."),
		deadLettered: counter("dead_lettered_total", "Inputs sent to the dead-letter subject."),
		redelivered:  counter("redeliveries_total", "Inputs received with a delivery count above one."),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "wirestream", Name: "handler_seconds", Help: "Time in the stage's handler per input.",
			Buckets: []float64{10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3, 1},
		}, []string{"stage"}),
		pending:    gauge("consumer_pending", "Messages in the stage's input not yet delivered (consumer lag)."),
		ackPending: gauge("consumer_ack_pending", "Messages delivered to the stage and not yet acknowledged."),
		lastPublish: gauge("last_published_timestamp_seconds",
			"When the stage last had an output stored (Unix seconds): alert when time() minus this grows while input waits."),
	}
	reg.MustRegister(m.processed, m.dropped, m.published, m.duplicates, m.errors, m.deadLettered, m.redelivered,
		m.latency, m.pending, m.ackPending, m.lastPublish)
	return m
}

// stageMetrics are the metrics curried with one stage's label; every field
// is usable on a nil *stageMetrics through its methods.
type stageMetrics struct {
	processed, dropped, published, duplicates, errors, deadLettered, redelivered prometheus.Counter
	latency                                                                      prometheus.Observer
	pending, ackPending, lastPublish                                             prometheus.Gauge
}

func (m *Metrics) forStage(stage string) *stageMetrics {
	if m == nil {
		return nil
	}
	return &stageMetrics{
		processed: m.processed.WithLabelValues(stage), dropped: m.dropped.WithLabelValues(stage),
		published: m.published.WithLabelValues(stage), duplicates: m.duplicates.WithLabelValues(stage),
		errors: m.errors.WithLabelValues(stage), deadLettered: m.deadLettered.WithLabelValues(stage),
		redelivered: m.redelivered.WithLabelValues(stage), latency: m.latency.WithLabelValues(stage),
		pending: m.pending.WithLabelValues(stage), ackPending: m.ackPending.WithLabelValues(stage),
		lastPublish: m.lastPublish.WithLabelValues(stage),
	}
}

// setLag sets the lag gauges from the consumer's info.
func (sm *stageMetrics) setLag(info *jetstream.ConsumerInfo) {
	if sm == nil {
		return
	}
	sm.pending.Set(float64(info.NumPending))
	sm.ackPending.Set(float64(info.NumAckPending))
}
