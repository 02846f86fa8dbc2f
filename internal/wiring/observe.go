package wiring

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirestream/wirestream/proto"
)

// The stages' domain metrics (Spec.Observe). The runtime's per-stage
// metrics (processed, published, errors, lag...) are pipeline.Metrics.

func observeDedupe(reg prometheus.Registerer) func(*proto.Story) {
	decisions := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "dedupe_decisions_total",
		Help: "Dedupe decisions by status."}, []string{"status"}))
	return func(s *proto.Story) {
		if s.Dedupe != nil {
			decisions.WithLabelValues(labelOf(s.Dedupe.Status, proto.DedupeNew, proto.DedupeUpdate, proto.DedupeDuplicate,
				proto.DedupeNearDuplicate, proto.DedupeStale, proto.DedupeKill)).Inc()
		}
	}
}

func observeTag(reg prometheus.Registerer) func(*proto.Story) {
	places := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "tag_places_total",
		Help: "Places tagged, by scheme (iso3166-1a2, un-m49) and relation (located, mentioned)."}, []string{"scheme", "rel"}))
	subjects := register(reg, prometheus.NewCounter(prometheus.CounterOpts{Namespace: "wirestream", Name: "tag_subjects_total",
		Help: "Media Topics tagged (parents included)."}))
	untagged := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "tag_untagged_total",
		Help: "Stories the tag stage left without a country (kind=place) or without a topic (kind=subject)."}, []string{"kind"}))
	return func(s *proto.Story) {
		countries := 0
		for _, p := range s.Place {
			places.WithLabelValues(labelOf(p.Scheme, proto.SchemeCountry, proto.SchemeM49), labelOf(p.Rel, proto.RelLocated, proto.RelMentioned)).Inc()
			if p.Scheme == proto.SchemeCountry {
				countries++
			}
		}
		subjects.Add(float64(len(s.Subject)))
		if countries == 0 {
			untagged.WithLabelValues("place").Inc()
		}
		if len(s.Subject) == 0 {
			untagged.WithLabelValues("subject").Inc()
		}
	}
}

// register registers c with reg, or returns the collector already
// registered under the same name (a second run of the stages in one
// process, with the same registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a programming error: two metrics with one name and different shapes
	}
	return c
}

// labelOf returns v when it is one of known, else "other" ("none" when
// empty): a metric label from story data must have few values (provider
// places carry any scheme), and must not be a view into the story's message
// (it would keep the message alive).
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
