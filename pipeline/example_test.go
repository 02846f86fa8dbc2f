package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// headlineStage is a stage: plain Go that never talks to NATS. It
// upper-cases headlines, drops stories marked as tests, and rejects stories
// without a body.
type headlineStage struct{}

var _ pipeline.Handler = headlineStage{}

// Handle returns the stories to publish downstream. No stories and a nil
// error: the input is consumed (acknowledged) and nothing is published. An
// error: the input is retried; a permanent one sends it to the dead-letter
// subject with the reason in headers.
func (headlineStage) Handle(_ context.Context, s *proto.Story) ([]*proto.Story, error) {
	switch {
	case strings.HasPrefix(s.Headline, "TEST"):
		return nil, nil
	case s.BodyText == "":
		return nil, proto.Permanent(errors.New("no body"))
	}
	s.Headline = strings.ToUpper(s.Headline)
	return []*proto.Story{s}, nil
}

func (headlineStage) Close(context.Context) error { return nil }

// A stage runs under the runtime, which owns acknowledgements: it publishes
// the outputs and waits for JetStream's acks before it acks the input.
func ExampleHandler() {
	_, js, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names := proto.Live()
	cfg := pipeline.StageConfig{
		Name:       "headline",
		Stream:     names.WorkStream(),
		Subject:    names.Work("ingest"),
		DeadLetter: names.DLQ("headline"),
		Output:     pipeline.To("example.headlines", proto.EncodingProto),
		Workers:    1, // one input at a time, so the output below is in input order
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EXAMPLE", Subjects: []string{"example.>"}}); err != nil {
		fmt.Println(err)
		return
	}
	st, err := pipeline.NewStage(js, cfg, headlineStage{}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	runCtx, stopStage := context.WithCancel(ctx)
	defer stopStage()
	done := make(chan error, 1)
	go func() { done <- st.Run(runCtx) }()

	for i, s := range []*proto.Story{
		{URI: "urn:ex:1", Headline: "Rain in Lima", BodyText: "LIMA, Peru (AP) — Rain."},
		{URI: "urn:ex:2", Headline: "TEST please ignore", BodyText: "x"},
		{URI: "urn:ex:3", Headline: "Empty"},
	} {
		s.IngestSeq = uint64(i + 1)
		b, _ := proto.MarshalProto(s)
		m := nats.NewMsg(names.Work("ingest"))
		m.Data = b
		m.Header.Set(proto.HeaderEncoding, string(proto.EncodingProto))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			fmt.Println(err)
			return
		}
	}
	for st.Stats().Processed+st.Stats().DeadLettered < 3 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	stopStage()
	<-done

	out := readAll(ctx, js, "EXAMPLE", "")
	dlq := readAll(ctx, js, names.DLQStream(), "")
	for _, m := range out {
		s, _ := proto.UnmarshalProto(m.Data())
		fmt.Println("published:", s.URI, s.Headline)
	}
	for _, m := range dlq {
		fmt.Println("dead letter from", m.Headers().Get(proto.HeaderOrigSubject)+":", m.Headers().Get(proto.HeaderError))
	}
	s := st.Stats()
	fmt.Println("processed", s.Processed, "dropped", s.Dropped, "dead-lettered", s.DeadLettered)
	// Output:
	// published: urn:ex:1 RAIN IN LIMA
	// dead letter from ws.work.ingest: no body
	// processed 2 dropped 1 dead-lettered 1
}

// Subscribe reads enriched stories from the output stream: a region or
// topic node resolves to the full story (a direct get of the claim-check
// notification), each story once, in order.
func ExampleSubscribe() {
	_, js, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names := proto.Live()

	// A publish stage fans each story out: the full story on ws.out.all,
	// one notification per region and topic node.
	nodes := func(s *proto.Story) []string {
		var out []string
		for _, p := range s.Place {
			out = append(out, names.Region(proto.PlaceToken(p)))
		}
		return out
	}
	cfg := pipeline.StageConfig{Name: "publish", Stream: names.WorkStream(), Subject: names.Work("tag"), DeadLetter: names.DLQ("publish"), Workers: 1, // in input order
		Output: pipeline.FanOut(names.OutStream(), names.OutAll(), nodes)}
	st, err := pipeline.NewStage(js, cfg, pipeline.HandlerFunc(func(_ context.Context, s *proto.Story) ([]*proto.Story, error) {
		return []*proto.Story{s}, nil
	}), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	runCtx, stopStage := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- st.Run(runCtx) }()
	defer func() { stopStage(); <-done }()
	for i, s := range []*proto.Story{
		{URI: "urn:ex:uz", Headline: "Summit in Samarkand", BodyText: "b", Place: []*proto.Place{{Scheme: proto.SchemeCountry, Code: "UZ"}, {Scheme: proto.SchemeM49, Code: "143"}}},
		{URI: "urn:ex:pe", Headline: "Rain in Lima", BodyText: "b", Place: []*proto.Place{{Scheme: proto.SchemeCountry, Code: "PE"}}},
		{URI: "urn:ex:kz", Headline: "Grain from Kazakhstan", BodyText: "b", Place: []*proto.Place{{Scheme: proto.SchemeCountry, Code: "KZ"}, {Scheme: proto.SchemeM49, Code: "143"}}},
	} {
		s.IngestSeq = uint64(i + 1)
		b, _ := proto.MarshalProto(s)
		m := nats.NewMsg(names.Work("tag"))
		m.Data = b
		m.Header.Set(proto.HeaderEncoding, string(proto.EncodingProto))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			fmt.Println(err)
			return
		}
	}

	// Central Asia (UN M49 143), from the oldest retained story.
	n := 0
	err = pipeline.Subscribe(ctx, js, pipeline.SubscribeConfig{Names: names, Subject: names.Region("143"), FromStart: true},
		func(d pipeline.Delivery) error {
			fmt.Println(d.Subject, d.Story.URI, d.Story.Headline)
			if n++; n == 2 {
				return pipeline.ErrStop
			}
			return nil
		})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// ws.out.region.143 urn:ex:uz Summit in Samarkand
	// ws.out.region.143 urn:ex:kz Grain from Kazakhstan
}

// exampleServer starts an embedded server with the live streams.
func exampleServer() (*server.Server, jetstream.JetStream, func()) {
	dir, err := os.MkdirTemp("", "wirestream-example")
	if err != nil {
		panic(err)
	}
	srv, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: dir}, nil)
	if err != nil {
		panic(err)
	}
	nc, err := pipeline.Connect(pipeline.ConnConfig{URL: srv.ClientURL()}, nil)
	if err != nil {
		panic(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pipeline.EnsureStreams(ctx, js, proto.Live(), pipeline.StreamsConfig{}); err != nil {
		panic(err)
	}
	return srv, js, func() {
		nc.Close()
		srv.Shutdown()
		srv.WaitForShutdown()
		os.RemoveAll(dir)
	}
}

// readAll returns the messages a stream holds on subject ("" for all), in order.
func readAll(ctx context.Context, js jetstream.JetStream, stream, subject string) []jetstream.Msg {
	n, err := pipeline.CountMsgs(ctx, js, stream, subject)
	if err != nil || n == 0 {
		return nil
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil
	}
	occ := jetstream.OrderedConsumerConfig{}
	if subject != "" {
		occ.FilterSubjects = []string{subject}
	}
	c, err := s.OrderedConsumer(ctx, occ)
	if err != nil {
		return nil
	}
	batch, err := c.Fetch(int(n), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return nil
	}
	var out []jetstream.Msg
	for m := range batch.Messages() {
		out = append(out, m)
	}
	return out
}
