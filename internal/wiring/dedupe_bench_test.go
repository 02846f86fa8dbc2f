package wiring_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/dedupe"
)

// newStories returns n distinct ~6 KB corpus stories (uris urn:bench:N,
// N their place in the corpus) that are all new to a Deduper that sees them in order. A corpus
// built from templates holds the odd near duplicate (about one in 20,000:
// with seed 22 the 10,472nd story); an in-memory Deduper with the stage's
// settings finds those, and they are left out.
func newStories(b *testing.B, n int, seed uint64) []*proto.Story {
	b.Helper()
	d, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		b.Fatal(err)
	}
	items := corpus.Generate(corpus.Config{Stories: n + n/1000 + 10, Size: 6000, Seed: seed})
	out := make([]*proto.Story, 0, n)
	for i, it := range items {
		if len(out) == n {
			break
		}
		// Numbered by place in the corpus: a story left out keeps its uri
		// (the Deduper has recorded it), and the next one needs another.
		s := it.Story
		s.URI = fmt.Sprintf("urn:bench:%d", i)
		s.IngestSeq = uint64(i + 1)
		got, err := d.Decide(context.Background(), s)
		if err != nil {
			b.Fatal(err)
		}
		if got.Status == proto.DedupeNew {
			out = append(out, s)
		}
	}
	if len(out) < n {
		b.Fatalf("%d new stories in the corpus, want %d", len(out), n)
	}
	return out
}

// BenchmarkDedupeJetStream: one dedupe decision on JetStream state (KV
// bucket and signature log on an embedded server, file storage), distinct
// stories, each new, one at a time: the stage's latency per story. It
// fails unless all b.N decisions are new.
//
//	go test ./internal/wiring -run XXX -bench DedupeJetStream -benchtime 2000x
func BenchmarkDedupeJetStream(b *testing.B) {
	srv := pipelinetest.StartServer(b)
	h := dedupeInstanceB(b, srv)
	stories := newStories(b, b.N, 21)
	var fresh int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := h.Handle(context.Background(), stories[i])
		if err != nil {
			b.Fatal(err)
		}
		if out[0].Dedupe.Status == proto.DedupeNew {
			fresh++
		}
	}
	b.StopTimer()
	if fresh != b.N {
		b.Fatalf("%d of %d decisions were new, want all", fresh, b.N)
	}
}

// BenchmarkDedupeJetStreamParallel: the same with 4 concurrent callers, as
// the stage's workers are.
// cpu-ns/op is the process's CPU per decision, the embedded server's
// included: the state's cost on the broker and the client shows as the
// difference between the two designs (log: one story record per story;
// kv: uri record and claim in KV plus a signature record).
func BenchmarkDedupeJetStreamParallel(b *testing.B) {
	for _, state := range []string{wiring.DedupeStateLog, wiring.DedupeStateKV} {
		b.Run(state, func(b *testing.B) { benchDedupeParallel(b, state) })
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchDedupeParallel(b *testing.B, state string) {
	srv := pipelinetest.StartServer(b)
	h := dedupeInstanceState(b, srv, state)
	stories := newStories(b, b.N, 22)
	var next, fresh atomic.Int64
	b.ResetTimer()
	c0 := processCPU()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			defer func() { fresh.Add(int64(n)) }()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				out, err := h.Handle(context.Background(), stories[i])
				if err != nil {
					b.Error(err)
					return
				}
				if out[0].Dedupe.Status == proto.DedupeNew {
					n++
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-c0)/float64(b.N), "cpu-ns/op")
	if !b.Failed() && fresh.Load() != int64(b.N) {
		b.Fatalf("%d of %d decisions were new, want all", fresh.Load(), b.N)
	}
}
