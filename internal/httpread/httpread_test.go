package httpread_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"

	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/klauspost/compress/gzip"
	"github.com/nats-io/nats.go"
	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/internal/httpread"
	"github.com/wirestream/wirestream/internal/httpserve"
	"github.com/wirestream/wirestream/internal/outfilter/outtest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

type server struct {
	base string
	h    *httpread.Handler
	p    *wiringtest.Pipeline
}

func start(t *testing.T, cfg httpread.Config, lim httpserve.Limits) *server {
	t.Helper()
	p := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	return serve(t, p, cfg, lim)
}

func serve(t *testing.T, p *wiringtest.Pipeline, cfg httpread.Config, lim httpserve.Limits) *server {
	t.Helper()
	cfg.Names = p.Names
	cfg.Data = new(wiring.Data)
	var log *zap.Logger
	if os.Getenv("WS_TEST_LOG") != "" {
		log, _ = zap.NewDevelopment()
	}
	h, err := httpread.New(p.JS, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = h.Run(ctx) }()
	if lim == (httpserve.Limits{}) {
		lim = httpserve.DefaultLimits
	}
	addr, err := httpserve.ServeWith(ctx, "127.0.0.1:0", h, lim)
	if err != nil {
		t.Fatal(err)
	}
	return &server{base: "http://" + addr.String(), h: h, p: p}
}

