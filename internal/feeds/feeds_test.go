package feeds_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/wirestream/wirestream/internal/feeds"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// startJS runs an embedded server with the live streams; a duplicate
// window of 1 s, so that tests waiting past it show what the feed state
// (not Nats-Msg-Id) prevents.
func startJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	ctx := pipelinetest.Context(t, 10*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, proto.Live(), pipeline.StreamsConfig{Duplicates: time.Second}); err != nil {
		t.Fatal(err)
	}
	return js
}

type running struct {
	e    *feeds.Engine
	reg  *prometheus.Registry
	logs *observer.ObservedLogs
	stop func()
}

func runEngine(t *testing.T, js jetstream.JetStream, holder string, fs ...feeds.Feed) *running {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	reg := prometheus.NewRegistry()
	e, err := feeds.New(pipelinetest.Context(t, 10*time.Second), js, feeds.Config{Feeds: fs, Holder: holder, Registry: reg}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return &running{e: e, reg: reg, logs: logs, stop: stop}
}

func (r *running) counter(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue next
				}
			}
			if m.Counter != nil {
				total += m.Counter.GetValue()
			} else if m.Gauge != nil {
				total += m.Gauge.GetValue()
			}
		}
	}
	return total
}

func (r *running) logged(msg string) int { return r.logs.FilterMessage(msg).Len() }

func raw(t *testing.T, js jetstream.JetStream, feed string) uint64 {
	t.Helper()
	return pipelinetest.StreamMsgs(t, js, proto.Live().RawStream(), proto.Live().Raw(feed))
}

func rssFeed(items ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`)
	for _, it := range items {
		b.WriteString(it)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func rssItem(id, body string) string {
	return fmt.Sprintf(`<item><guid>%s</guid><title>Story %s</title><description>%s</description><pubDate>Tue, 01 Dec 2026 09:30:00 GMT</pubDate></item>`, id, id, body)
}

// feedServer serves body (changeable) with an ETag; it counts requests
// and 304 answers. With noValidators it ignores If-None-Match.
type feedServer struct {
	mu           sync.Mutex
	body         string
	noValidators bool
	requests     atomic.Int64
	notModified  atomic.Int64
	userAgent    atomic.Value
	*httptest.Server
}

func newFeedServer(t *testing.T, body string) *feedServer {
	fs := &feedServer{body: body}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.requests.Add(1)
		fs.userAgent.Store(r.Header.Get("User-Agent"))
		fs.mu.Lock()
		body, noVal := fs.body, fs.noValidators
		fs.mu.Unlock()
		etag := fmt.Sprintf(`"%x"`, len(body)*31+int(body[len(body)/2]))
		if !noVal && r.Header.Get("If-None-Match") == etag {
			fs.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) set(body string, noValidators bool) {
	fs.mu.Lock()
	fs.body, fs.noValidators = body, noValidators
	fs.mu.Unlock()
}

func feed(name, url string) feeds.Feed {
	return feeds.Feed{Name: name, URL: url, Every: 100 * time.Millisecond, Timeout: 2 * time.Second}
}

func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	pipelinetest.Eventually(t, 30*time.Second, cond, msg, args...)
}

func TestRSSEachItemOnce(t *testing.T) {
	js := startJS(t)
	srv := newFeedServer(t, rssFeed(rssItem("a", "Alpha story."), rssItem("b", "Beta story.")))
	r := runEngine(t, js, "p1", feed("world", srv.URL))
	eventually(t, func() bool { return raw(t, js, "world") == 2 }, "two items stored")
	eventually(t, func() bool { return srv.notModified.Load() >= 3 }, "conditional polls answered 304")
	if n := raw(t, js, "world"); n != 2 {
		t.Fatalf("%d stored after polls answered 304, want 2", n)
	}
	if got := r.counter(t, "wirestream_feed_polls_total", "feed", "world", "result", "not_modified"); got < 3 {
		t.Errorf("not_modified polls %v", got)
	}
	if ua, _ := srv.userAgent.Load().(string); !strings.HasPrefix(ua, "wirestream/") {
		t.Errorf("User-Agent %q", ua)
	}
	// An edited item is a new version, published again; the other is not.
	srv.set(rssFeed(rssItem("a", "Alpha story, corrected."), rssItem("b", "Beta story.")), false)
	eventually(t, func() bool { return raw(t, js, "world") == 3 }, "the edited item stored again")
	r.stop()

	// A restart (a new engine on the same state), past the duplicate
	// window, against a server that ignores validators: nothing again.
	time.Sleep(1200 * time.Millisecond)
	srv.set(rssFeed(rssItem("a", "Alpha story, corrected."), rssItem("b", "Beta story.")), true)
	before := srv.requests.Load()
	r2 := runEngine(t, js, "p2", feed("world", srv.URL))
	eventually(t, func() bool { return srv.requests.Load() >= before+5 }, "five polls after the restart")
	r2.stop()
	if n := raw(t, js, "world"); n != 3 {
		t.Fatalf("%d stored after a restart, want 3 (an item published twice)", n)
	}
	if got := r.counter(t, "wirestream_feed_items_total", "feed", "world") + r2.counter(t, "wirestream_feed_items_total", "feed", "world"); got != 3 {
		t.Errorf("items_total %v, want 3", got)
	}
}

func zapString(k, v string) zap.Field { return zap.String(k, v) }

func pipelineEventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	pipelinetest.Eventually(t, 60*time.Second, cond, msg, args...)
}
