package feeds_test

import (
	"fmt"
	"testing"
	"time"
)

// TestOnePollerPerFeed: two engines with the same feeds; exactly one polls
// each feed while both live, and when the holder stops the other takes
// over; every item is stored once.
func TestOnePollerPerFeed(t *testing.T) {
	js := startJS(t)
	srv := newFeedServer(t, rssFeed(rssItem("a", "Alpha.")))
	srv.set(rssFeed(rssItem("a", "Alpha.")), true) // every poll a 200: publishes would show
	f := feed("shared", srv.URL)
	f.Lease = 10 * time.Second // a loaded machine must not make the holder miss a renewal
	a := runEngine(t, js, "proc-a", f)
	b := runEngine(t, js, "proc-b", f)
	eventually(t, func() bool { return raw(t, js, "shared") == 1 }, "item stored")
	eventually(t, func() bool { return srv.requests.Load() >= 10 }, "ten polls")
	pa := a.counter(t, "wirestream_feed_polls_total", "feed", "shared")
	pb := b.counter(t, "wirestream_feed_polls_total", "feed", "shared")
	if pa > 0 && pb > 0 {
		t.Fatalf("both processes polled the feed: %v and %v polls", pa, pb)
	}
	holder, other := a, b
	if pb > 0 {
		holder, other = b, a
	}
	if holder.counter(t, "wirestream_feed_lease_held", "feed", "shared") != 1 || other.counter(t, "wirestream_feed_lease_held", "feed", "shared") != 0 {
		t.Error("lease_held gauges do not show the holder")
	}
	holder.stop()
	srv.set(rssFeed(rssItem("a", "Alpha."), rssItem("b", "Beta.")), true)
	eventually(t, func() bool { return raw(t, js, "shared") == 2 }, "the other process took the feed over")
	eventually(t, func() bool { return other.counter(t, "wirestream_feed_polls_total", "feed", "shared") >= 3 }, "polls go on")
	if n := raw(t, js, "shared"); n != 2 {
		t.Fatalf("%d stored, want 2", n)
	}
}

// TestTenThousandItems: a feed of 10,000 items is stored once, and polling
// it again (a server without validators) stores nothing.
func TestTenThousandItems(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	items := make([]string, n)
	for i := range items {
		items[i] = rssItem(fmt.Sprintf("item-%05d", i), fmt.Sprintf("Item %d of the big feed.", i))
	}
	js := startJS(t)
	srv := newFeedServer(t, rssFeed(items...))
	srv.set(rssFeed(items...), true)
	f := feed("big", srv.URL)
	f.Every = time.Second
	r := runEngine(t, js, "p1", f)
	pipelineEventually(t, func() bool { return raw(t, js, "big") == uint64(n) }, "all items stored")
	before := srv.requests.Load()
	pipelineEventually(t, func() bool { return srv.requests.Load() >= before+2 }, "polled twice more")
	time.Sleep(300 * time.Millisecond) // let the last poll's publishes land
	if got := raw(t, js, "big"); got != uint64(n) {
		t.Fatalf("%d stored, want %d", got, n)
	}
	if got := r.counter(t, "wirestream_feed_items_total", "feed", "big"); got != float64(n) {
		t.Errorf("items_total %v", got)
	}
	if got := r.counter(t, "wirestream_feed_item_duplicates_total", "feed", "big"); got != 0 {
		t.Errorf("%v publishes were duplicates (the state should have known them)", got)
	}
}
