package pipelinetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// ConformanceCase is a stage under the conformance suite: a story stage
// (New and Stories) or a raw stage (NewRaw and Raw). The inputs are valid:
// each must give exactly one output (all of wirestream's stages do on valid
// input).
type ConformanceCase struct {
	// New builds a fresh story stage on js.
	New func(t testing.TB, js jetstream.JetStream) pipeline.Handler
	// Stories are inputs of a story stage. The suite gives every copy it
	// sends its own IngestSeq, as the ingest stage would.
	Stories []*proto.Story
	// NewRaw builds a fresh raw stage (ingest) on js.
	NewRaw func(t testing.TB, js jetstream.JetStream) pipeline.RawHandler
	// Raw are inputs of a raw stage.
	Raw [][]byte
}

// RunConformance checks the runtime contract every stage must keep, on a
// real embedded server:
//
//   - ack on success: every input is acknowledged and gives one output;
//   - retry on error: an input whose first attempt fails is retried and
//     still gives exactly one output;
//   - drain: stopping mid-stream finishes in-flight inputs; every input is
//     then either acknowledged with its output stored, or still pending, and
//     a second run completes the rest with no output stored twice.
func RunConformance(t *testing.T, c ConformanceCase) {
	t.Run("AckOnSuccess", func(t *testing.T) {
		h := newConfHarness(t, c)
		st, stop := h.start(nil)
		h.feed(1)
		Eventually(t, 30*time.Second, func() bool { return st.Stats().Processed == int64(h.n(1)) }, "processed %+v of %d", st.Stats(), h.n(1))
		stop()
		h.check(st.Stats(), h.n(1))
	})
	t.Run("RetryOnError", func(t *testing.T) {
		h := newConfHarness(t, c)
		var mu sync.Mutex
		failed := map[[32]byte]bool{}
		failFirst := func(key [32]byte) error {
			mu.Lock()
			defer mu.Unlock()
			if failed[key] {
				return nil
			}
			failed[key] = true
			return errors.New("conformance: injected transient failure")
		}
		st, stop := h.start(failFirst)
		h.feed(1)
		Eventually(t, 30*time.Second, func() bool { return st.Stats().Processed == int64(h.n(1)) }, "processed %+v of %d", st.Stats(), h.n(1))
		stop()
		s := st.Stats()
		if s.Errors != int64(h.n(1)) || s.Redelivered < int64(h.n(1)) {
			t.Errorf("stats %+v: want %d errors and as many redeliveries", s, h.n(1))
		}
		h.check(s, h.n(1))
	})
	t.Run("DrainFinishesInFlight", func(t *testing.T) {
		h := newConfHarness(t, c)
		copies := 1 + 400/h.n(1)
		h.feed(copies)
		total := h.n(copies)
		st, stop := h.start(nil)
		Eventually(t, 30*time.Second, func() bool { return st.Stats().Processed > 0 }, "no progress")
		stop()
		first := st.Stats().Processed
		if got := StreamMsgs(t, h.js, "CONF_OUT", ""); got != uint64(first) {
			t.Fatalf("after drain: %d outputs stored for %d acknowledged inputs", got, first)
		}
		st2, stop2 := h.start(nil)
		Eventually(t, 60*time.Second, func() bool { return first+st2.Stats().Processed >= int64(total) }, "second run: %d + %d of %d", first, st2.Stats().Processed, total)
		stop2()
		if got := StreamMsgs(t, h.js, "CONF_OUT", ""); got != uint64(total) {
			t.Fatalf("%d outputs stored for %d inputs", got, total)
		}
		if p := h.pending(); p != 0 {
			t.Fatalf("%d inputs left unacknowledged", p)
		}
	})
}

type confHarness struct {
	t  *testing.T
	c  ConformanceCase
	js jetstream.JetStream
}

func newConfHarness(t *testing.T, c ConformanceCase) *confHarness {
	s := StartServer(t)
	_, js := Connect(t, s)
	ctx := Context(t, 10*time.Second)
	for name, subj := range map[string]string{"CONF_IN": "conf.in", "CONF_OUT": "conf.out", "CONF_DLQ": "conf.dlq"} {
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subj}, Duplicates: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	return &confHarness{t: t, c: c, js: js}
}

