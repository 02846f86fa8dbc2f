package app

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// Observability holds a process's Prometheus registry: the runtime's
// per-stage metrics and the domain's (dedupe decisions, tag counts).
type Observability struct {
	Registry  *prometheus.Registry
	Runtime   *pipeline.Metrics
	decisions *prometheus.CounterVec
	places    *prometheus.CounterVec
	subjects  prometheus.Counter
	untagged  *prometheus.CounterVec
}

// NewObservability creates and registers the metrics, with Go and process
// collectors.
func NewObservability() *Observability {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o := &Observability{
		Registry: reg,
		Runtime:  pipeline.NewMetrics(reg),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "dedupe_decisions_total",
			Help: "Dedupe decisions by status."}, []string{"status"}),
		places: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "tag_places_total",
			Help: "Places tagged, by scheme (iso3166-1a2, un-m49) and relation (located, mentioned)."}, []string{"scheme", "rel"}),
		subjects: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "wirestream", Name: "tag_subjects_total",
			Help: "Media Topics tagged (parents included)."}),
		untagged: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "tag_untagged_total",
			Help: "Stories the tag stage left without a country (kind=place) or without a topic (kind=subject)."}, []string{"kind"}),
	}
	reg.MustRegister(o.decisions, o.places, o.subjects, o.untagged)
	return o
}

// observer returns the domain-metrics hook of a stage, or nil.
func (o *Observability) observer(stage string) func(*proto.Story) {
	if o == nil {
		return nil
	}
	switch stage {
	case proto.StageDedupe:
		return func(s *proto.Story) {
			if s.Dedupe != nil {
				o.decisions.WithLabelValues(s.Dedupe.Status).Inc()
			}
		}
	case proto.StageTag:
		return func(s *proto.Story) {
			countries := 0
			for _, p := range s.Place {
				o.places.WithLabelValues(labelOf(p.Scheme, proto.SchemeCountry, proto.SchemeM49), labelOf(p.Rel, proto.RelLocated, proto.RelMentioned)).Inc()
				if p.Scheme == proto.SchemeCountry {
					countries++
				}
			}
			o.subjects.Add(float64(len(s.Subject)))
			if countries == 0 {
				o.untagged.WithLabelValues("place").Inc()
			}
			if len(s.Subject) == 0 {
				o.untagged.WithLabelValues("subject").Inc()
			}
		}
	}
	return nil
}

func (o *Observability) runtime() *pipeline.Metrics {
	if o == nil {
		return nil
	}
	return o.Runtime
}

// ServeObservability serves /metrics, /healthz (the process is alive) and
// /readyz (ready() returns nil: connected and every stage consuming) on
// addr until ctx ends. It returns once listening.
func ServeObservability(ctx context.Context, addr string, o *Observability, ready func() error) (net.Addr, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	return ServeHTTP(ctx, addr, mux)
}

// ServeHTTP serves h on addr until ctx ends. It returns once listening.
func ServeHTTP(ctx context.Context, addr string, h http.Handler) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener failed after start; /healthz probes will notice
		}
	}()
	return ln.Addr(), nil
}

// labelOf returns v when it is one of known, else "other": a metric label
// from story data must have few values (provider places carry any scheme),
// and must not be a view into the story's message (it would keep it alive).
func labelOf(v string, known ...string) string {
	for _, k := range known {
		if v == k {
			return k
		}
	}
	if v == "" {
		return "none"
	}
	return "other"
}
