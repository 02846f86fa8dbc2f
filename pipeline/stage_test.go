package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// fixture is one server, the live streams, and helpers to feed a stage.
type fixture struct {
	t     *testing.T
	js    jetstream.JetStream
	nc    *nats.Conn
	names proto.Names
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureStreams(t, pipeline.StreamsConfig{})
}

// newFixtureStreams is newFixture with the live streams made from sc.
func newFixtureStreams(t *testing.T, sc pipeline.StreamsConfig) *fixture {
	t.Helper()
	s := pipelinetest.StartServer(t)
	nc, js := pipelinetest.Connect(t, s)
	names := proto.Live()
	ctx := pipelinetest.Context(t, 10*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, names, sc); err != nil {
		t.Fatal(err)
	}
	// Outputs of test stages go to a plain limits stream the test can read.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TESTOUT", Subjects: []string{"testout.>"}, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, js: js, nc: nc, names: names}
}

// stageCfg is a test stage reading <p>.work.test and writing <p>.work.tested.
func (f *fixture) stageCfg() pipeline.StageConfig {
	return pipeline.StageConfig{
		Name:       "test",
		Stream:     f.names.WorkStream(),
		Subject:    f.names.Work("test"),
		DeadLetter: f.names.DLQ("test"),
		Output:     pipeline.To("testout.tested", proto.EncodingProto),
		Backoff:    []time.Duration{10 * time.Millisecond},
		AckWait:    2 * time.Second,
		Workers:    4,
	}
}

func story(i int) *proto.Story {
	return &proto.Story{URI: fmt.Sprintf("urn:test:%d", i), Version: "1", Headline: fmt.Sprintf("story %d", i),
		BodyText: "body", IngestSeq: uint64(i + 1)}
}

// feed publishes n stories (proto encoded) to the stage input.
func (f *fixture) feed(from, n int) {
	f.t.Helper()
	f.feedTo(f.names.Work("test"), from, n)
}

// feedTo publishes n stories (proto encoded) on subject.
func (f *fixture) feedTo(subject string, from, n int) {
	f.t.Helper()
	ctx := pipelinetest.Context(f.t, 10*time.Second)
	for i := from; i < from+n; i++ {
		b, err := proto.MarshalProto(story(i))
		if err != nil {
			f.t.Fatal(err)
		}
		m := nats.NewMsg(subject)
		m.Data = b
		m.Header.Set(proto.HeaderEncoding, string(proto.EncodingProto))
		if _, err := f.js.PublishMsg(ctx, m); err != nil {
			f.t.Fatal(err)
		}
	}
}

// run starts a stage and returns a stop function that drains it.
func (f *fixture) run(cfg pipeline.StageConfig, h pipeline.Handler) (*pipeline.Stage, func()) {
	f.t.Helper()
	st, err := pipeline.NewStage(f.js, cfg, h, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return st, pipelinetest.Run(f.t, st)
}

// outputs reads every message on the output subject, keyed by uri.
func (f *fixture) outputs() map[string]int {
	f.t.Helper()
	return f.countURIs("TESTOUT", "testout.tested")
}

// countURIs counts the proto-encoded stories stored on a stream subject by
// uri (an empty map when the stream does not exist).
func (f *fixture) countURIs(streamName, subject string) map[string]int {
	f.t.Helper()
	ctx := pipelinetest.Context(f.t, 10*time.Second)
	got := map[string]int{}
	stream, err := f.js.Stream(ctx, streamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return got
	}
	if err != nil {
		f.t.Fatal(err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		f.t.Fatal(err)
	}
	total := 0
	for _, n := range info.State.Subjects {
		total += int(n)
	}
	if total == 0 {
		return got
	}
	c, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		f.t.Fatal(err)
	}
	batch, err := c.Fetch(total, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		f.t.Fatal(err)
	}
	for m := range batch.Messages() {
		s, err := proto.UnmarshalProto(m.Data())
		if err != nil {
			f.t.Fatal(err)
		}
		got[s.URI]++
	}
	return got
}

func (f *fixture) consumerIdle(durable string) bool {
	ctx := pipelinetest.Context(f.t, 5*time.Second)
	c, err := f.js.Consumer(ctx, f.names.WorkStream(), durable)
	if err != nil {
		return false
	}
	info, err := c.Info(ctx)
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0
}

func upper(_ context.Context, s *proto.Story) ([]*proto.Story, error) {
	s.Headline = strings.ToUpper(s.Headline)
	return []*proto.Story{s}, nil
}

func TestStageRoundTrip(t *testing.T) {
	f := newFixture(t)
	st, _ := f.run(f.stageCfg(), pipeline.HandlerFunc(upper))
	f.feed(0, 100)
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return st.Stats().Processed == 100 }, "processed %d", st.Stats().Processed)
	got := f.outputs()
	if len(got) != 100 {
		t.Fatalf("%d distinct outputs, want 100", len(got))
	}
	for uri, n := range got {
		if n != 1 {
			t.Errorf("%s published %d times", uri, n)
		}
	}
	pipelinetest.Eventually(t, 5*time.Second, func() bool { return f.consumerIdle("ws-test") }, "inputs left unacked")
}

