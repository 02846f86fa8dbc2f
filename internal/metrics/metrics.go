// Package metrics is a process's Prometheus registry and the HTTP endpoint
// that serves it with the probes: /metrics, /healthz (the process lives) and
// /readyz (connected, and every stage consumes). The runtime's per-stage
// metrics are pipeline.Metrics; the stages' domain metrics are registered
// by the stage table (internal/wiring).
package metrics

import (
	"context"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wirestream/wirestream/internal/buildinfo"
	"github.com/wirestream/wirestream/internal/httpserve"
	"github.com/wirestream/wirestream/pipeline"
)

// Metrics is a process's registry: Go and process collectors, the
// runtime's metrics (Runtime), and whatever the stages register.
type Metrics struct {
	Registry *prometheus.Registry
	Runtime  *pipeline.Metrics
}

// New creates the registry with Go, process and runtime metrics, and
// wirestream_build_info (value 1, the build in its labels).
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	bi := buildinfo.Read()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wirestream", Name: "build_info",
		Help: "The running build: wirestream version and commit, Go, nats-server and nats.go versions (value 1)."},
		[]string{"version", "commit", "go_version", "nats_server", "nats_go"})
	build.WithLabelValues(bi.Version, bi.Commit, bi.Go, bi.NATSServer, bi.NATSClient).Set(1)
	reg.MustRegister(build)
	return &Metrics{Registry: reg, Runtime: pipeline.NewMetrics(reg)}
}

// Serve serves /metrics, /healthz and /readyz (ready returns nil: ready) on
// addr until ctx ends. It returns once listening.
func Serve(ctx context.Context, addr string, m *Metrics, ready func() error) (net.Addr, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return httpserve.Serve(ctx, addr, mux)
}
