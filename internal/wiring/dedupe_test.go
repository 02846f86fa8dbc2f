package wiring_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// dedupeInstance is one dedupe stage as a separate process would have it:
// its own connection, the shared KV bucket and signature log.
// stage returns the named spec of the stage table.
func stage(t testing.TB, name string) wiring.Spec {
	t.Helper()
	for _, s := range wiring.Stages() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stage %q", name)
	return wiring.Spec{}
}

func dedupeInstance(t *testing.T, srv *server.Server) pipeline.Handler {
	return dedupeInstanceB(t, srv)
}

func dedupeInstanceB(t testing.TB, srv *server.Server) pipeline.Handler {
	return dedupeInstanceState(t, srv, "")
}

// dedupeInstanceState is a dedupe instance with its state in the ordered
// log ("" or wiring.DedupeStateLog, the default) or in KV.
func dedupeInstanceState(t testing.TB, srv *server.Server, state string) pipeline.Handler {
	t.Helper()
	_, js := pipelinetest.Connect(t, srv)
	ctx := pipelinetest.Context(t, 20*time.Second)
	dp := deps(js)
	dp.Dedupe.State = state
	h, err := stage(t, "dedupe").New(ctx, dp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// wireStory makes a story whose text differs wholly from other topics':
// words drawn from a vocabulary by a generator seeded with the topic.
func wireStory(uri, version string, seq uint64, topic int) *proto.Story {
	vocab := strings.Fields("minister council harbour grain river summit budget court strike election rail " +
		"drought vaccine tariff bridge airline festival mine pipeline refinery senate union protest treaty " +
		"border flood museum stadium reactor satellite bank currency bond harvest fishery forest wildfire " +
		"earthquake typhoon cabinet coalition verdict appeal prison police embassy refugee census audit")
	x := uint64(topic)*2654435761 + 1
	var words []string
	for i := 0; i < 90; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		words = append(words, vocab[x%uint64(len(vocab))])
	}
	body := "GENEVA (AP) — " + strings.Join(words, " ") + "."
	return &proto.Story{URI: uri, Version: version, Headline: strings.Join(words[:6], " "), BodyText: body,
		PubStatus: proto.PubStatusUsable, IngestSeq: seq, Received: proto.Time(seq)}
}

func decide(t *testing.T, h pipeline.Handler, s *proto.Story) *proto.Dedupe {
	t.Helper()
	out, err := h.Handle(context.Background(), s)
	if err != nil || len(out) != 1 || out[0].Dedupe == nil {
		t.Fatalf("Handle(%s): %v %v", s.URI, out, err)
	}
	return out[0].Dedupe
}

// Two dedupe processes that receive near copies at the same moment produce
// exactly one new; the other copy is a (near) duplicate of it.
func TestDedupeTwoInstancesRace(t *testing.T) {
	for _, state := range []string{wiring.DedupeStateLog, wiring.DedupeStateKV} {
		t.Run(state, func(t *testing.T) { testDedupeTwoInstancesRace(t, state) })
	}
}

func testDedupeTwoInstancesRace(t *testing.T, state string) {
	srv := pipelinetest.StartServer(t)
	a, b := dedupeInstanceState(t, srv, state), dedupeInstanceState(t, srv, state)
	for round := range 40 {
		orig := wireStory(fmt.Sprintf("urn:race:%d:a", round), "1", uint64(2*round+1), round)
		copy := orig.Clone()
		copy.URI = fmt.Sprintf("urn:race:%d:b", round)
		copy.IngestSeq++
		copy.BodyText = strings.ToUpper(strings.ReplaceAll(copy.BodyText, " ", "  "))
		var da, db *proto.Dedupe
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); da = decide(t, a, orig) }()
		go func() { defer wg.Done(); db = decide(t, b, copy) }()
		wg.Wait()
		news := 0
		for _, d := range []*proto.Dedupe{da, db} {
			switch d.Status {
			case proto.DedupeNew:
				news++
			case proto.DedupeNearDuplicate, proto.DedupeDuplicate:
			default:
				t.Fatalf("round %d: unexpected decision %+v", round, d)
			}
		}
		if news != 1 {
			t.Fatalf("round %d: %d new (a=%+v b=%+v), want exactly one", round, news, da, db)
		}
	}
}