func TestStageRetriesTransientErrors(t *testing.T) {
	f := newFixture(t)
	var calls sync.Map // uri -> *atomic.Int32
	h := pipeline.HandlerFunc(func(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
		v, _ := calls.LoadOrStore(s.URI, new(atomic.Int32))
		if v.(*atomic.Int32).Add(1) <= 2 {
			return nil, errors.New("flaky dependency")
		}
		return upper(ctx, s)
	})
	st, _ := f.run(f.stageCfg(), h)
	f.feed(0, 20)
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return st.Stats().Processed == 20 }, "processed %d", st.Stats().Processed)
	s := st.Stats()
	if s.Errors != 40 || s.Redelivered != 40 || s.DeadLettered != 0 {
		t.Errorf("stats = %+v, want 40 errors, 40 redeliveries, no dead letters", s)
	}
	for uri, n := range f.outputs() {
		if n != 1 {
			t.Errorf("%s published %d times", uri, n)
		}
	}
}

func TestStageDeadLettersPermanentAndExhausted(t *testing.T) {
	f := newFixture(t)
	h := pipeline.HandlerFunc(func(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
		switch s.URI {
		case "urn:test:3":
			return nil, proto.Permanent(errors.New("cannot parse dateline"))
		case "urn:test:5":
			return nil, errors.New("always fails")
		case "urn:test:7":
			panic("boom")
		}
		return upper(ctx, s)
	})
	cfg := f.stageCfg()
	cfg.MaxDeliver = 3
	st, _ := f.run(cfg, h)
	f.feed(0, 10)
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return st.Stats().DeadLettered == 3 && st.Stats().Processed == 7 },
		"stats %+v", st.Stats())

	ctx := pipelinetest.Context(t, 5*time.Second)
	stream, _ := f.js.Stream(ctx, f.names.DLQStream())
	want := map[string][2]string{
		"urn:test:3": {"permanent", "cannot parse dateline"},
		"urn:test:5": {"max-deliver", "failed 3 times, last: always fails"},
		"urn:test:7": {"max-deliver", "stage panicked: boom"},
	}
	for seq := uint64(1); seq <= 3; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		s, err := proto.UnmarshalProto(m.Data)
		if err != nil {
			t.Fatalf("dead letter body is not the original: %v", err)
		}
		w, ok := want[s.URI]
		if !ok {
			t.Fatalf("unexpected dead letter %s", s.URI)
		}
		delete(want, s.URI)
		h := m.Header
		if h.Get(proto.HeaderErrorKind) != w[0] || !strings.Contains(h.Get(proto.HeaderError), w[1]) ||
			h.Get(proto.HeaderStage) != "test" || h.Get(proto.HeaderOrigSubject) != f.names.Work("test") ||
			h.Get(proto.HeaderOrigStream) != f.names.WorkStream() || h.Get(proto.HeaderOrigSeq) == "" || m.Subject != f.names.DLQ("test") {
			t.Errorf("%s: dead-letter headers %v", s.URI, h)
		}
	}
	if got := len(f.outputs()); got != 7 {
		t.Errorf("%d outputs, want the 7 good stories", got)
	}
	pipelinetest.Eventually(t, 5*time.Second, func() bool { return f.consumerIdle("ws-test") }, "inputs left unacked")
}

