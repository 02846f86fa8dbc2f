package wiring_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// startProcess runs the named stages on their own connection, as a
// separate process of the pipeline would; the returned stop drains them.
func startProcess(t *testing.T, url string, names proto.Names, stages []string) (stop func()) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := wiring.Config{Names: names, Workers: 4, Tune: func(sc *pipeline.StageConfig) {
		sc.Backoff = []time.Duration{20 * time.Millisecond}
		sc.LeaseTTL = 2 * time.Second
	}}
	sts, errc := wiring.RunStages(ctx, js, stages, cfg, wiringtest.Log())
	for _, st := range sts {
		select {
		case <-st.Ready():
		case err := <-errc:
			cancel()
			t.Fatalf("stages %v did not start: %v", stages, err)
		case <-time.After(20 * time.Second):
			cancel()
			t.Fatalf("stages %v did not start in time", stages)
		}
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("stages %v: %v", stages, err)
		}
		nc.Close()
	}
	t.Cleanup(stop)
	return stop
}

// waitBalanced waits until every partition of each partitioned stage is
// held, by the given number of processes, each holding its even share.
func waitBalanced(t *testing.T, js jetstream.JetStream, names proto.Names, processes int) {
	t.Helper()
	p := names.PartitionCount()
	share := (p + processes - 1) / processes
	var last string
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		leases, members, err := pipeline.Leases(ctx, js, names.LeaseBucket())
		if err != nil {
			last = err.Error()
			return false
		}
		last = fmt.Sprintf("leases %v, members %v", leases, members)
		for _, stage := range wiring.Names()[1:] {
			held := map[string]int{}
			n := 0
			for _, l := range leases {
				if l.Stage == stage && l.Holder != "" {
					held[l.Holder]++
					n++
				}
			}
			if n != p || len(held) != processes || members[stage] != processes {
				return false
			}
			for _, c := range held {
				if c > share {
					return false
				}
			}
		}
		return true
	}, "partitions not balanced over %d processes: %s", processes, func() string { return last })
}

var partWords = strings.Fields(`water river harvest election minister council budget rail port grain cotton
	wheat bank rate currency inflation court judge protest strike border trade tariff gas pipeline oil
	school teacher hospital doctor vaccine flood drought storm quake bridge road airport pilot museum
	theatre festival football league coach striker goal title market shares bond export import factory`)

// partBody is story i's text in version v: its own 60 random words (no two
// stories share a run of words, so dedupe keeps each), and each later
// version adds a paragraph (a write-thru).
func partBody(i, v int) string {
	var b strings.Builder
	b.WriteString("PARIS (AP) — ")
	for p := 0; p < v; p++ {
		r := rand.New(rand.NewPCG(uint64(i), uint64(p)))
		for range 60 {
			b.WriteString(partWords[r.IntN(len(partWords))])
			b.WriteByte(' ')
		}
		b.WriteString(".\n\n")
	}
	return b.String()
}

// TestPartitionedPipeline runs the pipeline with 4 work partitions on two
// processes (ingest in one, dedupe, tag and publish in both) and feeds three
// versions of each of 150 stories, each story's versions one after the
// other in the raw stream: the worst case for order, since any reordering
// between two versions makes dedupe decide the older one stale.
//
// It checks: the work streams are one per partition and every partition
// carries stories (the uri hash spreads them); each stage's 4 partitions are
// held 2 and 2 by the two processes; every version is published exactly
// once (counted, not collected); none is stale; and each story's versions
// reach the output in version order.
func TestPartitionedPipeline(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	nc, js := pipelinetest.Connect(t, srv)
	ctx := pipelinetest.Context(t, 120*time.Second)
	names := proto.Live().WithPartitions(4)
	if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	if p, err := pipeline.Partitions(ctx, js, proto.Live()); err != nil || p != 4 {
		t.Fatalf("Partitions = %d, %v; want 4", p, err)
	}
	if _, err := pipeline.ResolvePartitions(ctx, js, proto.Live(), 2); err == nil {
		t.Error("ResolvePartitions accepted 2 partitions on a pipeline of 4")
	}
	startProcess(t, srv.ClientURL(), names, wiring.Names())
	startProcess(t, srv.ClientURL(), names, wiring.Names()[1:])
	waitBalanced(t, js, names, 2)

	const stories, versions = 150, 3
	for i := range stories {
		for v := 1; v <= versions; v++ {
			body, err := json.Marshal(map[string]string{"uri": fmt.Sprintf("urn:test:part:%d", i), "version": strconv.Itoa(v), "type": "text",
				"headline": fmt.Sprintf("Story %d, version %d", i, v), "versioncreated": fmt.Sprintf("2026-12-03T10:%02d:%02dZ", i%60, v),
				"body_text": partBody(i, v)})
			if err != nil {
				t.Fatal(err)
			}
			m := nats.NewMsg(names.Raw("parttest"))
			m.Data = body
			m.Header.Set(proto.HeaderMsgID, fmt.Sprintf("part-%d-%d", i, v))
			if _, err := js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := stories * versions
	staleVersions := func() uint64 {
		n, _ := pipeline.CountMsgs(ctx, js, names.AuditStream(), names.Audit("stale"))
		return n
	}
	pipelinetest.Eventually(t, 60*time.Second, func() bool {
		n, _ := pipeline.CountMsgs(ctx, js, names.OutStream(), names.OutAll())
		return n >= uint64(want) || staleVersions() > 0
	}, "the output did not get %d stories", want)
	if n := staleVersions(); n > 0 {
		t.Fatalf("%d versions decided stale: a story's versions reached dedupe out of order", n)
	}

	// Every work partition carried stories (each stage's output passes
	// through it; the work queue is empty once acknowledged, so read the
	// streams' last sequence).
	for k, stream := range names.WorkStreams() {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.CachedInfo().State.LastSeq; got < uint64(want)/8 {
			t.Errorf("partition %d (%s) stored %d messages: the partitions are not spread (%d stories × 3 stages)", k, stream, got, want)
		}
	}

	// Read the whole output in order: count each version, check order.
	cons, err := js.OrderedConsumer(ctx, names.OutStream(), jetstream.OrderedConsumerConfig{FilterSubjects: []string{names.OutAll()}})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	lastVersion := map[string]int{}
	outOfOrder := 0
	for range want {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("reading the output: %v", err)
		}
		uri, v := m.Headers().Get(proto.HeaderStoryURI), m.Headers().Get(proto.HeaderStoryVersion)
		count[uri+" v"+v]++
		n, _ := strconv.Atoi(v)
		if n < lastVersion[uri] {
			outOfOrder++
			if outOfOrder <= 3 {
				t.Errorf("%s: version %d published after version %d", uri, n, lastVersion[uri])
			}
		}
		lastVersion[uri] = max(lastVersion[uri], n)
	}
	if outOfOrder > 0 {
		t.Errorf("%d versions out of order", outOfOrder)
	}
	for i := range stories {
		for v := 1; v <= versions; v++ {
			if c := count[fmt.Sprintf("urn:test:part:%d v%d", i, v)]; c != 1 {
				t.Errorf("urn:test:part:%d version %d published %d times", i, v, c)
			}
		}
	}
	if n := staleVersions(); n > 0 {
		t.Errorf("%d versions decided stale: a story's versions reached dedupe out of order", n)
	}
	if dl, _ := pipeline.CountMsgs(ctx, js, names.DLQStream(), ""); dl > 0 {
		t.Errorf("%d dead letters", dl)
	}
	_ = nc
}