// A restarted process keeps what was seen: exact resends, near copies and
// older versions are recognised by a new instance on the same server.
func TestDedupeRestartKeepsState(t *testing.T) {
	for _, state := range []string{wiring.DedupeStateLog, wiring.DedupeStateKV} {
		t.Run(state, func(t *testing.T) { testDedupeRestartKeepsState(t, state) })
	}
}

func testDedupeRestartKeepsState(t *testing.T, state string) {
	srv := pipelinetest.StartServer(t)
	first := dedupeInstanceState(t, srv, state)
	v2 := wireStory("urn:restart:1", "2", 1, 1)
	if d := decide(t, first, v2); d.Status != proto.DedupeNew {
		t.Fatalf("first sight: %+v", d)
	}
	other := wireStory("urn:restart:2", "1", 2, 2)
	if d := decide(t, first, other); d.Status != proto.DedupeNew {
		t.Fatalf("second story: %+v", d)
	}
	first.Close(context.Background())

	again := dedupeInstanceState(t, srv, state)
	resend := v2.Clone()
	resend.IngestSeq = 10
	if d := decide(t, again, resend); d.Status != proto.DedupeDuplicate {
		t.Errorf("resend after restart: %+v, want duplicate", d)
	}
	v1 := wireStory("urn:restart:1", "1", 11, 1)
	if d := decide(t, again, v1); d.Status != proto.DedupeStale {
		t.Errorf("older version after restart: %+v, want stale", d)
	}
	near := other.Clone()
	near.URI, near.IngestSeq = "urn:restart:2-copy", 12
	near.BodyText = strings.ToUpper(near.BodyText) + "\n\nCopyright 2024 The Associated Press. All rights reserved."
	near.Headline = "Reworded: " + near.Headline
	if d := decide(t, again, near); d.Status != proto.DedupeNearDuplicate || d.Of != "urn:restart:2" {
		t.Errorf("near copy after restart: %+v, want near_duplicate of urn:restart:2", d)
	}
}

// Versions of one story arriving out of order at two processes: the newer
// one wins whichever process sees it, and the older is stale.
func TestDedupeOutOfOrderAcrossInstances(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	a, b := dedupeInstance(t, srv), dedupeInstance(t, srv)
	v1 := wireStory("urn:ooo:1", "1", 1, 3)
	v3 := wireStory("urn:ooo:1", "3", 2, 3)
	v3.BodyText += "\n\nA third paragraph was added."
	v2 := wireStory("urn:ooo:1", "2", 3, 3)
	v2.BodyText += "\n\nA second paragraph."
	if d := decide(t, a, v1); d.Status != proto.DedupeNew {
		t.Fatalf("v1: %+v", d)
	}
	if d := decide(t, b, v3); d.Status != proto.DedupeUpdate || d.Of != "urn:ooo:1" {
		t.Fatalf("v3 after v1: %+v, want update", d)
	}
	if d := decide(t, a, v2); d.Status != proto.DedupeStale {
		t.Fatalf("v2 after v3 on another instance: %+v, want stale", d)
	}
	kill := &proto.Story{URI: "urn:ooo:1", Version: "4", PubStatus: proto.PubStatusCanceled, IngestSeq: 4}
	if d := decide(t, b, kill); d.Status != proto.DedupeKill {
		t.Fatalf("kill: %+v", d)
	}
}

