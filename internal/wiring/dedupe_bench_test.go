package wiring_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

// BenchmarkDedupeJetStream: one dedupe decision on JetStream state (KV
// bucket and signature log on an embedded server, file storage), distinct
// stories, one at a time: the stage's latency per story.
//
//	go test ./internal/wiring -run XXX -bench DedupeJetStream -benchtime 2000x
func BenchmarkDedupeJetStream(b *testing.B) {
	srv := pipelinetest.StartServer(b)
	h := dedupeInstanceB(b, srv)
	items := corpus.Generate(corpus.Config{Stories: b.N, Size: 6000, Seed: 21})
	for i := range items {
		items[i].Story.URI = fmt.Sprintf("urn:bench:%d", i)
		items[i].Story.IngestSeq = uint64(i + 1)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Handle(context.Background(), items[i].Story); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDedupeJetStreamParallel: the same with 4 concurrent callers, as
// the stage's workers are.
func BenchmarkDedupeJetStreamParallel(b *testing.B) {
	srv := pipelinetest.StartServer(b)
	h := dedupeInstanceB(b, srv)
	items := corpus.Generate(corpus.Config{Stories: b.N, Size: 6000, Seed: 22})
	for i := range items {
		items[i].Story.URI = fmt.Sprintf("urn:bench:%d", i)
		items[i].Story.IngestSeq = uint64(i + 1)
	}
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if _, err := h.Handle(context.Background(), items[i].Story); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
