package dedupe_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/dedupe"
)

// synth makes random wire-sized stories (a 10-word headline and a 300-word
// body, about 2 KB) from a 20,000-word vocabulary.
type synth struct {
	rng   *rand.Rand
	vocab []string
	sb    strings.Builder
}

func newSynth(seed uint64) *synth {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &synth{rng: r}
	const letters = "etaoinshrdlcumwfgypbvkjxqz"
	for i := 0; i < 20000; i++ {
		n := 3 + r.IntN(8)
		b := make([]byte, n)
		for j := range b {
			b[j] = letters[min(r.IntN(26), r.IntN(26))]
		}
		s.vocab = append(s.vocab, string(b))
	}
	return s
}

func (s *synth) words(n int) string {
	s.sb.Reset()
	for i := 0; i < n; i++ {
		if i > 0 {
			if i%25 == 0 {
				s.sb.WriteString(".\n\n")
			} else {
				s.sb.WriteByte(' ')
			}
		}
		s.sb.WriteString(s.vocab[s.rng.IntN(len(s.vocab))])
	}
	return s.sb.String()
}

func (s *synth) story(i int, base time.Time) *proto.Story {
	t := proto.FromTime(base.Add(time.Duration(i) * 500 * time.Millisecond))
	return &proto.Story{URI: fmt.Sprintf("urn:bench:%08d", i), Version: "1", Headline: s.words(10), BodyText: s.words(300),
		PubStatus: proto.PubStatusUsable, VersionCreated: t, Received: t, IngestSeq: uint64(i + 1)}
}

// benchRemembered is how many stories the benchmarks remember (1 million
// unless -dedupe.remember says otherwise, for quick profiling).
var benchRemembered = 1_000_000

func init() {
	flag.IntVar(&benchRemembered, "dedupe.remember", benchRemembered, "stories remembered by the benchmarks")
}

var (
	benchOnce  sync.Once
	benchD     *dedupe.Deduper
	benchSynth *synth
	benchBase  = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	benchMem   struct{ index, total float64 }
	benchRun   int // BenchmarkDecide runs so far: each decides stories never seen
)

var warmSink byte

// warm reads the story's text, as decoding it would have.
func warm(s *proto.Story) {
	var x byte
	for i := 0; i < len(s.BodyText); i += 64 {
		x ^= s.BodyText[i]
	}
	for i := 0; i < len(s.Headline); i += 64 {
		x ^= s.Headline[i]
	}
	warmSink ^= x
}

// cpuNow is the CPU time of the process (all threads, GC included): on a
// shared, loaded machine cpu-ns/op is steadier than wall-clock ns/op.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// setupBench remembers benchRemembered stories (500 ms apart: 5.8 days,
// inside the 7-day window) and measures the memory they take: the index
// alone (a Deduper fed only signature records, which is what an instance
// over the JetStream store keeps in process besides its bounded cache) and
// a Deduper over the in-memory Store (index + cache + store).
func setupBench(b *testing.B) {
	benchOnce.Do(func() {
		start := time.Now()
		benchSynth = newSynth(42)
		stories := func(f func(*proto.Story)) {
			s := newSynth(42)
			for i := 0; i < benchRemembered; i++ {
				f(s.story(i, benchBase))
			}
		}
		h0 := heap()
		idx, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
		if err != nil {
			b.Fatal(err)
		}
		stories(func(s *proto.Story) {
			r, _ := idx.Record(s)
			if _, err := idx.Apply(r); err != nil {
				b.Fatal(err)
			}
		})
		h1 := heap()
		benchMem.index = float64(h1-h0) / float64(benchRemembered)
		if idx.Indexed() != benchRemembered {
			b.Fatalf("indexed %d", idx.Indexed())
		}
		runtime.KeepAlive(idx)
		idx = nil
		h0 = heap()
		benchD, err = dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
		if err != nil {
			b.Fatal(err)
		}
		stories(func(s *proto.Story) {
			if _, err := benchD.Decide(ctx, s); err != nil {
				b.Fatal(err)
			}
		})
		benchMem.total = float64(heap()-h0) / float64(benchRemembered)
		benchSynth = newSynth(7)
		b.Logf("setup: %d stories remembered in %v; index %.0f B/story, with memory store %.0f B/story",
			benchRemembered, time.Since(start).Round(time.Second), benchMem.index, benchMem.total)
	})
}