// A handler slower than AckWait makes the server redeliver the input to a
// second worker while the first still works on it: both publish, and the
// Nats-Msg-Id keeps one copy.
func TestStageIdempotentUnderRedelivery(t *testing.T) {
	f := newFixture(t)
	var first atomic.Bool
	h := pipeline.HandlerFunc(func(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
		if first.CompareAndSwap(false, true) {
			time.Sleep(1500 * time.Millisecond)
		}
		return upper(ctx, s)
	})
	cfg := f.stageCfg()
	cfg.AckWait = time.Second
	st, _ := f.run(cfg, h)
	f.feed(0, 1)
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return st.Stats().Duplicates >= 1 }, "no duplicate publish seen: %+v", st.Stats())
	if got := f.outputs(); got["urn:test:0"] != 1 {
		t.Fatalf("output copies = %d, want 1", got["urn:test:0"])
	}
}

// Stopping a stage mid-stream loses nothing: every input is either published
// and acknowledged, or still pending for the next run; none is published twice.
func TestStageDrainLosesNothing(t *testing.T) {
	f := newFixture(t)
	slow := pipeline.HandlerFunc(func(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
		time.Sleep(2 * time.Millisecond)
		return upper(ctx, s)
	})
	const n = 400
	f.feed(0, n)
	st, stop := f.run(f.stageCfg(), slow)
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return st.Stats().Processed >= 50 }, "no progress")
	stop()
	first := st.Stats().Processed
	if first >= n {
		t.Fatalf("stage finished before it was stopped (%d); the test did not exercise drain", first)
	}
	if got := len(f.outputs()); int64(got) != first {
		t.Fatalf("after drain: %d outputs but %d inputs acknowledged", got, first)
	}
	st2, _ := f.run(f.stageCfg(), slow)
	pipelinetest.Eventually(t, 20*time.Second, func() bool { return first+st2.Stats().Processed >= n }, "second run processed %d", st2.Stats().Processed)
	got := f.outputs()
	if len(got) != n {
		t.Fatalf("%d distinct outputs, want %d", len(got), n)
	}
	for uri, c := range got {
		if c != 1 {
			t.Errorf("%s published %d times", uri, c)
		}
	}
}

func TestEnsureStreamsIdempotentAndIncompatible(t *testing.T) {
	f := newFixture(t)
	ctx := pipelinetest.Context(t, 10*time.Second)
	if err := pipeline.EnsureStreams(ctx, f.js, f.names, pipeline.StreamsConfig{}); err != nil {
		t.Fatalf("second EnsureStreams: %v", err)
	}
	err := pipeline.EnsureStreams(ctx, f.js, f.names, pipeline.StreamsConfig{HistoryMaxAge: time.Hour})
	if !errors.Is(err, pipeline.ErrIncompatible) || !strings.Contains(err.Error(), "WS_RAW") || !strings.Contains(err.Error(), "max age") {
		t.Fatalf("err = %v, want ErrIncompatible naming WS_RAW and max age", err)
	}
}

