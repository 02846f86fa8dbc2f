package deploy_test

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wirestream/wirestream/internal/feeds"
	"github.com/wirestream/wirestream/internal/metrics"
	"github.com/wirestream/wirestream/internal/webhooks"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// registered returns the metric names a `wirestream run` with feeds and
// webhooks registers, each with its label names, read from the collectors'
// descriptions (a metric need not have been used yet).
func registered(t *testing.T) map[string][]string {
	t.Helper()
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	m := metrics.New()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := feeds.New(ctx, js, feeds.Config{Names: proto.Live(), Holder: "test", Registry: m.Registry,
		Feeds: []feeds.Feed{{Name: "f", URL: "http://127.0.0.1:1/feed", Every: time.Minute}}}, nil); err != nil {
		t.Fatal(err)
	}
	hooks, err := webhooks.Parse([]byte("webhooks:\n  - {name: h, url: 'http://127.0.0.1:1/', secret: s}\n"), nil, proto.Live(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := webhooks.New(js, webhooks.Config{Names: proto.Live(), Hooks: hooks, Registerer: m.Registry}, nil); err != nil {
		t.Fatal(err)
	}
	descs := make(chan *prometheus.Desc, 256)
	go func() { m.Registry.Describe(descs); close(descs) }()
	nameRe := regexp.MustCompile(`fqName: "([^"]+)"`)
	labelRe := regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
	out := map[string][]string{}
	for d := range descs {
		s := d.String()
		n := nameRe.FindStringSubmatch(s)
		if n == nil {
			continue
		}
		var labels []string
		if l := labelRe.FindStringSubmatch(s); l != nil && l[1] != "" {
			labels = strings.Split(l[1], ",")
		}
		out[n[1]] = labels
	}
	return out
}

// TestGrafanaDashboard: deploy/grafana/wirestream.json is a dashboard whose
// every query names metrics wirestream registers, grouped by labels those
// metrics have.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/wirestream.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string
		UID    string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 10 {
		t.Fatalf("dashboard %q (%s) with %d panels", d.Title, d.UID, len(d.Panels))
	}
	have := registered(t)
	metricRe := regexp.MustCompile(`\bwirestream_[a-z_]+`)
	byRe := regexp.MustCompile(`by \(([^)]*)\)`)
	used := map[string]bool{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			names := metricRe.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("panel %q: %q names no wirestream metric", p.Title, tg.Expr)
			}
			for _, n := range names {
				base := n
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if _, ok := have[n]; !ok && strings.HasSuffix(n, suf) {
						base = strings.TrimSuffix(n, suf)
					}
				}
				labels, ok := have[base]
				if !ok {
					t.Errorf("panel %q: metric %s is not registered by wirestream", p.Title, n)
					continue
				}
				used[base] = true
				for _, by := range byRe.FindAllStringSubmatch(tg.Expr, -1) {
					for _, l := range strings.Split(by[1], ",") {
						l = strings.TrimSpace(l)
						if l != "le" && !slices.Contains(labels, l) {
							t.Errorf("panel %q: %s has no label %q (it has %v)", p.Title, base, l, labels)
						}
					}
				}
			}
		}
	}
	t.Logf("%d panels over %d of wirestream's %d metrics", len(d.Panels), len(used), len(have))
}