func (h *confHarness) n(copies int) int { return copies * (len(h.c.Stories) + len(h.c.Raw)) }

// feed publishes copies of every input.
func (h *confHarness) feed(copies int) {
	ctx := Context(h.t, 30*time.Second)
	seq := uint64(0)
	for k := 0; k < copies; k++ {
		for _, s := range h.c.Stories {
			seq++
			c := s.Clone()
			c.IngestSeq = seq
			data, err := proto.MarshalProto(c)
			if err != nil {
				h.t.Fatal(err)
			}
			m := nats.NewMsg("conf.in")
			m.Data = data
			m.Header.Set(proto.HeaderEncoding, string(proto.EncodingProto))
			if _, err := h.js.PublishMsgAsync(m); err != nil {
				h.t.Fatal(err)
			}
		}
		for i, raw := range h.c.Raw {
			m := nats.NewMsg("conf.in")
			m.Data = raw
			m.Header.Set(proto.HeaderOrigin, fmt.Sprintf("conformance:%d", i+1))
			if _, err := h.js.PublishMsgAsync(m); err != nil {
				h.t.Fatal(err)
			}
		}
	}
	select {
	case <-h.js.PublishAsyncComplete():
	case <-ctx.Done():
		h.t.Fatal("feeding inputs timed out")
	}
}

// start runs the stage; fail, when set, is asked before each handler call
// and its error returned instead.
func (h *confHarness) start(fail func(key [32]byte) error) (*pipeline.Stage, func()) {
	cfg := pipeline.StageConfig{
		Name: "conformance", Stream: "CONF_IN", Subject: "conf.in", DeadLetter: "conf.dlq",
		Output: pipeline.To("conf.out", proto.EncodingProto), Backoff: []time.Duration{10 * time.Millisecond},
	}
	var st *pipeline.Stage
	var err error
	switch {
	case h.c.NewRaw != nil && h.c.New == nil:
		x := h.c.NewRaw(h.t, h.js)
		if fail != nil {
			x = failingRaw{x, fail}
		}
		st, err = pipeline.NewRawStage(h.js, cfg, x, nil)
	case h.c.New != nil && h.c.NewRaw == nil:
		x := h.c.New(h.t, h.js)
		if fail != nil {
			x = failingHandler{x, fail}
		}
		st, err = pipeline.NewStage(h.js, cfg, x, nil)
	default:
		h.t.Fatal("ConformanceCase: set New or NewRaw, not both")
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return st, Run(h.t, st)
}

func (h *confHarness) pending() uint64 {
	ctx := Context(h.t, 5*time.Second)
	c, err := h.js.Consumer(ctx, "CONF_IN", "ws-conformance")
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return info.NumPending + uint64(info.NumAckPending)
}

func (h *confHarness) check(s pipeline.StatsSnapshot, n int) {
	h.t.Helper()
	if s.DeadLettered != 0 {
		h.t.Errorf("%d valid inputs dead-lettered", s.DeadLettered)
	}
	if got := StreamMsgs(h.t, h.js, "CONF_OUT", ""); got != uint64(n) {
		h.t.Errorf("%d outputs stored, want one per input (%d)", got, n)
	}
	if p := h.pending(); p != 0 {
		h.t.Errorf("%d inputs left unacknowledged", p)
	}
}

type failingHandler struct {
	pipeline.Handler
	fail func([32]byte) error
}

func (f failingHandler) Handle(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
	if err := f.fail(sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d", s.URI, s.Version, s.IngestSeq))); err != nil {
		return nil, err
	}
	return f.Handler.Handle(ctx, s)
}

type failingRaw struct {
	pipeline.RawHandler
	fail func([32]byte) error
}

func (f failingRaw) HandleRaw(ctx context.Context, data []byte, m proto.RawMeta) ([]*proto.Story, error) {
	if err := f.fail(sha256.Sum256(fmt.Appendf(nil, "%s\x00%d", data, m.Seq))); err != nil {
		return nil, err
	}
	return f.RawHandler.HandleRaw(ctx, data, m)
}