// A record in the signature log that cannot be read (written by a newer
// version during a rolling upgrade, or damaged) must not take the dedupe
// stage down: it is skipped, with an error logged. Before, a running
// instance's log reader stopped on it, so every later decision waited for
// its own record until the decide timeout and then failed (every story
// would have gone to the dead letters after its retries); and a starting
// instance failed to start for as long as the record stayed in the log
// (the dedupe window).
func TestDedupeSkipsUnreadableLogRecord(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	running := dedupeInstance(t, srv)
	if d := decide(t, running, wireStory("urn:bad:1", "1", 1, 1)); d.Status != proto.DedupeNew {
		t.Fatalf("before the bad record: %+v", d)
	}
	_, js := pipelinetest.Connect(t, srv)
	names := proto.Live()
	for _, data := range [][]byte{{99, 1, 2, 3}, {}} { // an unknown record version; an empty record
		if _, err := js.Publish(pipelinetest.Context(t, 5*time.Second), names.Prefix+".dedupe.log", data); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := running.Handle(ctx, wireStory("urn:bad:2", "1", 2, 2))
	if err != nil || len(out) != 1 || out[0].Dedupe.Status != proto.DedupeNew {
		t.Fatalf("running instance after the bad record: %v %v", out, err)
	}

	// A new instance replays the log, bad records included, and starts.
	again := dedupeInstance(t, srv)
	near := wireStory("urn:bad:2-copy", "1", 3, 2)
	near.Headline = "Reworded: " + near.Headline
	if d := decide(t, again, near); d.Status != proto.DedupeNearDuplicate || d.Of != "urn:bad:2" {
		t.Errorf("new instance after the bad record: %+v, want near_duplicate of urn:bad:2", d)
	}
}

// Three dedupe processes on one server decide, all at once, twelve versions
// of one story (each sent twice): exactly one new, no version republished
// twice, the newest republished once, and every process then calls a
// retransmission of the newest a duplicate.
func TestDedupeVersionsRaceThreeInstances(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	var hs []pipeline.Handler
	for range 3 {
		hs = append(hs, dedupeInstance(t, srv))
	}
	const versions, copies = 12, 2
	var stories []*proto.Story
	for v := 1; v <= versions; v++ {
		for c := 0; c < copies; c++ {
			s := wireStory("urn:versions:1", fmt.Sprint(v), uint64(len(stories)+1), 7)
			s.BodyText += fmt.Sprintf("\n\nVersion %d adds a paragraph.", v)
			stories = append(stories, s)
		}
	}
	got := make([]*proto.Dedupe, len(stories))
	var wg sync.WaitGroup
	for i := range stories {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = decide(t, hs[i%len(hs)], stories[i]) }()
	}
	wg.Wait()
	news, published := 0, map[string]int{}
	for i, d := range got {
		switch d.Status {
		case proto.DedupeNew:
			news++
			published[stories[i].Version]++
		case proto.DedupeUpdate:
			published[stories[i].Version]++
		case proto.DedupeDuplicate, proto.DedupeStale:
		default:
			t.Fatalf("version %s: %+v", stories[i].Version, d)
		}
	}
	if news != 1 {
		t.Fatalf("%d new, want 1: %v", news, published)
	}
	for v, n := range published {
		if n > 1 {
			t.Fatalf("version %s republished %d times", v, n)
		}
	}
	if published[fmt.Sprint(versions)] != 1 {
		t.Fatalf("newest version republished %d times, want 1", published[fmt.Sprint(versions)])
	}
	for k, h := range hs {
		again := stories[len(stories)-1].Clone()
		again.IngestSeq = 1000 + uint64(k)
		if d := decide(t, h, again); d.Status != proto.DedupeDuplicate {
			t.Fatalf("process %d: retransmission of the newest version %+v, want duplicate", k, d)
		}
	}
}

// TestDedupeStateAuto: with no state set, a namespace whose KV bucket
// exists (a deployment from before the ordered log) keeps the KV design,
// and a new one uses the ordered log and never creates the bucket.
func TestDedupeStateAuto(t *testing.T) {
	t.Run("new namespace", func(t *testing.T) {
		srv := pipelinetest.StartServer(t)
		h := dedupeInstanceState(t, srv, "")
		if d := decide(t, h, wireStory("urn:auto:a", "1", 1, 1)); d.Status != proto.DedupeNew {
			t.Fatalf("decision %+v", d)
		}
		_, js := pipelinetest.Connect(t, srv)
		if _, err := js.KeyValue(pipelinetest.Context(t, 5*time.Second), proto.Live().DedupeBucket()); !errors.Is(err, jetstream.ErrBucketNotFound) {
			t.Fatalf("the ordered log should not create the KV bucket: %v", err)
		}
	})
	t.Run("existing kv deployment", func(t *testing.T) {
		srv := pipelinetest.StartServer(t)
		old := dedupeInstanceState(t, srv, wiring.DedupeStateKV) // the deployment before the upgrade
		if d := decide(t, old, wireStory("urn:auto:b", "1", 1, 2)); d.Status != proto.DedupeNew {
			t.Fatalf("decision %+v", d)
		}
		h := dedupeInstanceState(t, srv, "") // the upgraded process, state not set
		// The KV design knows the story from the old process's records: a
		// resend is a duplicate, not new again.
		if d := decide(t, h, wireStory("urn:auto:b", "1", 2, 2)); d.Status != proto.DedupeDuplicate {
			t.Fatalf("resend after the upgrade decided %+v, want duplicate (auto should keep kv)", d)
		}
	})
}