func TestConsumerIncompatible(t *testing.T) {
	f := newFixture(t)
	_, stop := f.run(f.stageCfg(), pipeline.HandlerFunc(upper))
	stop()
	cfg := f.stageCfg()
	cfg.MaxAckPending = 7
	st, err := pipeline.NewStage(f.js, cfg, pipeline.HandlerFunc(upper), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Run(pipelinetest.Context(t, 10*time.Second))
	if !errors.Is(err, pipeline.ErrIncompatible) || !strings.Contains(err.Error(), "max ack pending") {
		t.Fatalf("err = %v, want ErrIncompatible naming max ack pending", err)
	}
	// The advice keeps the consumer's position: edit in place (the command
	// was run by hand against the test server and the stage then started),
	// never "delete it", which on the raw history re-ingests everything.
	if !strings.Contains(err.Error(), "nats consumer edit "+cfg.Stream+" ws-test --wait=2s --max-pending=7 --max-deliver=-1") || strings.Contains(err.Error(), "consumer rm") {
		t.Fatalf("err = %v, want the nats consumer edit command and no consumer rm", err)
	}
}

// TestStageDrainTimeoutHandsBack: shutdown while every worker is stuck in a
// handler that only returns when its context ends, and more deliveries wait
// behind them. After DrainTimeout the handlers are cancelled and the waiting
// deliveries are handed back; Run returns, and a second run publishes every
// story exactly once.
func TestStageDrainTimeoutHandsBack(t *testing.T) {
	f := newFixture(t)
	const n = 60
	f.feed(0, n)
	var entered atomic.Int64
	stuck := pipeline.HandlerFunc(func(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
		entered.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	cfg := f.stageCfg()
	cfg.DrainTimeout = 300 * time.Millisecond
	st, stop := f.run(cfg, stuck)
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return entered.Load() >= int64(cfg.Workers) }, "workers did not start")
	stop() // returns only once Run has (the test times out otherwise)
	if p := st.Stats().Processed; p != 0 {
		t.Fatalf("%d inputs processed by handlers that never returned a story", p)
	}
	f.run(f.stageCfg(), pipeline.HandlerFunc(upper))
	pipelinetest.Eventually(t, 20*time.Second, func() bool { return len(f.outputs()) >= n }, "second run: %d of %d out", func() int { return len(f.outputs()) }, n)
	for uri, c := range f.outputs() {
		if c != 1 {
			t.Errorf("%s published %d times", uri, c)
		}
	}
}

// A stage whose consumer is deleted (nats consumer rm) makes it again and
// goes on, from where it had got to: on a work queue and on a stream that
// keeps what was read (the raw history), nothing is processed twice and
// nothing after it is skipped.
func TestStageRecreatesDeletedConsumer(t *testing.T) {
	for _, kind := range []string{"work queue", "history"} {
		t.Run(kind, func(t *testing.T) {
			f := newFixture(t)
			cfg := f.stageCfg()
			subject := cfg.Subject
			if kind == "history" {
				ctx := pipelinetest.Context(t, 10*time.Second)
				if _, err := f.js.CreateStream(ctx, jetstream.StreamConfig{Name: "TESTIN", Subjects: []string{"testin.>"}}); err != nil {
					t.Fatal(err)
				}
				cfg.Stream, cfg.Subject, subject = "TESTIN", "testin.>", "testin.x"
			}
			st, stop := f.run(cfg, pipeline.HandlerFunc(upper))
			f.feedTo(subject, 0, 5)
			pipelinetest.Eventually(t, 10*time.Second, func() bool { return st.Stats().Processed == 5 }, "processed %d", st.Stats().Processed)
			if err := f.js.DeleteConsumer(pipelinetest.Context(t, 5*time.Second), cfg.Stream, "ws-"+cfg.Name); err != nil {
				t.Fatal(err)
			}
			pipelinetest.Eventually(t, 30*time.Second, func() bool { return st.Stats().ConsumerRecreated == 1 }, "consumer not made again")
			f.feedTo(subject, 5, 5)
			pipelinetest.Eventually(t, 30*time.Second, func() bool { return st.Stats().Processed == 10 }, "processed %d of 10", st.Stats().Processed)
			stop()
			got := f.outputs()
			if len(got) != 10 {
				t.Fatalf("%d distinct outputs, want 10", len(got))
			}
			for uri, n := range got {
				if n != 1 {
					t.Errorf("%s published %d times", uri, n)
				}
			}
		})
	}
}

// A stage whose connection is closed cannot consume: Run returns an error
// naming why instead of leaving a live process that consumes nothing.
func TestStageStopsWhenConnectionClosed(t *testing.T) {
	s := pipelinetest.StartServer(t)
	nc, js := pipelinetest.Connect(t, s)
	names := proto.Live()
	if err := pipeline.EnsureStreams(pipelinetest.Context(t, 10*time.Second), js, names, pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	cfg := pipeline.StageConfig{Name: "test", Stream: names.WorkStream(), Subject: names.Work("test"), DeadLetter: names.DLQ("test"),
		Output: pipeline.To(names.Work("tested"), proto.EncodingProto)}
	st, err := pipeline.NewStage(js, cfg, pipeline.HandlerFunc(upper), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(context.Background()) }()
	select {
	case <-st.Ready():
	case err := <-done:
		t.Fatalf("stage did not start: %v", err)
	}
	nc.Close()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "stopped consuming") {
			t.Fatalf("Run returned %v, want a 'stopped consuming' error", err)
		}
		t.Logf("Run: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("Run still running 60 s after its connection closed")
	}
}

func TestStageConfigValidate(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		mutate func(*pipeline.StageConfig)
		field  string
	}{
		{"no name", func(c *pipeline.StageConfig) { c.Name = "" }, "Name"},
		{"no stream", func(c *pipeline.StageConfig) { c.Stream = "" }, "Stream"},
		{"no subject", func(c *pipeline.StageConfig) { c.Subject = "" }, "Subject"},
		{"no dlq", func(c *pipeline.StageConfig) { c.DeadLetter = "" }, "DeadLetter"},
		{"negative workers", func(c *pipeline.StageConfig) { c.Workers = -1 }, "Workers"},
		{"tiny ack wait", func(c *pipeline.StageConfig) { c.AckWait = time.Millisecond }, "AckWait"},
		{"tiny pull expiry", func(c *pipeline.StageConfig) { c.PullExpiry = time.Millisecond }, "PullExpiry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := f.stageCfg()
			tt.mutate(&cfg)
			_, err := pipeline.NewStage(f.js, cfg, pipeline.HandlerFunc(upper), nil)
			if !errors.Is(err, pipeline.ErrConfig) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want ErrConfig naming %s", err, tt.field)
			}
		})
	}
}

