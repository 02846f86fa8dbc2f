package httpread

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// BenchmarkIndexBuild measures what GET /v1/stories/{uri} costs at start:
// reading the headers of b.N stories of ws.out.all into the uri index
// (ns/op is per story), and the index's memory per uri (bytes/uri).
func BenchmarkIndexBuild(b *testing.B) {
	srv := pipelinetest.StartServer(b)
	_, js := pipelinetest.Connect(b, srv)
	ctx := context.Background()
	n := proto.Live()
	if err := pipeline.EnsureStreams(ctx, js, n, pipeline.StreamsConfig{}); err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 4096) // a story's body is not read by the index
	for i := range b.N {
		m := nats.NewMsg(n.OutAll())
		m.Data = body
		m.Header.Set(proto.HeaderStoryURI, fmt.Sprintf("urn:publisher:story:%012d", i))
		m.Header.Set(proto.HeaderEncoding, "json")
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	x := newIndex()
	rctx, cancel := context.WithCancel(ctx)
	go func() { _ = x.run(rctx, js, n, nil) }()
	for {
		x.mu.RLock()
		l := len(x.seq)
		x.mu.RUnlock()
		if l == b.N {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cancel()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "bytes/uri")
	runtime.KeepAlive(x)
}

// BenchmarkPage measures one GET /v1/stories page of 50 from a stream of
// 10,000 stories, each with 10 node notifications between them (the stored
// node subjects), with a filter that matches every other story.
func BenchmarkPage(b *testing.B) {
	srv := pipelinetest.StartServer(b)
	_, js := pipelinetest.Connect(b, srv)
	ctx := context.Background()
	n := proto.Live()
	if err := pipeline.EnsureStreams(ctx, js, n, pipeline.StreamsConfig{}); err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		region := "UZ"
		if i%2 == 1 {
			region = "KE"
		}
		data, _ := proto.MarshalJSON(&proto.Story{URI: fmt.Sprintf("urn:p:%d", i), Version: "1", BodyText: string(make([]byte, 3000))})
		m := nats.NewMsg(n.OutAll())
		m.Data = data
		m.Header.Set(proto.HeaderEncoding, "json")
		m.Header.Set(proto.HeaderNodes, n.Region(region))
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
		for j := range 10 {
			if _, err := js.PublishAsync(n.Topic(fmt.Sprintf("%08d", j)), nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	<-js.PublishAsyncComplete()
	h, err := New(js, Config{Names: n, Data: new(wiring.Data)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	q := query{limit: 50, filter: pipeline.Filter{Regions: []string{"UZ"}}}
	b.ResetTimer()
	for range b.N {
		p, err := h.page(ctx, q)
		if err != nil || len(p.Stories) != 50 {
			b.Fatalf("%d stories, %v", len(p.Stories), err)
		}
	}
}
