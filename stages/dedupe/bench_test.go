package dedupe_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
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
// body, about 2.2 KB) from a 20,000-word vocabulary. Story i depends on the
// seed and i alone, so a benchmark can remake any remembered story, or make
// stories never seen, a batch at a time outside its timer.
type synth struct {
	seed  uint64
	vocab []string
	pcg   rand.PCG
	rng   *rand.Rand
	sb    strings.Builder
}

func newSynth(seed uint64) *synth {
	s := &synth{seed: seed}
	s.rng = rand.New(&s.pcg)
	s.pcg.Seed(seed, 1)
	const letters = "etaoinshrdlcumwfgypbvkjxqz"
	for i := 0; i < 20000; i++ {
		n := 3 + s.rng.IntN(8)
		b := make([]byte, n)
		for j := range b {
			b[j] = letters[min(s.rng.IntN(26), s.rng.IntN(26))]
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

// story returns story i: uri urn:bench:<i>, version 1, ingest sequence i+1,
// received 500 ms after story i-1.
func (s *synth) story(i int, base time.Time) *proto.Story {
	s.pcg.Seed(s.seed, 0x9e3779b97f4a7c15*uint64(i+1)) // a stream of its own per story
	t := proto.FromTime(base.Add(time.Duration(i) * 500 * time.Millisecond))
	return &proto.Story{URI: fmt.Sprintf("urn:bench:%08d", i), Version: "1", Headline: s.words(10), BodyText: s.words(300),
		PubStatus: proto.PubStatusUsable, VersionCreated: t, Received: t, IngestSeq: uint64(i + 1)}
}

// tag spells n in letters: a word no vocabulary word equals (they are 3-10
// letters long; a tag has an upper-case first letter), so a story edited
// with it has text of its own.
func tag(n int) string {
	b := []byte{'Q'}
	for {
		b = append(b, byte('a'+n%26))
		n /= 26
		if n == 0 {
			return string(b)
		}
	}
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
	benchStore *countingStore
	benchSynth *synth // the remembered stories and the new ones after them
	benchBase  = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	benchMem   struct{ index, total float64 }

	// Where each benchmark on the remembered Deduper goes on from, across
	// its runs (the b.N probes and -count), so that no run decides a story
	// an earlier run decided.
	nextNew, nextDup, nextNear, nextUpdate int
)

// benchBatch is how many stories a benchmark on the remembered Deduper
// makes at a time, with its timer stopped: more than the CPU caches hold,
// as in the stage, where each story is a new message.
const benchBatch = 50_000

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

// countingStore counts the Store round trips of a Deduper (the benchmarks
// call it from one goroutine). They tell the decision path: a new story
// costs two Creates, a known uri whose record is not in the Deduper's
// cache a failed Create and a Get.
type countingStore struct {
	dedupe.Store
	creates, gets, updates int
}

func (c *countingStore) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	c.creates++
	return c.Store.Create(ctx, key, value)
}

func (c *countingStore) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	c.gets++
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	c.updates++
	return c.Store.Update(ctx, key, value, rev)
}

// reportFrom reports the round trips per op since the counts were snap.
func (c *countingStore) reportFrom(b *testing.B, snap countingStore) {
	b.ReportMetric(float64(c.creates-snap.creates)/float64(b.N), "creates/op")
	b.ReportMetric(float64(c.gets-snap.gets)/float64(b.N), "gets/op")
	b.ReportMetric(float64(c.updates-snap.updates)/float64(b.N), "updates/op")
}

// statuses are the decisions Decide makes.
var statuses = [...]string{proto.DedupeNew, proto.DedupeUpdate, proto.DedupeDuplicate,
	proto.DedupeNearDuplicate, proto.DedupeStale, proto.DedupeKill}

// decisions counts a benchmark's decisions by status, so that after its
// loop it can check that it measured what its name says. Counting costs a
// few ns (the statuses differ in length, so each comparison is a length
// check).
type decisions [len(statuses) + 1]int // the last counts anything else

func (m *decisions) add(d *proto.Dedupe) {
	for i, s := range statuses {
		if d.Status == s {
			m[i]++
			return
		}
	}
	m[len(statuses)]++
}

func (m *decisions) String() string {
	var parts []string
	for i, n := range m {
		if n > 0 {
			name := "other"
			if i < len(statuses) {
				name = statuses[i]
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		}
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// expect fails b unless all its b.N decisions were want.
func (m *decisions) expect(b *testing.B, want string) {
	b.Helper()
	total, got := 0, 0
	for i, n := range m {
		total += n
		if i < len(statuses) && statuses[i] == want {
			got = n
		}
	}
	if total != b.N || got != b.N {
		b.Fatalf("%d decisions (%v), want %d, all %s", total, m, b.N, want)
	}
}

// clock is a benchmark's timer with the process CPU time beside it, both
// counting only while the timer runs.
type clock struct {
	b   *testing.B
	cpu time.Duration
	c0  time.Duration
}

// startClock resets b's timer and starts both.
func startClock(b *testing.B) *clock {
	b.ResetTimer()
	return &clock{b: b, c0: cpuNow()}
}

func (c *clock) stop() {
	c.b.StopTimer()
	c.cpu += cpuNow() - c.c0
}

func (c *clock) start() {
	c.c0 = cpuNow()
	c.b.StartTimer()
}

// done stops the clock and reports cpu-ns/op.
func (c *clock) done() {
	c.stop()
	c.b.ReportMetric(float64(c.cpu)/float64(c.b.N), "cpu-ns/op")
}

// feed hands a benchmark loop b.N stories, made by gen benchBatch at a
// time (fewer when b.N is smaller) while the clock is stopped: one
// StopTimer per batch, not per story (StopTimer reads the memory
// statistics, which stops the world).
type feed struct {
	c     *clock // set once the first batch is made
	left  int
	batch []*proto.Story
	i     int
	gen   func(dst []*proto.Story)
}

// newFeed makes the first batch.
func newFeed(b *testing.B, gen func(dst []*proto.Story)) *feed {
	f := &feed{left: b.N, gen: gen, batch: make([]*proto.Story, 0, min(b.N, benchBatch))}
	f.fill()
	return f
}

func (f *feed) fill() {
	n := min(f.left, benchBatch)
	f.batch = f.batch[:n]
	f.gen(f.batch)
	f.left -= n
	f.i = 0
}

func (f *feed) next() *proto.Story {
	if f.i == len(f.batch) {
		f.c.stop()
		f.fill()
		f.c.start()
	}
	s := f.batch[f.i]
	f.i++
	return s
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
			for i := 0; i < benchRemembered; i++ {
				f(benchSynth.story(i, benchBase))
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
		benchStore = &countingStore{Store: dedupe.NewMemoryStore(0, nil)}
		benchD, err = dedupe.New(dedupe.Config{}, benchStore)
		if err != nil {
			b.Fatal(err)
		}
		var mix decisions
		stories(func(s *proto.Story) {
			d, err := benchD.Decide(ctx, s)
			if err != nil {
				b.Fatal(err)
			}
			mix.add(d)
		})
		benchMem.total = float64(heap()-h0) / float64(benchRemembered)
		b.Logf("setup: %d stories remembered in %v (%v); index %.0f B/story, with memory store %.0f B/story",
			benchRemembered, time.Since(start).Round(time.Second), &mix, benchMem.index, benchMem.total)
	})
}

// newStory is the n-th story never seen: the synthetic story after the
// remembered ones, received within the 7-day window (its time wraps every
// 100,000 stories, 14 hours).
func newStory(n int) *proto.Story {
	s := benchSynth.story(benchRemembered+n, benchBase)
	s.Received = proto.FromTime(benchBase.Add(time.Duration(benchRemembered+n%100_000) * 500 * time.Millisecond))
	s.VersionCreated = s.Received
	return s
}

// decideRemembered decides b.N stories made by gen (a batch at a time,
// outside the timer) on the Deduper that remembers benchRemembered
// stories, and fails unless every decision was want. It reports the CPU
// time, the Store round trips, the time inside Decide alone (decide-ns/op:
// the loop also reads each story's text first, as decoding it would have)
// and, for near duplicates, the mean similarity of the decisions.
func decideRemembered(b *testing.B, want string, gen func(dst []*proto.Story)) {
	setupBench(b)
	f := newFeed(b, gen)
	var mix decisions
	var inDecide time.Duration
	var sim float64
	snap := *benchStore
	b.ReportAllocs()
	runtime.GC()
	f.c = startClock(b)
	for i := 0; i < b.N; i++ {
		s := f.next()
		// In the stage a story reaches Decide right after it was decoded,
		// with its text in cache; a batch is far larger than the cache.
		warm(s)
		t0 := time.Now()
		got, err := benchD.Decide(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		inDecide += time.Since(t0)
		mix.add(got)
		sim += got.Similarity
	}
	f.c.done()
	mix.expect(b, want)
	if want == proto.DedupeNew && benchStore.gets != snap.gets {
		b.Fatalf("%d Store Gets in %d decisions of new stories, want none: some were seen before (a redelivery is decided new again)",
			benchStore.gets-snap.gets, b.N)
	}
	b.ReportMetric(float64(inDecide)/float64(b.N), "decide-ns/op")
	if want == proto.DedupeNearDuplicate {
		b.ReportMetric(sim/float64(b.N), "similarity")
	}
	benchStore.reportFrom(b, snap)
}

// BenchmarkDecide measures one decision for a story never seen before (the
// costliest path: uri record create, claim create, signature and index
// insert) with a million stories remembered; every run decides stories no
// earlier run did, and the benchmark fails unless all b.N are new. Run
// with
//
//	go test ./stages/dedupe -run '^$' -bench Decide -benchtime 20000x -count 5
func BenchmarkDecide(b *testing.B) {
	decideRemembered(b, proto.DedupeNew, func(dst []*proto.Story) {
		for j := range dst {
			dst[j] = newStory(nextNew)
			nextNew++
		}
	})
	b.ReportMetric(benchMem.index, "index-B/story")
	b.ReportMetric(benchMem.total, "total-B/story")
}

// BenchmarkDecideDuplicate measures a retransmission of a remembered story
// (same uri, version and text; a new ingest sequence). The retransmitted
// stories are the first half of the remembered ones in turn, so none is
// decided again before half a million others (with the default
// -dedupe.remember): its uri record is in the Store, not in the bounded
// cache (65,536 records), which gets/op shows (1: the failed Create, then
// the Get).
func BenchmarkDecideDuplicate(b *testing.B) {
	decideRemembered(b, proto.DedupeDuplicate, func(dst []*proto.Story) {
		span := max(1, benchRemembered/2)
		for j := range dst {
			s := benchSynth.story(nextDup%span, benchBase)
			s.IngestSeq = 1<<40 + uint64(nextDup) // a retransmission is a new message
			dst[j] = s
			nextDup++
		}
	})
}

// BenchmarkDecideNearDuplicate measures a first-seen uri whose text is a
// remembered story's, edited:
//
//   - edited: one word added to the headline, so the text is new but its
//     signature finds the original in the index (estimated similarity
//     0.997 on average, reported as similarity): claim create, signature,
//     index lookup, claim get.
//   - reformatted: the same words with other spacing and a copyright line,
//     which normalise to the original's fingerprint: the claim create
//     fails and the original's claim is read (similarity 1, no signature).
//
// Near copies are not indexed, so the index does not grow; each run takes
// originals no earlier run took.
func BenchmarkDecideNearDuplicate(b *testing.B) {
	for _, c := range []struct {
		name string
		edit func(s *proto.Story, n int)
	}{
		{"edited", func(s *proto.Story, n int) { s.Headline = tag(n) + " " + s.Headline }},
		{"reformatted", func(s *proto.Story, n int) {
			s.BodyText = strings.ReplaceAll(s.BodyText, ".\n\n", ".  \n\n") + "\n\nCopyright 2026 Bench Wire. All rights reserved."
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			decideRemembered(b, proto.DedupeNearDuplicate, func(dst []*proto.Story) {
				for j := range dst {
					s := benchSynth.story(nextNear%benchRemembered, benchBase)
					s.URI = "urn:bench-near:" + strconv.Itoa(nextNear)
					s.IngestSeq = 2<<40 + uint64(nextNear)
					s.Received += proto.Time(time.Minute)
					s.VersionCreated = s.Received
					c.edit(s, nextNear)
					dst[j] = s
					nextNear++
				}
			})
		})
	}
}

// BenchmarkDecideUpdate measures a newer version, with a paragraph added,
// of a remembered story (uri record get and compare-and-set, claim create,
// signature, index insert). The updated stories are the second half of the
// remembered ones in turn (the first half is BenchmarkDecideDuplicate's),
// less the last 65,536, whose records the setup left in the cache; a story
// updated again gets the next version and another paragraph.
func BenchmarkDecideUpdate(b *testing.B) {
	decideRemembered(b, proto.DedupeUpdate, func(dst []*proto.Story) {
		first := benchRemembered / 2
		span := benchRemembered - first - dedupe.DefaultCacheSize
		if span < 1 { // a few remembered (-dedupe.remember), all cached
			span = max(1, benchRemembered-first)
		}
		for j := range dst {
			s := benchSynth.story(first+nextUpdate%span, benchBase)
			s.Version = strconv.Itoa(2 + nextUpdate/span)
			s.BodyText += "\n\n" + tag(nextUpdate) + " " + benchSynth.words(25) + "."
			s.IngestSeq = 3<<40 + uint64(nextUpdate)
			s.Received += proto.Time(10 * time.Minute)
			s.VersionCreated = s.Received
			dst[j] = s
			nextUpdate++
		}
	})
}

// freshBench decides the stories of pool in turn on a fresh Deduper over
// an in-memory store, and on another fresh one (made with the timer
// stopped) each time the pool is used up, so that every decision is of a
// story that Deduper has not seen. It fails unless all b.N are new and
// none needed a Store Get (a story seen before does: even a redelivery,
// which is decided new again).
func freshBench(b *testing.B, pool []*proto.Story) {
	var d *dedupe.Deduper
	var gets int
	store := &countingStore{}
	reset := func() {
		gets += store.gets
		store = &countingStore{Store: dedupe.NewMemoryStore(0, nil)}
		var err error
		if d, err = dedupe.New(dedupe.Config{}, store); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
	}
	reset()
	var mix decisions
	b.ReportAllocs()
	c := startClock(b)
	for i := 0; i < b.N; i++ {
		j := i % len(pool)
		if j == 0 && i > 0 {
			c.stop()
			reset()
			c.start()
		}
		got, err := d.Decide(ctx, pool[j])
		if err != nil {
			b.Fatal(err)
		}
		mix.add(got)
	}
	c.done()
	mix.expect(b, proto.DedupeNew)
	if gets += store.gets; gets != 0 {
		b.Fatalf("%d Store Gets in %d decisions of new stories, want none: some were seen before", gets, b.N)
	}
}

// BenchmarkDecideFresh is BenchmarkDecide without the million remembered
// stories (quick to run and to profile): 20,000 distinct stories, and a
// new Deduper for each 20,000 decisions.
func BenchmarkDecideFresh(b *testing.B) {
	s := newSynth(9)
	pool := make([]*proto.Story, min(b.N, 20_000))
	for i := range pool {
		pool[i] = s.story(i, benchBase)
	}
	freshBench(b, pool)
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
// Deduper with an in-memory store: 5,000 stories, and a new Deduper for
// each 5,000 decisions.
func BenchmarkDecideCorpus(b *testing.B) {
	items := corpus.Generate(corpus.Config{Stories: min(b.N, 5000), Size: 6000, Seed: 3})
	pool := make([]*proto.Story, len(items))
	for i, it := range items {
		pool[i] = it.Story
		pool[i].IngestSeq = uint64(i + 1)
	}
	b.SetBytes(int64(len(pool[0].BodyText)))
	freshBench(b, pool)
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
