package pipeline_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// publishBlocker makes JetStream refuse a stage's output until unblock is
// called. setup runs before the stage starts; handled runs once every input
// has been handled (before the stage publishes its outputs).
type publishBlocker struct {
	name    string
	subject string // the output subject, in the stream BLOCKED
	setup   func(t *testing.T, js jetstream.JetStream)
	handled func(t *testing.T, js jetstream.JetStream)
	unblock func(t *testing.T, js jetstream.JetStream)
}

var blockedStream = jetstream.StreamConfig{Name: "BLOCKED", Subjects: []string{"blocked.>"}, Duplicates: time.Minute}

func publishBlockers() []publishBlocker {
	createStream := func(sc jetstream.StreamConfig) func(t *testing.T, js jetstream.JetStream) {
		return func(t *testing.T, js jetstream.JetStream) {
			t.Helper()
			if _, err := js.CreateStream(pipelinetest.Context(t, 5*time.Second), sc); err != nil {
				t.Fatal(err)
			}
		}
	}
	full := blockedStream
	full.MaxMsgs, full.Discard = 1, jetstream.DiscardNew
	return []publishBlocker{{
		// The stream holds one message and discards new ones: every publish
		// is answered with an error ("maximum messages exceeded").
		name:    "output stream full",
		subject: "blocked.out",
		setup: func(t *testing.T, js jetstream.JetStream) {
			createStream(full)(t, js)
			if _, err := js.Publish(pipelinetest.Context(t, 5*time.Second), "blocked.filler", nil); err != nil {
				t.Fatal(err)
			}
		},
		unblock: func(t *testing.T, js jetstream.JetStream) {
			if _, err := js.UpdateStream(pipelinetest.Context(t, 5*time.Second), blockedStream); err != nil {
				t.Fatal(err)
			}
		},
	}, {
		// The output stream is deleted while the handler runs: no stream
		// captures the subject, and the publish gets "no responders".
		name:    "output stream deleted during the handler",
		subject: "blocked.out",
		setup:   createStream(blockedStream),
		handled: func(t *testing.T, js jetstream.JetStream) {
			if err := js.DeleteStream(pipelinetest.Context(t, 5*time.Second), blockedStream.Name); err != nil {
				t.Fatal(err)
			}
		},
		unblock: createStream(blockedStream),
	}}
}

// TestStageHoldsInputUntilOutputStored checks the promise the runtime
// makes: an input is acknowledged only after JetStream stored its outputs.
// While JetStream refuses the output, the input stays unacknowledged (ack
// pending on the stage's consumer, its ack floor unmoved); a stage stopped
// then hands it back, the next run receives it again (delivery count 2),
// and once the output can be stored it is stored exactly once.
//
// A runtime that acks before publishing, or that acks without waiting for
// the publish acks, acks the input while its output is refused: the ack
// floor moves and the output is lost.
func TestStageHoldsInputUntilOutputStored(t *testing.T) {
	for _, b := range publishBlockers() {
		t.Run(b.name, func(t *testing.T) { testHoldsInput(t, b) })
	}
}

func testHoldsInput(t *testing.T, b publishBlocker) {
	const n = 3
	f := newFixture(t)
	b.setup(t, f.js)
	cfg := f.stageCfgTo(b.subject)
	cfg.AckWait = time.Minute // no redelivery by the server while blocked
	cfg.DrainTimeout = 300 * time.Millisecond
	var handled atomic.Int64
	release := make(chan struct{})
	h := pipeline.HandlerFunc(func(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
		if handled.Add(1) <= n {
			select { // the first n calls wait until the test has blocked the output
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return upper(ctx, s)
	})
	st, stop := f.run(cfg, h)
	f.feed(0, n)
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return handled.Load() >= n }, "handled %d of %d", handled.Load, n)
	if b.handled != nil {
		b.handled(t, f.js)
	}
	close(release)

	// Each input is either acknowledged (wrong) or its publish is retried.
	pipelinetest.Eventually(t, 10*time.Second, func() bool {
		s := st.Stats()
		return s.PublishRetries >= n || s.Processed > 0 || f.consumer("ws-test").AckFloor.Stream > 0
	}, "the publishes were neither retried nor acknowledged: %+v", st.Stats)
	held := func(when string) {
		t.Helper()
		info := f.consumer("ws-test")
		if info.AckFloor.Stream != 0 || info.NumAckPending != n || info.NumPending != 0 {
			t.Fatalf("%s: consumer ack floor %d, %d ack pending, %d pending; want no input acknowledged, %d ack pending",
				when, info.AckFloor.Stream, info.NumAckPending, info.NumPending, n)
		}
	}
	held("output refused")
	if p := st.Stats().Processed; p != 0 {
		t.Fatalf("%d inputs counted processed while their output was refused", p)
	}
	stop() // the drain gives up after DrainTimeout and hands the inputs back
	held("after the stage stopped")
	if got := f.countURIs(blockedStream.Name, b.subject); len(got) != 0 {
		t.Fatalf("outputs stored while blocked: %v", got)
	}

	b.unblock(t, f.js)
	st2, _ := f.run(cfg, pipeline.HandlerFunc(upper))
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return f.consumerIdle("ws-test") }, "inputs not acknowledged after unblocking: %+v", st2.Stats)
	if s := st2.Stats(); s.Redelivered != n || s.Processed != n || s.Published != n {
		t.Errorf("second run: %+v, want %d inputs redelivered, processed and published", s, n)
	}
	got := f.countURIs(blockedStream.Name, b.subject)
	for i := range n {
		if c := got[story(i).URI]; c != 1 {
			t.Errorf("%s stored %d times, want once", story(i).URI, c)
		}
	}
	if len(got) != n {
		t.Errorf("%d distinct outputs stored, want %d", len(got), n)
	}
}

// consumer returns the info of a consumer on the work stream.
func (f *fixture) consumer(durable string) *jetstream.ConsumerInfo {
	f.t.Helper()
	ctx := pipelinetest.Context(f.t, 5*time.Second)
	c, err := f.js.Consumer(ctx, f.names.WorkStream(), durable)
	if err != nil {
		f.t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return info
}

// stageCfgTo is stageCfg with its outputs on subject.
func (f *fixture) stageCfgTo(subject string) pipeline.StageConfig {
	cfg := f.stageCfg()
	cfg.Output = pipeline.To(subject, proto.EncodingProto)
	return cfg
}
