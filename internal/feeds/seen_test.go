package feeds_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/feeds"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

// TestSeenBounded: the state remembers the versions its latest poll listed
// plus older ones up to SeenCap, no more, and a feed whose items roll over
// publishes each once.
func TestSeenBounded(t *testing.T) {
	js := startJS(t)
	page := func(from int) string {
		var items []string
		for i := from; i < from+30; i++ {
			items = append(items, rssItem(fmt.Sprintf("roll-%d", i), fmt.Sprintf("Rolling item %d.", i)))
		}
		return rssFeed(items...)
	}
	srv := newFeedServer(t, page(0))
	e, err := feeds.New(pipelinetest.Context(t, 10*time.Second), js, feeds.Config{Feeds: []feeds.Feed{feed("roll", srv.URL)},
		Holder: "p1", SeenCap: 50, Registry: prometheus.NewRegistry()}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for from := 0; from <= 60; from += 20 {
		srv.set(page(from), true)
		want := uint64(from + 30)
		eventually(t, func() bool { return raw(t, js, "roll") == want }, "%d items stored", want)
	}
	kv, err := js.KeyValue(pipelinetest.Context(t, 5*time.Second), feeds.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	// The poll saves its state after its items are stored: wait for the
	// save of the last poll (the stored count can get there first).
	var st *feeds.State
	eventually(t, func() bool {
		states, _, err := feeds.ReadAll(pipelinetest.Context(t, 5*time.Second), kv)
		if err != nil {
			t.Fatal(err)
		}
		st = states["roll"]
		return st != nil && st.Items == 90
	}, "the feed state after 90 items")
	if len(st.Seen) != 50 {
		t.Fatalf("state keeps %d item keys, want the cap of 50: %+v", len(st.Seen), st)
	}
	if n := raw(t, js, "roll"); n != 90 {
		t.Errorf("%d stored, want 90", n)
	}
}