func get(t *testing.T, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestPagesAndLookup(t *testing.T) {
	s := start(t, httpread.Config{ReadToken: "reader", PushToken: "pusher"}, httpserve.Limits{})
	stories := outtest.Stories(1, 0, 15)
	outtest.Feed(t, s.p, 1, stories, 15)
	kill := outtest.Story{URI: stories[1].URI, Version: "2", UZ: true, Kill: true}
	outtest.Feed(t, s.p, 1, []outtest.Story{kill}, 16)

	uz := s.p.OutSeqs(t, pipeline.Filter{Regions: []string{"143"}})
	if len(uz) < 10 {
		t.Fatalf("only %d stories in central Asia; the generated corpus has 10 plus a kill", len(uz))
	}
	// Page through central Asia, three at a time: newest first, each once.
	var got []uint64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatal("paging does not end")
		}
		q := url.Values{"region": {"central-asia"}, "limit": {"3"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, body := get(t, s.base+"/v1/stories?"+q.Encode(), "Authorization", "Bearer reader")
		if resp.StatusCode != 200 {
			t.Fatalf("page: %d %s", resp.StatusCode, body)
		}
		var p httpread.Page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Stories) != len(p.Seqs) || len(p.Stories) > 3 {
			t.Fatalf("page of %d stories and %d seqs", len(p.Stories), len(p.Seqs))
		}
		got = append(got, p.Seqs...)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	slices.Reverse(uz)
	if !slices.Equal(got, uz) {
		t.Fatalf("pages gave seqs %v, want %v (newest first, each once)", got, uz)
	}

	// The push token also reads; gzip when asked.
	resp, body := get(t, s.base+"/v1/stories?region=UZ&limit=5&format=ninjs1", "Authorization", "Bearer pusher", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip page: %d %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	var p httpread.Page
	if err := json.Unmarshal(plain, &p); err != nil || len(p.Stories) != 5 {
		t.Fatalf("gzip page: %d stories, %v", len(p.Stories), err)
	}

	// One story: latest version; killed says so; unknown is 404.
	pipelinetest.Eventually(t, 10*time.Second, func() bool {
		r, _ := get(t, s.base+"/v1/stories/"+url.PathEscape(stories[2].URI), "Authorization", "Bearer reader")
		return r.StatusCode == 200
	}, "index not ready")
	resp, body = get(t, s.base+"/v1/stories/"+url.PathEscape(stories[2].URI), "Authorization", "Bearer reader")
	var st proto.Story
	if err := json.Unmarshal(body, &st); err != nil || st.URI != stories[2].URI {
		t.Fatalf("story: %s %v", body, err)
	}
	resp, body = get(t, s.base+"/v1/stories/"+url.PathEscape(kill.URI), "Authorization", "Bearer reader")
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"killed":true`) {
		t.Fatalf("killed story: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, s.base+"/v1/stories/"+url.PathEscape("urn:nope"), "Authorization", "Bearer reader")
	if resp.StatusCode != 404 || strings.Contains(string(body), "killed") {
		t.Fatalf("unknown story: %d %s", resp.StatusCode, body)
	}
}

// sse reads events of one connection.
type event struct {
	id    uint64
	event string
	data  string
}

func readEvents(t *testing.T, r *bufio.Reader, n int) []event {
	t.Helper()
	var out []event
	var cur event
	for len(out) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if cur.event != "" {
				out = append(out, cur)
			}
			cur = event{}
		case strings.HasPrefix(line, "id: "):
			cur.id, _ = strconv.ParseUint(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data += line[6:]
		}
	}
	return out
}

func openStream(t *testing.T, u string, hdr ...string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	return resp, bufio.NewReader(resp.Body)
}

// TestStreamResumes: a client reads part of the stream, goes away while
// more stories come out, and resumes with Last-Event-ID: every matching
// story arrives once (counted), in order, the kill as event: kill.
func TestStreamResumes(t *testing.T) {
	// Server timeouts far shorter than the stream's life: the stream lifts them.
	lim := httpserve.DefaultLimits
	lim.ReadTimeout, lim.WriteTimeout = 500*time.Millisecond, 500*time.Millisecond
	s := start(t, httpread.Config{Heartbeat: 100 * time.Millisecond}, lim)
	first := outtest.Stories(2, 0, 12)
	outtest.Feed(t, s.p, 2, first, 12)

	resp, r := openStream(t, s.base+"/v1/stream?region=UZ&from=start")
	part := readEvents(t, r, 5)
	resp.Body.Close()
	last := part[len(part)-1].id

	more := outtest.Stories(2, 12, 9)
	more = append(more, outtest.Story{URI: first[1].URI, Version: "2", UZ: true, Kill: true})
	outtest.Feed(t, s.p, 2, more, 22)
	uz := s.p.OutSeqs(t, pipeline.Filter{Regions: []string{"UZ"}})

	time.Sleep(2 * lim.WriteTimeout) // the resumed stream must outlive the server's timeouts
	_, r = openStream(t, s.base+"/v1/stream?region=UZ", "Last-Event-ID", strconv.FormatUint(last, 10))
	rest := readEvents(t, r, len(uz)-len(part))
	all := append(part, rest...)
	count := map[uint64]int{}
	kills := 0
	var seqs []uint64
	for _, e := range all {
		count[e.id]++
		seqs = append(seqs, e.id)
		var st proto.Story
		if err := json.Unmarshal([]byte(e.data), &st); err != nil {
			t.Fatalf("event %d: %v", e.id, err)
		}
		if (e.event == "kill") != (st.PubStatus == proto.PubStatusCanceled) {
			t.Fatalf("event %d is %q for pubstatus %q", e.id, e.event, st.PubStatus)
		}
		if e.event == "kill" {
			kills++
		}
	}
	for id, n := range count {
		if n != 1 {
			t.Errorf("event %d delivered %d times", id, n)
		}
	}
	if !slices.Equal(seqs, uz) {
		t.Fatalf("events %v, want %v", seqs, uz)
	}
	if kills != 1 {
		t.Fatalf("%d kill events, want 1", kills)
	}
	// Idle: heartbeats keep coming past the server's write timeout.
	deadline := time.Now().Add(3 * lim.WriteTimeout)
	beats := 0
	for time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("idle stream ended after %d heartbeats: %v", beats, err)
		}
		if strings.HasPrefix(line, ": heartbeat") {
			beats++
		}
	}
	if beats < 3 {
		t.Fatalf("%d heartbeats in %s", beats, 3*lim.WriteTimeout)
	}
}

// TestBadRequests: every endpoint answers a bad request with 4xx JSON
// naming the problem.
func TestBadRequests(t *testing.T) {
	s := start(t, httpread.Config{ReadToken: "tok", Origins: []string{"https://desk.example"}}, httpserve.Limits{})
	auth := []string{"Authorization", "Bearer tok"}
	cases := []struct {
		name, method, path string
		hdr                []string
		code               int
		want               string
	}{
		{"no token", "GET", "/v1/stories", nil, 401, "bearer token"},
		{"wrong token", "GET", "/v1/stream", []string{"Authorization", "Bearer nope"}, 401, "bearer token"},
		{"unknown param", "GET", "/v1/stories?regoin=UZ", auth, 400, "regoin"},
		{"bad region", "GET", "/v1/stories?region=atlantis", auth, 400, "atlantis"},
		{"bad topic", "GET", "/v1/stories?topic=medtop:1", auth, 400, "topic"},
		{"bad urgency", "GET", "/v1/stories?urgency=12", auth, 400, "urgency"},
		{"bad status", "GET", "/v1/stories?status=deleted", auth, 400, "status"},
		{"bad language", "GET", "/v1/stories?language=e%21", auth, 400, "language"},
		{"bad limit", "GET", "/v1/stories?limit=100000", auth, 400, "limit"},
		{"zero limit", "GET", "/v1/stories?limit=0", auth, 400, "limit"},
		{"bad cursor", "GET", "/v1/stories?cursor=abc", auth, 400, "cursor"},
		{"bad since", "GET", "/v1/stories?since=yesterday", auth, 400, "since"},
		{"until before since", "GET", "/v1/stories?since=2024-01-02T00:00:00Z&until=2024-01-01T00:00:00Z", auth, 400, "until"},
		{"limit twice", "GET", "/v1/stories?limit=1&limit=2", auth, 400, "more than once"},
		{"bad query", "GET", "/v1/stories?a=%zz", auth, 400, "malformed"},
		{"uri too long", "GET", "/v1/stories/" + strings.Repeat("u", 2000), auth, 400, "uri"},
		{"params on one story", "GET", "/v1/stories/urn:x?limit=2", auth, 400, "no parameters"},
		{"bad format", "GET", "/v1/stories?format=ninjs9", auth, 400, "format \"ninjs9\""},
		{"bad format on one story", "GET", "/v1/stories/urn:x?format=xml", auth, 400, "format"},
		{"bad last event id", "GET", "/v1/stream", append([]string{"Last-Event-ID", "x"}, auth...), 400, "Last-Event-ID"},
		{"stream cursor", "GET", "/v1/stream?cursor=3", auth, 400, "cursor"},
		{"stream from", "GET", "/v1/stream?from=end", auth, 400, "from"},
		{"post without push", "POST", "/v1/stories", auth, 405, "not allowed"},
		{"delete", "DELETE", "/v1/stories/urn:x", auth, 405, "not allowed"},
		{"post stream", "POST", "/v1/stream", auth, 405, "not allowed"},
		{"unknown path", "GET", "/v2/stories", auth, 404, "not found"},
		{"preflight bad origin", "OPTIONS", "/v1/stories", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "GET"}, 403, "not allowed"},
		{"preflight bad method", "OPTIONS", "/v1/stories", []string{"Origin", "https://desk.example", "Access-Control-Request-Method", "PUT"}, 403, "PUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, s.base+c.path, nil)
			for i := 0; i+1 < len(c.hdr); i += 2 {
				req.Header.Set(c.hdr[i], c.hdr[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var e struct {
				Error string `json:"error"`
			}
			if resp.StatusCode != c.code || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, c.want) {
				t.Fatalf("%s %s: %d %q %s; want %d with an error naming %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"), b, c.code, c.want)
			}
		})
	}
	// A good preflight: 204 with the CORS headers.
	req, _ := http.NewRequest("OPTIONS", s.base+"/v1/stream", nil)
	req.Header.Set("Origin", "https://desk.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization, last-event-id")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://desk.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Last-Event-ID") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	// Headers over the server's limit: 431.
	resp, _ = get(t, s.base+"/v1/stories", "Authorization", "Bearer tok", "X-Big", strings.Repeat("a", 32<<10))
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("32 KiB header: %d, want 431", resp.StatusCode)
	}
}

// TestSlowStreamClient: a client that stops reading is cut off by the
// per-write deadline, and meanwhile another client gets every event.
func TestSlowStreamClient(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	nc, js := pipelinetest.Connect(t, srv)
	names := proto.Live()
	ctx := pipelinetest.Context(t, 60*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	p := &wiringtest.Pipeline{NC: nc, JS: js, Names: names}
	s := serve(t, p, httpread.Config{WriteTimeout: time.Second}, httpserve.Limits{})

	// The slow client: a socket with a small receive buffer that never reads.
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /v1/stream HTTP/1.1\r\nHost: x\r\n\r\n")
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return s.h.Stats().StreamsOpen.Load() == 1 }, "slow stream not open")
	_, fast := openStream(t, s.base+"/v1/stream", "Accept-Encoding", "identity")

	// 200 stories of 64 KiB: far more than the socket buffers hold.
	const n = 200
	body := strings.Repeat("word ", 64<<10/5)
	for i := range n {
		b, _ := proto.MarshalJSON(&proto.Story{URI: fmt.Sprintf("urn:slow:%d", i), Version: "1", BodyText: body, Dedupe: &proto.Dedupe{Status: proto.DedupeNew}})
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: names.OutAll(), Data: b, Header: nats.Header{proto.HeaderEncoding: {"json"}}}); err != nil {
			t.Fatal(err)
		}
	}
	evs := readEvents(t, fast, n)
	for i, e := range evs {
		if e.id != uint64(i+1) {
			t.Fatalf("fast client event %d has id %d", i, e.id)
		}
	}
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return s.h.Stats().StreamsCut.Load() == 1 }, "the slow client was not cut off (cut %d)", s.h.Stats().StreamsCut.Load())
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return s.h.Stats().StreamsOpen.Load() == 1 }, "open streams %d, want 1", s.h.Stats().StreamsOpen.Load())
}
