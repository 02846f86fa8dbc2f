package feeds_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/feeds"
)

// TestThrottledRetryAfter: a 429 with Retry-After: 2 is honoured (no request
// before it), counted and logged, then the items come once.
func TestThrottledRetryAfter(t *testing.T) {
	js := startJS(t)
	var mu sync.Mutex
	var times []time.Time
	body := rssFeed(rssItem("a", "Alpha."))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	r := runEngine(t, js, "p1", feed("throttled", srv.URL))
	eventually(t, func() bool { return raw(t, js, "throttled") == 1 }, "item stored after the 429")
	mu.Lock()
	gap := times[1].Sub(times[0])
	mu.Unlock()
	if gap < 2*time.Second {
		t.Errorf("second request %s after the 429, Retry-After asked 2s", gap)
	}
	if got := r.counter(t, "wirestream_feed_errors_total", "feed", "throttled", "kind", feeds.KindThrottled); got != 1 {
		t.Errorf("http_429 errors %v", got)
	}
	if r.logged("feed poll failed") != 1 {
		t.Errorf("logged %d poll failures", r.logged("feed poll failed"))
	}
}

// TestServerErrorsBackOff: 500s are retried with growing delays; the items
// come once when the server recovers.
func TestServerErrorsBackOff(t *testing.T) {
	js := startJS(t)
	var n atomic.Int64
	body := rssFeed(rssItem("a", "Alpha."), rssItem("b", "Beta."))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 3 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	r := runEngine(t, js, "p1", feed("flaky", srv.URL))
	eventually(t, func() bool { return raw(t, js, "flaky") == 2 }, "items stored after the 500s")
	eventually(t, func() bool { return n.Load() >= 7 }, "polls go on")
	if got := raw(t, js, "flaky"); got != 2 {
		t.Errorf("%d stored, want 2", got)
	}
	if got := r.counter(t, "wirestream_feed_errors_total", "feed", "flaky", "kind", feeds.KindHTTP5xx); got != 3 {
		t.Errorf("http_5xx errors %v, want 3", got)
	}
}

// TestBadPages: truncated and malformed XML, a slow server, a redirect loop,
// a response over max_bytes and a gzip bomb: each a poll error of its kind,
// logged and counted, nothing published; the state says why.
func TestBadPages(t *testing.T) {
	good := rssFeed(rssItem("a", "Alpha."), rssItem("b", "Beta."))
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write(bytes.Repeat([]byte(" "), 4<<20))
	_ = zw.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/truncated", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(good[:len(good)/2])) })
	mux.HandleFunc("/malformed", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<rss><channel><item><guid>x</guid></channel></rss>`))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/loop-a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop-b", http.StatusFound) })
	mux.HandleFunc("/loop-b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop-a", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(bytes.Repeat([]byte("x"), 2<<20)) })
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb.Bytes())
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			http.Error(w, "gzip only", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write([]byte(good))
		_ = zw.Close()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	js := startJS(t)
	cases := []struct{ name, path, kind, reason string }{
		{"truncated", "/truncated", feeds.KindParse, "XML syntax error"},
		{"malformed", "/malformed", feeds.KindParse, "XML syntax error"},
		{"slow", "/slow", feeds.KindTimeout, "timed out"},
		{"loop", "/loop-a", feeds.KindRedirect, "redirect loop"},
		{"big", "/big", feeds.KindTooLarge, "over 1048576 bytes (max_bytes)"},
		{"bomb", "/bomb", feeds.KindTooLarge, "over 1048576 bytes (max_bytes)"},
	}
	var fs []feeds.Feed
	for _, c := range cases {
		f := feed(c.name, srv.URL+c.path)
		f.Timeout, f.MaxBytes = 300*time.Millisecond, 1<<20
		fs = append(fs, f)
	}
	fs = append(fs, feed("gzipped", srv.URL+"/gzip"))
	r := runEngine(t, js, "p1", fs...)
	eventually(t, func() bool { return raw(t, js, "gzipped") == 2 }, "gzip feed read")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eventually(t, func() bool {
				return r.counter(t, "wirestream_feed_errors_total", "feed", c.name, "kind", c.kind) >= 1
			}, "error of kind %s counted", c.kind)
			if n := raw(t, js, c.name); n != 0 {
				t.Errorf("%d stored", n)
			}
			found := false
			for _, e := range r.logs.FilterMessage("feed poll failed").FilterField(zapString("feed", c.name)).All() {
				if strings.Contains(fmt.Sprint(e.ContextMap()["error"]), c.reason) && e.ContextMap()["kind"] == c.kind {
					found = true
				}
			}
			if !found {
				t.Errorf("no poll failure logged with kind %s and %q", c.kind, c.reason)
			}
		})
	}
	if got := r.counter(t, "wirestream_feed_errors_total", "feed", "gzipped"); got != 0 {
		t.Errorf("gzip feed had %v errors", got)
	}
}
