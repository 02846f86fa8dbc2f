package pipeline_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// Every raw publish carries the headers of its RawMeta and a Nats-Msg-Id;
// outcomes come back in publish order, each once; the same input again is
// a duplicate, not a second copy.
func TestRawPublisher(t *testing.T) {
	f := newFixture(t)
	ctx := pipelinetest.Context(t, 30*time.Second)
	p, err := pipeline.NewRawPublisher(f.js, pipeline.RawPublisherConfig{Names: f.names, Window: 3})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var order []string
	publish := func(i int) {
		m := pipeline.RawMsg{Data: []byte(fmt.Sprintf(`{"uri":"urn:raw:%d"}`, i)),
			Meta: proto.RawMeta{Source: "wire", Format: "ninjs", Origin: fmt.Sprintf("f.jsonl:%d", i+1), Received: 42}}
		if err := p.Publish(ctx, m, func(a pipeline.RawAck) {
			if a.Err != nil {
				t.Errorf("%s: %v", a.Meta.Origin, a.Err)
			}
			order = append(order, fmt.Sprintf("%s dup=%v", a.Meta.Origin, a.Duplicate))
		}); err != nil {
			t.Fatal(err)
		}
		if p.Pending() > 3 {
			t.Fatalf("%d publishes pending, window is 3", p.Pending())
		}
	}
	for i := range n {
		publish(i)
	}
	publish(4) // the same bytes from the same place again
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(order) != n+1 {
		t.Fatalf("%d outcomes for %d publishes", len(order), n+1)
	}
	for i := range n {
		if want := fmt.Sprintf("f.jsonl:%d dup=false", i+1); order[i] != want {
			t.Fatalf("outcome %d = %q, want %q (publish order)", i, order[i], want)
		}
	}
	if order[n] != "f.jsonl:5 dup=true" {
		t.Errorf("republished input: %q, want a duplicate", order[n])
	}
	if got := pipelinetest.StreamMsgs(t, f.js, f.names.RawStream(), ""); got != n {
		t.Fatalf("raw history holds %d messages, want %d", got, n)
	}
	stream, err := f.js.Stream(ctx, f.names.RawStream())
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= n; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		meta := proto.ParseRawMeta(m.Header, m.Subject, seq, m.Time)
		if m.Subject != f.names.Raw("wire") || meta.Source != "wire" || meta.Format != "ninjs" || meta.Received != 42 ||
			meta.Origin != fmt.Sprintf("f.jsonl:%d", seq) || !strings.HasPrefix(m.Header.Get(proto.HeaderMsgID), "raw:") {
			t.Fatalf("message %d: subject %s, headers %v", seq, m.Subject, m.Header)
		}
	}
}

// A message the server refuses is reported in its place in the order; the
// publishes around it are stored.
func TestRawPublisherReportsRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := pipelinetest.Context(t, 30*time.Second)
	p, err := pipeline.NewRawPublisher(f.js, pipeline.RawPublisherConfig{Names: f.names})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, data := range [][]byte{[]byte("a"), make([]byte, int(f.nc.MaxPayload())+1), []byte("c")} {
		m := pipeline.RawMsg{Data: data, Meta: proto.RawMeta{Source: "wire", Origin: fmt.Sprint(i)}}
		if err := p.Publish(ctx, m, func(a pipeline.RawAck) { got = append(got, fmt.Sprintf("%s:%v", a.Meta.Origin, a.Err != nil)) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "0:false 1:true 2:false" {
		t.Fatalf("outcomes %v, want the oversize one refused in its place", got)
	}
}

// Without a stream for the subject, the publisher gives up after AckTimeout
// or reports the server's refusal; it never hangs.
func TestRawPublisherNoStream(t *testing.T) {
	s := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, s)
	ctx := pipelinetest.Context(t, 30*time.Second)
	p, err := pipeline.NewRawPublisher(js, pipeline.RawPublisherConfig{Names: proto.Live(), AckTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var outcome error
	if err := p.Publish(ctx, pipeline.RawMsg{Data: []byte("x"), Meta: proto.RawMeta{Source: "wire"}}, func(a pipeline.RawAck) { outcome = a.Err }); err != nil {
		t.Fatal(err)
	}
	err = p.Flush(ctx)
	if err == nil && outcome == nil {
		t.Fatal("publish without a stream succeeded")
	}
	if err != nil && !errors.Is(err, pipeline.ErrNoAck) {
		t.Fatalf("Flush: %v", err)
	}
}

func TestRawPublisherConfig(t *testing.T) {
	s := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, s)
	for _, c := range []pipeline.RawPublisherConfig{{}, {Names: proto.Live(), Window: -1}} {
		if _, err := pipeline.NewRawPublisher(js, c); !errors.Is(err, pipeline.ErrConfig) {
			t.Errorf("%+v: err = %v, want ErrConfig", c, err)
		}
	}
}

// The bytes waiting for their acks are bounded too: with large stories the
// window fills by bytes long before it fills by count.
func TestRawPublisherWindowBytes(t *testing.T) {
	f := newFixture(t)
	ctx := pipelinetest.Context(t, 30*time.Second)
	p, err := pipeline.NewRawPublisher(f.js, pipeline.RawPublisherConfig{Names: f.names, Window: 1000, WindowBytes: 3000})
	if err != nil {
		t.Fatal(err)
	}
	story := make([]byte, 1000)
	stored := 0
	for i := range 50 {
		if err := p.Publish(ctx, pipeline.RawMsg{Data: story, Meta: proto.RawMeta{Source: "wire", Origin: fmt.Sprint(i)}}, func(a pipeline.RawAck) {
			if a.Err == nil {
				stored++
			}
		}); err != nil {
			t.Fatal(err)
		}
		if p.Pending() > 3 {
			t.Fatalf("%d stories of 1000 bytes pending, WindowBytes is 3000", p.Pending())
		}
	}
	if err := p.Flush(ctx); err != nil || stored != 50 {
		t.Fatalf("stored %d of 50: %v", stored, err)
	}
}