// An output the server refuses for what it is (a uri over the 64 KiB header
// limit) is not retried for ever: the input is dead-lettered at once, with
// the reason, and the dead letter itself is storable (copied headers cut);
// the stories behind it go through.
func TestStageDeadLettersUnpublishableOutput(t *testing.T) {
	f := newFixture(t)
	huge := strings.Repeat("u", 70000)
	cfg := f.stageCfg()
	cfg.Workers = 2
	st, _ := f.run(cfg, pipeline.HandlerFunc(func(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
		if s.IngestSeq <= 5 {
			s.URI = huge // travels in Ws-Story-Uri
		}
		return upper(ctx, s)
	}))
	// The inputs carry a long header of their own, which the dead letter copies.
	ctx := pipelinetest.Context(t, 10*time.Second)
	for i := range 6 {
		b, _ := proto.MarshalProto(story(i))
		m := nats.NewMsg(f.names.Work("test"))
		m.Data = b
		m.Header.Set(proto.HeaderEncoding, string(proto.EncodingProto))
		m.Header.Set(proto.HeaderOrigin, strings.Repeat("o", 40000))
		if _, err := f.js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	pipelinetest.Eventually(t, 20*time.Second, func() bool { return st.Stats().DeadLettered == 5 && st.Stats().Processed == 1 },
		"stats %+v, want 5 dead-lettered, 1 processed", st.Stats)
	if got := f.outputs(); len(got) != 1 || got["urn:test:5"] != 1 {
		t.Fatalf("outputs %v, want the sixth story once", got)
	}
	if st.Stats().PublishRetries != 0 {
		t.Errorf("%d publish retries: a refusal for size must not be retried", st.Stats().PublishRetries)
	}
	stream, err := f.js.Stream(ctx, f.names.DLQStream())
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if e := m.Header.Get(proto.HeaderError); !strings.Contains(e, "header size exceeds") || m.Header.Get(proto.HeaderErrorKind) != "permanent" {
		t.Errorf("dead letter reason %q kind %q", e, m.Header.Get(proto.HeaderErrorKind))
	}
	if o := m.Header.Get(proto.HeaderOrigin); len(o) != proto.DefaultLimits.HeaderBytes {
		t.Errorf("copied header is %d bytes, want it cut to %d", len(o), proto.DefaultLimits.HeaderBytes)
	}
	if s, err := proto.UnmarshalProto(m.Data); err != nil || !strings.HasPrefix(s.URI, "urn:test:") {
		t.Errorf("dead letter body is not the input: %v", err)
	}
}

// A stage whose every worker waits to retry a publish (the output stream
// is gone: the server's trouble, not the input's) is stuck, so not ready;
// once the stream is back it goes on and is no longer stuck.
func TestStageStuckWhileEveryWorkerRetries(t *testing.T) {
	f := newFixture(t)
	cfg := f.stageCfg()
	cfg.Workers = 2
	cfg.Output = pipeline.To("stuck.out", proto.EncodingProto)
	cfg.PublishTimeout = time.Second
	st, _ := f.run(cfg, pipeline.HandlerFunc(upper))
	f.feed(0, 2)
	pipelinetest.Eventually(t, 20*time.Second, st.Stuck, "stage not stuck while both workers retry")
	if _, err := f.js.CreateStream(pipelinetest.Context(t, 5*time.Second), jetstream.StreamConfig{Name: "STUCK", Subjects: []string{"stuck.>"}}); err != nil {
		t.Fatal(err)
	}
	pipelinetest.Eventually(t, 30*time.Second, func() bool { return st.Stats().Processed == 2 && !st.Stuck() }, "stage did not recover: %+v", st.Stats)
}