// BenchmarkDecide measures one decision for a story never seen before (the
// costliest path: uri record create, claim create, signature and index
// insert) with a million stories remembered. Run with
//
//	go test ./stages/dedupe -run '^$' -bench Decide -benchtime 20000x -count 5
func BenchmarkDecide(b *testing.B) {
	setupBench(b)
	const pool = 50_000
	benchRun++
	stories := make([]*proto.Story, pool)
	for i := range stories {
		stories[i] = benchSynth.story(benchRemembered+i, benchBase)
		stories[i].URI = fmt.Sprintf("urn:bench-new:%d:%d", benchRun, i)
	}
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	c0 := cpuNow()
	var inDecide time.Duration
	for i := 0; i < b.N; i++ {
		s := stories[i%pool]
		if i >= pool {
			s = s.Clone()
			s.URI = fmt.Sprintf("urn:bench-again:%d:%d", benchRun, i)
		}
		// In the stage a story reaches Decide right after it was decoded,
		// with its text in cache; the pool is far larger than the cache.
		warm(s)
		t0 := time.Now()
		if _, err := benchD.Decide(ctx, s); err != nil {
			b.Fatal(err)
		}
		inDecide += time.Since(t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(inDecide)/float64(b.N), "decide-ns/op")
	b.ReportMetric(benchMem.index, "index-B/story")
	b.ReportMetric(benchMem.total, "total-B/story")
}

// BenchmarkDecideDuplicate measures a retransmission of a remembered story
// (uri record in the Store, usually not in the bounded cache).
func BenchmarkDecideDuplicate(b *testing.B) {
	setupBench(b)
	s := newSynth(42)
	const pool = 20_000
	stories := make([]*proto.Story, pool)
	for i := range stories {
		stories[i] = s.story(i, benchBase)
		stories[i].IngestSeq += 1 << 40 // a retransmission is a new message
	}
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	c0 := cpuNow()
	defer func() { b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op") }()
	for i := 0; i < b.N; i++ {
		got, err := benchD.Decide(ctx, stories[i%pool])
		if err != nil {
			b.Fatal(err)
		}
		if got.Status != proto.DedupeDuplicate {
			b.Fatalf("got %s", got.Status)
		}
	}
}

// BenchmarkDecideFresh is BenchmarkDecide without the million remembered
// stories (quick to run and to profile).
func BenchmarkDecideFresh(b *testing.B) {
	s := newSynth(9)
	const pool = 20_000
	stories := make([]*proto.Story, pool)
	for i := range stories {
		stories[i] = s.story(i, benchBase)
	}
	d, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuNow()
	defer func() { b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op") }()
	for i := 0; i < b.N; i++ {
		s := stories[i%pool]
		if i >= pool {
			s = s.Clone()
			s.URI = fmt.Sprintf("urn:again:%d", i)
		}
		if _, err := d.Decide(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFingerprint measures normalisation and fingerprint of a
// 2.2 KB story.
func BenchmarkFingerprint(b *testing.B) {
	s := newSynth(9).story(1, benchBase)
	b.SetBytes(int64(len(s.BodyText)))
	c0 := cpuNow()
	for i := 0; i < b.N; i++ {
		dedupe.FingerprintOf(s.Headline, s.BodyText)
	}
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkRecord adds the MinHash signature to BenchmarkFingerprint.
func BenchmarkRecord(b *testing.B) {
	s := newSynth(9).story(1, benchBase)
	d, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(s.BodyText)))
	c0 := cpuNow()
	for i := 0; i < b.N; i++ {
		d.Record(s)
	}
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkDecideCorpus decides distinct ~6 KB corpus stories (the size of
// 'wirestream bench' and of the performance issue), each new, on a fresh
// Deduper with an in-memory store.
func BenchmarkDecideCorpus(b *testing.B) {
	items := corpus.Generate(corpus.Config{Stories: 5000, Size: 6000, Seed: 3})
	stories := make([]*proto.Story, len(items))
	for i, it := range items {
		stories[i] = it.Story
		stories[i].IngestSeq = uint64(i + 1)
	}
	d, err := dedupe.New(dedupe.Config{}, dedupe.NewMemoryStore(0, nil))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(stories[0].BodyText)))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuNow()
	defer func() { b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op") }()
	for i := 0; i < b.N; i++ {
		s := stories[i%len(stories)]
		if i >= len(stories) {
			s = s.Clone()
			s.URI = fmt.Sprintf("urn:again:%d", i)
			s.IngestSeq = uint64(i + 1)
		}
		if _, err := d.Decide(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFingerprintQuoted is BenchmarkFingerprint on ~6 KB in the
// typography of real wire copy (curly quotes, apostrophes, dashes).
func BenchmarkFingerprintQuoted(b *testing.B) {
	para := "“We agreed to meet again in June,” the minister’s spokesman said — after talks on the Syr Darya’s spring flow ran late.\n\n"
	body := strings.Repeat(para, 50)
	b.SetBytes(int64(len(body)))
	c0 := cpuNow()
	for i := 0; i < b.N; i++ {
		dedupe.FingerprintOf("Ministers meet over river flows", body)
	}
	b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
}
