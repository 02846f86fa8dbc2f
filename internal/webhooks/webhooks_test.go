package webhooks_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/internal/outfilter/outtest"
	"github.com/wirestream/wirestream/internal/webhooks"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// receiver is a webhook endpoint on a fixed address that can go down
// (its listener closed: connections refused) and come back.
type receiver struct {
	t      *testing.T
	secret webhooks.Secret
	hook   string
	addr   string
	// decide answers a request: the status, or 0 to hang past the timeout.
	decide func(n int, id string) int

	mu       sync.Mutex
	srv      *http.Server
	requests int
	failed   int
	accepted map[string]int // 2xx answers per delivery id
	seqs     []uint64       // output sequences accepted, in order
	events   map[string]string
	bad      []string
}

func newReceiver(t *testing.T, secret, hook string, decide func(n int, id string) int) *receiver {
	r := &receiver{t: t, secret: webhooks.Secret(secret), hook: hook, decide: decide, accepted: map[string]int{}, events: map[string]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.down)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/hook" }

func (r *receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (r *receiver) down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		// New connections are refused at once; the requests being handled
		// get their answers (a receiver that recorded a story and then lost
		// the connection before answering would rightly get it again).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
	}
}

func (r *receiver) up() {
	var ln net.Listener
	var err error
	for range 100 { // the port was ours a moment ago
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Errorf("receiver back up: %v", err)
		return
	}
	r.serve(ln)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get(webhooks.HeaderDelivery)
	event := req.Header.Get(webhooks.HeaderEvent)
	r.mu.Lock()
	r.requests++
	n := r.requests
	if !webhooks.Verify(r.secret, body, req.Header.Get(webhooks.HeaderSignature)) {
		r.bad = append(r.bad, "bad signature on "+id)
	}
	var s proto.Story
	if err := json.Unmarshal(body, &s); err != nil {
		r.bad = append(r.bad, "body: "+err.Error())
	} else if want := webhooks.DeliveryID(r.hook, s.URI, s.Version, outfilter.Event(&s)); id != want || event != outfilter.Event(&s) {
		r.bad = append(r.bad, "delivery id "+id+" event "+event+" for "+s.URI)
	}
	r.mu.Unlock()
	code := r.decide(n, id)
	if code == 0 {
		<-req.Context().Done() // hang until the sender gives up
		r.mu.Lock()
		r.failed++
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	if code/100 == 2 {
		r.accepted[id]++
		r.events[id] = event
		seq, _ := strconv.ParseUint(req.Header.Get(webhooks.HeaderSeq), 10, 64)
		r.seqs = append(r.seqs, seq)
	} else {
		r.failed++
	}
	r.mu.Unlock()
	w.WriteHeader(code)
}

func (r *receiver) snapshot() (accepted map[string]int, seqs []uint64, failed int, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	acc := map[string]int{}
	for k, v := range r.accepted {
		acc[k] = v
	}
	return acc, slices.Clone(r.seqs), r.failed, slices.Clone(r.bad)
}

func testLog() *zap.Logger {
	if os.Getenv("WS_TEST_LOG") == "" {
		return nil
	}
	l, _ := zap.NewDevelopment()
	return l
}

// process is one running dispatcher (as one wirestream process would run it).
func process(t *testing.T, js jetstream.JetStream, cfg webhooks.Config) (stop func()) {
	t.Helper()
	d, err := webhooks.New(js, cfg, testLog())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Ensure(pipelinetest.Context(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("dispatcher: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func parseHooks(t *testing.T, yaml string, env map[string]string) []webhooks.Hook {
	t.Helper()
	hooks, err := webhooks.Parse([]byte(yaml), new(wiring.Data), proto.Live(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return hooks
}

// TestFlakyReceiverGetsEveryStoryOnce: a receiver that fails every other
// request (some by hanging past the timeout) and is down for a while, fed
// by two processes sharing the webhook, one of them replaced midway, still
// accepts every matching story exactly once per delivery id, each signed,
// in output order.
func TestFlakyReceiverGetsEveryStoryOnce(t *testing.T) {
	p := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	var rcv *receiver
	rcv = newReceiver(t, "s3cret", "desk", func(n int, id string) int {
		switch {
		case n%10 == 5:
			return 0 // hangs past the timeout
		case n%2 == 1:
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	hooks := parseHooks(t, `
webhooks:
  - name: desk
    url: ${HOOK_URL}
    region: central-asia
    secret: "${HOOK_SECRET}"
    max_attempts: 1000
    timeout: 300ms
    backoff_min: 10ms
    backoff_max: 100ms
`, map[string]string{"HOOK_URL": rcv.url(), "HOOK_SECRET": "s3cret"})
	reg := prometheus.NewRegistry()
	cfg := webhooks.Config{Names: p.Names, Hooks: hooks, AckWaitExtra: 2 * time.Second, LagInterval: 100 * time.Millisecond, Registerer: reg}
	// Create the consumer before any story comes out (it delivers new stories).
	stopA := process(t, p.JS, cfg)
	process(t, p.JS, cfg)

	stories := outtest.Stories(7, 0, 30)
	stories = append(stories, outtest.Story{URI: stories[1].URI, Version: "2", UZ: true, Kill: true})
	go outtest.Feed(t, p, 7, stories, 31)

	accepted := func() int { a, _, _, _ := rcv.snapshot(); return len(a) }
	pipelinetest.Eventually(t, 60*time.Second, func() bool { return accepted() >= 6 }, "receiver accepted %d", accepted())
	rcv.down()
	downFor := time.Now()
	stopA() // one process goes away, another comes
	process(t, p.JS, cfg)
	pipelinetest.Eventually(t, 10*time.Second, func() bool {
		return (counter(t, reg, "wirestream_webhook_failed_total")) > 10 && time.Since(downFor) > 500*time.Millisecond
	}, "no failures while the receiver is down")
	rcv.up()

	pipelinetest.Eventually(t, 60*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, p.JS, p.Names.OutStream(), p.Names.OutAll()) == 31
	}, "pipeline did not publish every story")
	wantSeqs := p.OutSeqs(t, hooks[0].Filter)
	if len(wantSeqs) != 21 {
		t.Fatalf("%d stories match central Asia, want 20 and a kill", len(wantSeqs))
	}
	pipelinetest.Eventually(t, 90*time.Second, func() bool { return accepted() >= len(wantSeqs) }, "receiver accepted %d of %d", accepted(), len(wantSeqs))
	// Let any extra delivery arrive before counting.
	time.Sleep(500 * time.Millisecond)
	acc, seqs, failed, bad := rcv.snapshot()
	if len(bad) > 0 {
		t.Fatalf("bad deliveries: %v", bad)
	}
	for id, n := range acc {
		if n != 1 {
			t.Errorf("delivery %s accepted %d times", id, n)
		}
	}
	if len(acc) != len(wantSeqs) || !slices.Equal(seqs, wantSeqs) {
		t.Fatalf("accepted %d ids, seqs %v; want %v in this order", len(acc), seqs, wantSeqs)
	}
	kills := 0
	for _, e := range rcv.events {
		if e == "kill" {
			kills++
		}
	}
	if kills != 1 || failed < len(wantSeqs) {
		t.Fatalf("%d kill events (want 1), %d failed requests (want at least one per story)", kills, failed)
	}
	if got := (counter(t, reg, "wirestream_webhook_delivered_total")); got < float64(len(wantSeqs)) {
		t.Fatalf("delivered metric %v", got)
	}
	pipelinetest.Eventually(t, 5*time.Second, func() bool {
		return (counter(t, reg, "wirestream_webhook_lag")) == 0
	}, "lag did not return to 0")
	ctx := pipelinetest.Context(t, 10*time.Second)
	states, err := webhooks.List(ctx, p.JS, p.Names, hooks)
	if err != nil || len(states) != 1 || !states[0].Exists || states[0].Pending != 0 || states[0].InFlight != 0 {
		t.Fatalf("state %+v %v", states, err)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				if m.Counter != nil {
					v += m.Counter.GetValue()
				}
				if m.Gauge != nil {
					v += m.Gauge.GetValue()
				}
			}
		}
	}
	return v
}

// TestDeadLetter: a story the receiver always refuses goes to the
// dead-letter stream after max_attempts with the last status; the stories
// after it still arrive, in order.
func TestDeadLetter(t *testing.T) {
	p := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	stories := outtest.Stories(9, 0, 6)
	poison := webhooks.DeliveryID("all", stories[2].URI, "1", "story")
	rcv := newReceiver(t, "k", "all", func(n int, id string) int {
		if id == poison {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	hooks := parseHooks(t, `
webhooks:
  - name: all
    url: `+rcv.url()+`
    secret: k
    max_attempts: 3
    backoff_min: 10ms
    backoff_max: 20ms
`, nil)
	process(t, p.JS, webhooks.Config{Names: p.Names, Hooks: hooks})
	outtest.Feed(t, p, 9, stories, 6)
	wantSeqs := p.OutSeqs(t, pipeline.Filter{})
	pipelinetest.Eventually(t, 30*time.Second, func() bool { a, _, _, _ := rcv.snapshot(); return len(a) == 5 }, "receiver did not get the 5 good stories")
	_, seqs, failed, _ := rcv.snapshot()
	m := lastDeadLetter(t, p, hooks[0])
	if m.Header.Get(webhooks.HeaderWebhookStatus) != "503" || m.Header.Get(proto.HeaderDeliveredCount) != "3" ||
		m.Header.Get(proto.HeaderStoryURI) != stories[2].URI || !strings.Contains(m.Header.Get(proto.HeaderError), "503") {
		t.Fatalf("dead letter headers %v", m.Header)
	}
	if failed != 3 {
		t.Fatalf("%d refused posts, want 3", failed)
	}
	var good []uint64
	for _, s := range wantSeqs {
		if s != mustAtoi(m.Header.Get(proto.HeaderOrigSeq)) {
			good = append(good, s)
		}
	}
	if !slices.Equal(seqs, good) {
		t.Fatalf("accepted %v, want %v", seqs, good)
	}
	states, err := webhooks.List(pipelinetest.Context(t, 10*time.Second), p.JS, p.Names, hooks)
	if err != nil || states[0].DeadLetters != 1 {
		t.Fatalf("state %+v %v", states, err)
	}
}

// lastDeadLetter is the last message on the hook's dead-letter subject.
func lastDeadLetter(t *testing.T, p *wiringtest.Pipeline, h webhooks.Hook) *jetstream.RawStreamMsg {
	t.Helper()
	ctx := pipelinetest.Context(t, 10*time.Second)
	dlq, err := p.JS.Stream(ctx, p.Names.DLQStream())
	if err != nil {
		t.Fatal(err)
	}
	m, err := dlq.GetLastMsgForSubject(ctx, h.DLQSubject(p.Names))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustAtoi(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }

func TestParseErrors(t *testing.T) {
	env := map[string]string{"SECRET": "hunter2"}
	cases := []struct{ name, yaml, want string }{
		{"empty", ``, "empty file"},
		{"no list", "webhooks: []\n", "no webhooks"},
		{"unknown field", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    regoin: UZ\n", "regoin"},
		{"no name", "webhooks:\n  - url: http://x/\n    secret: s\n", "webhook #1: name: required"},
		{"bad name", "webhooks:\n  - name: a b\n    url: http://x/\n    secret: s\n", "webhook a b: name"},
		{"no url", "webhooks:\n  - name: a\n    secret: s\n", "webhook a: url: required"},
		{"bad url", "webhooks:\n  - name: a\n    url: ftp://x/\n    secret: s\n", "webhook a: url"},
		{"url creds", "webhooks:\n  - name: a\n    url: http://u:p@x/\n    secret: s\n", "webhook a: url: credentials"},
		{"no secret", "webhooks:\n  - name: a\n    url: http://x/\n", "webhook a: secret: required"},
		{"unset env", "webhooks:\n  - name: a\n    url: http://x/\n    secret: ${NOPE}\n", "webhook a: secret: environment variable NOPE is not set"},
		{"bad region", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    region: atlantis\n", "webhook a: region"},
		{"bad topic", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    topic: nothing-at-all\n", "webhook a: topic"},
		{"bad urgency", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    urgency: 11\n", "webhook a: urgency"},
		{"bad status", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    status: [new, gone]\n", "webhook a: status"},
		{"bad timeout", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    timeout: soon\n", "webhook a: timeout"},
		{"bad format", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    format: xml\n", "webhook a: format \"xml\""},
		{"bad attempts", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    max_attempts: -1\n", "webhook a: max_attempts"},
		{"give up on 429", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    give_up_on: [413, 429]\n", "webhook a: give_up_on 429"},
		{"give up on 2xx", "webhooks:\n  - name: a\n    url: http://x/\n    secret: s\n    give_up_on: [204]\n", "webhook a: give_up_on 204"},
		{"twice", "webhooks:\n  - {name: a, url: 'http://x/', secret: s}\n  - {name: A, url: 'http://y/', secret: s}\n", "webhook A: name: used twice"},
		{"secret not echoed", "webhooks:\n  - name: a\n    url: http://x/\n    secret: ${SECRET}\n    urgency: 0\n", "webhook a: urgency"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := webhooks.Parse([]byte(c.yaml), new(wiring.Data), proto.Live(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, webhooks.ErrConfig) {
				t.Fatalf("error %v, want one with %q", err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
	hooks := parseHooks(t, "webhooks:\n  - name: ok\n    url: https://x.example/h\n    secret: ${SECRET}\n    region: [UZ, central-asia]\n    topic: politics\n    urgency: 3\n    language: en\n    status: new,kill\n", env)
	h := hooks[0]
	if h.Secret != "hunter2" || h.MaxAttempts != webhooks.DefaultMaxAttempts || h.Timeout != webhooks.DefaultTimeout ||
		!slices.Equal(h.Filter.Regions, []string{"UZ", "143"}) || h.Filter.MaxUrgency != 3 || !slices.Equal(h.Filter.Statuses, []string{"new", "kill"}) {
		t.Fatalf("hook %+v", h)
	}
	if s := h.Secret.String(); s != "[redacted]" {
		t.Fatalf("secret prints as %q", s)
	}
	if !slices.Equal(h.GiveUpOn, []int{410, 413}) {
		t.Fatalf("give_up_on by default %v", h.GiveUpOn)
	}
	if h := parseHooks(t, "webhooks:\n  - {name: a, url: 'http://x/', secret: s, give_up_on: []}\n", nil)[0]; len(h.GiveUpOn) != 0 {
		t.Fatalf("give_up_on: [] gives %v, want none (retry every answer)", h.GiveUpOn)
	}
}

// TestGiveUpAtOnce: a story the receiver answers 413 (or another give_up_on
// status) is dead-lettered after that one post, not retried max_attempts
// times; a 503 for another story is still retried, and it arrives.
func TestGiveUpAtOnce(t *testing.T) {
	p := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	stories := outtest.Stories(9, 0, 6)
	tooBig := webhooks.DeliveryID("all", stories[1].URI, "1", "story")
	busy := webhooks.DeliveryID("all", stories[3].URI, "1", "story")
	var mu sync.Mutex
	busyPosts := 0
	rcv := newReceiver(t, "k", "all", func(_ int, id string) int {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case id == tooBig:
			return http.StatusRequestEntityTooLarge
		case id == busy:
			if busyPosts++; busyPosts <= 2 {
				return http.StatusServiceUnavailable
			}
		}
		return http.StatusNoContent
	})
	hooks := parseHooks(t, `
webhooks:
  - name: all
    url: `+rcv.url()+`
    secret: k
    max_attempts: 10
    backoff_min: 10ms
    backoff_max: 20ms
`, nil)
	process(t, p.JS, webhooks.Config{Names: p.Names, Hooks: hooks})
	outtest.Feed(t, p, 9, stories, 6)
	pipelinetest.Eventually(t, 30*time.Second, func() bool { a, _, _, _ := rcv.snapshot(); return len(a) == 5 }, "receiver did not get the 5 other stories")
	accepted, _, failed, _ := rcv.snapshot()
	m := lastDeadLetter(t, p, hooks[0])
	if m.Header.Get(webhooks.HeaderWebhookStatus) != "413" || m.Header.Get(proto.HeaderDeliveredCount) != "1" || m.Header.Get(proto.HeaderErrorKind) != "permanent" ||
		m.Header.Get(proto.HeaderStoryURI) != stories[1].URI || !strings.Contains(m.Header.Get(proto.HeaderError), "give_up_on 413") {
		t.Fatalf("dead letter headers %v", m.Header)
	}
	if accepted[busy] != 1 {
		t.Fatalf("the story answered 503 twice was accepted %d times, want 1", accepted[busy])
	}
	if failed != 3 { // one 413, two 503
		t.Fatalf("%d refused posts, want 3", failed)
	}
}
