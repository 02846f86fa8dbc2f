package faults_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/internal/enrich"
	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // every test skips itself
	}
	dir, err := os.MkdirTemp("", "wirestream-faults")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "wirestream")
	if out, err := exec.Command("go", "build", "-o", binary, "../../cmd/wirestream").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build wirestream: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// proc is a running wirestream process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	log     *syncBuffer
	done    chan struct{} // closed when the process exited
	exitErr error
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Stderr = p.log
	p.cmd.Env = append(os.Environ(), "NATS_URL=")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exitErr = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		switch {
		case os.Getenv("WS_FAULTS_LOG") != "": // the whole log, to study a run
			t.Logf("--- %s log:\n%s", p.name, p.log.String())
		case t.Failed():
			t.Logf("--- %s log (tail):\n%s", p.name, tail(p.log.String(), 3000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (p *proc) waitStarted(t *testing.T, stages int) {
	t.Helper()
	pipelinetest.Eventually(t, 30*time.Second, func() bool { return strings.Count(p.log.String(), "stage started") >= stages },
		"%s: stages did not start:\n%s", p.name, tail(p.log.String(), 2000))
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	t.Logf("%s killed with SIGKILL", p.name)
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.exitErr != nil {
			t.Errorf("%s exited with %v after SIGTERM", p.name, p.exitErr)
		}
	case <-time.After(60 * time.Second):
		t.Errorf("%s did not stop after SIGTERM", p.name)
	}
}

// feed publishes n distinct generated stories to the raw history.
func feed(t *testing.T, js jetstream.JetStream, n int, seed uint64) {
	t.Helper()
	data, err := corpus.JSONLines(corpus.Generate(corpus.Config{Stories: n, Seed: seed, Size: 2000}))
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	res, err := fileingest.Files(pipelinetest.Context(t, 120*time.Second), js, fileingest.Config{Names: proto.Live(), Source: "faults", Timeout: 60 * time.Second},
		[]fileingest.Input{{Name: "corpus", R: bytes.NewReader(data)}}, &report)
	if err != nil || res.Accepted != n {
		t.Fatalf("ingest: %+v %v\n%s", res, err, report.String())
	}
}

// outCount counts published stories; while a cluster elects leaders the
// count may not be readable: it then reports 0 and the poll tries again.
func outCount(t *testing.T, js jetstream.JetStream) uint64 {
	n, _ := pipelinetest.CountMsgs(js, proto.Live().OutStream(), proto.Live().OutAll())
	return n
}

// done counts the stories that left the pipeline: published on
// ws.out.all, or kept on the audit subject because dedupe judged them
// copies of earlier ones.
func done(t *testing.T, js jetstream.JetStream) uint64 {
	out, err := pipelinetest.CountMsgs(js, proto.Live().OutStream(), proto.Live().OutAll())
	if err != nil {
		return 0
	}
	audit, err := pipelinetest.CountMsgs(js, proto.Live().AuditStream(), "")
	if err != nil {
		return 0
	}
	return out + audit
}

// readURIs returns how often each story uri was stored on a stream subject.
func readURIs(t *testing.T, js jetstream.JetStream, streamName, subject string, seen map[string]int) int {
	t.Helper()
	return readAll(t, js, streamName, subject, func(m jetstream.Msg) {
		seen[m.Headers().Get(proto.HeaderStoryURI)]++
	})
}

// readAll calls fn with every message stored on a stream subject and
// returns their number. Right after a node loss the JetStream API can answer
// "no responders" for a moment (leaders being re-elected), so a failed read
// is retried from the start for up to a minute; fn only sees the messages
// of the read that succeeded.
func readAll(t *testing.T, js jetstream.JetStream, streamName, subject string, fn func(jetstream.Msg)) int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var msgs []jetstream.Msg
		total, err := tryReadAll(js, streamName, subject, func(m jetstream.Msg) { msgs = append(msgs, m) })
		if err == nil {
			for _, m := range msgs {
				fn(m)
			}
			return total
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %s %s: %v", streamName, subject, err)
		}
		t.Logf("read %s %s: %v (retrying)", streamName, subject, err)
		time.Sleep(500 * time.Millisecond)
	}
}

func tryReadAll(js jetstream.JetStream, streamName, subject string, fn func(jetstream.Msg)) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, streamName)
	if err != nil {
		return 0, err
	}
	n, err := pipeline.CountMsgs(ctx, js, streamName, subject)
	if err != nil || n == 0 {
		return 0, err
	}
	total := int(n)
	c, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return 0, err
	}
	for read := 0; read < total; {
		batch, err := c.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return 0, err
		}
		for m := range batch.Messages() {
			fn(m)
			read++
		}
		if batch.Error() != nil {
			return 0, batch.Error()
		}
	}
	return total, nil
}

// embeddedWithStreams starts an in-process server with the live streams
// and returns a JetStream client and the server's URL for the processes.
func embeddedWithStreams(t *testing.T) (jetstream.JetStream, string) {
	t.Helper()
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	if err := pipeline.EnsureStreams(pipelinetest.Context(t, 10*time.Second), js, proto.Live(), pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	return js, srv.ClientURL()
}

// startTwoOf starts two processes running only stage (stage-1 and
// stage-2, waited for) and one running all the other stages.
func startTwoOf(t *testing.T, url, stage string) (rest, first, second *proc) {
	t.Helper()
	var others []string
	for _, s := range wiring.Names() {
		if s != stage {
			others = append(others, s)
		}
	}
	list := strings.Join(others, ",")
	rest = start(t, list, "run", "--nats", url, "--stages", list, "--log-level", "warn")
	first = start(t, stage+"-1", "run", "--nats", url, "--stages", stage)
	second = start(t, stage+"-2", "run", "--nats", url, "--stages", stage)
	first.waitStarted(t, 1)
	second.waitStarted(t, 1)
	return rest, first, second
}

// feedAndKill feeds n stories, kills victim with SIGKILL once a fifth of
// them are out, waits until all n have left the pipeline and checks that
// each did so exactly once.
func feedAndKill(t *testing.T, js jetstream.JetStream, n int, seed uint64, victim *proc) {
	t.Helper()
	feed(t, js, n, seed)
	pipelinetest.Eventually(t, 120*time.Second, func() bool { return outCount(t, js) >= uint64(n/5) }, "no progress: %d out", func() uint64 { return outCount(t, js) })
	victim.kill(t)
	killedAt := outCount(t, js)
	pipelinetest.Eventually(t, 180*time.Second, func() bool { return done(t, js) >= uint64(n) }, "after the kill: %d of %d out", func() uint64 { return done(t, js) }, n)
	if killedAt >= uint64(n) {
		t.Fatalf("all stories were out before the kill (%d); the kill did not happen mid-stream", killedAt)
	}
	t.Logf("%s killed with %d of %d stories out", victim.name, killedAt, n)
	time.Sleep(500 * time.Millisecond) // a late duplicate would show up now
	checkExactlyOnce(t, js, n)
}

// noClientDrops fails if a process's NATS client discarded deliveries
// ("slow consumer, messages dropped"). JetStream redelivers them after
// AckWait, so nothing is lost, but each one stalls its story for 30 s: the
// stage runtime must not let the client drop.
func noClientDrops(t *testing.T, procs ...*proc) {
	t.Helper()
	for _, p := range procs {
		if n := strings.Count(p.log.String(), "slow consumer"); n > 0 {
			t.Errorf("%s: the NATS client dropped deliveries %d times (slow consumer):\n%s", p.name, n, tail(p.log.String(), 3000))
		}
	}
}

// checkExactlyOnce checks that each of the n stories left the pipeline once:
// on ws.out.all, or (if dedupe judged it a copy) on the audit subject; and
// that nothing was dead-lettered.
func checkExactlyOnce(t *testing.T, js jetstream.JetStream, n int) {
	t.Helper()
	names := proto.Live()
	seen := map[string]int{}
	out := readURIs(t, js, names.OutStream(), names.OutAll(), seen)
	audited := readURIs(t, js, names.AuditStream(), names.AuditAll(), seen)
	total := out + audited
	t.Logf("%d stories published, %d audited by dedupe", out, audited)
	dups := 0
	for _, c := range seen {
		if c > 1 {
			dups++
		}
	}
	if len(seen) != n || dups > 0 || total != n {
		t.Fatalf("output: %d stories stored, %d distinct, %d stored more than once; want %d exactly once", total, len(seen), dups, n)
	}
	if d := pipelinetest.StreamMsgs(t, js, names.DLQStream(), ""); d != 0 {
		t.Fatalf("%d dead letters", d)
	}
}

// A tag process killed with SIGKILL mid-stream of 10,000 stories while a
// second tag process keeps running: every story comes out enriched, once.
func TestKillTagProcessMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n = 10000
	js, url := embeddedWithStreams(t)
	rest, tag1, tag2 := startTwoOf(t, url, "tag")
	feedAndKill(t, js, n, 1, tag1)
	noClientDrops(t, tag2, rest)
	tag2.stop(t)
	rest.stop(t)
}

// An ingest process killed with SIGKILL while a second one keeps running,
// with a fifth of the raw history ingested (ingest is the fastest stage, so
// the kill is timed on its consumer, not on the output): every story comes
// out once.
func TestKillIngestProcessMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n = 10000
	js, url := embeddedWithStreams(t)
	names := proto.Live()
	rest, in1, in2 := startTwoOf(t, url, "ingest")
	ingested := func() (delivered, pending uint64) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := js.Consumer(ctx, names.RawStream(), "ws-ingest")
		if err != nil {
			return 0, 0
		}
		info, err := c.Info(ctx)
		if err != nil {
			return 0, 0
		}
		return info.Delivered.Stream, info.NumPending + uint64(info.NumAckPending)
	}
	feed(t, js, n, 6)
	pipelinetest.Eventually(t, 120*time.Second, func() bool { d, _ := ingested(); return d >= n/5 }, "no progress in ingest")
	in1.kill(t)
	d, pending := ingested()
	if pending == 0 {
		t.Fatalf("ingest had nothing left when it was killed (%d delivered); the kill did not happen mid-stream", d)
	}
	t.Logf("ingest-1 killed with %d raw stories delivered to ingest, %d not yet acknowledged", d, pending)
	pipelinetest.Eventually(t, 180*time.Second, func() bool { return done(t, js) >= n }, "after the kill: %d of %d out", func() uint64 { return done(t, js) }, n)
	time.Sleep(500 * time.Millisecond)
	checkExactlyOnce(t, js, n)
	noClientDrops(t, in2, rest)
	in2.stop(t)
	rest.stop(t)
}

// A dedupe process killed with SIGKILL mid-stream while a second one keeps
// running. Dedupe is the stage with shared state: the killed process leaves
// uri records, content claims and log records written for stories it never
// acknowledged, and those stories are redelivered to the other process. It
// must recognise them as the same deliveries (same ingest sequence) and
// decide them as before, not as copies of themselves: every story comes out
// once, and exactly as many are audited as the offline enrich path audits
// over the same corpus (the corpus's accidental near copies; a story judged
// a duplicate of its own earlier attempt would add to the count).
func TestKillDedupeProcessMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n, seed = 6000, 4
	data, err := corpus.JSONLines(corpus.Generate(corpus.Config{Stories: n, Seed: seed, Size: 2000}))
	if err != nil {
		t.Fatal(err)
	}
	want, err := enrich.Run(pipelinetest.Context(t, 120*time.Second), wiring.Config{Names: proto.Live()},
		[]fileingest.Input{{Name: "corpus", R: bytes.NewReader(data)}}, enrich.Options{}, io.Discard, io.Discard)
	if err != nil || want.Inputs != n {
		t.Fatalf("offline enrich: %+v %v", want, err)
	}

	js, url := embeddedWithStreams(t)
	rest, dd1, dd2 := startTwoOf(t, url, "dedupe")
	feedAndKill(t, js, n, seed, dd1)
	audited := pipelinetest.StreamMsgs(t, js, proto.Live().AuditStream(), "")
	if int(audited) != want.Audited {
		t.Errorf("%d stories audited, want %d (the offline enrich path over the same corpus)", audited, want.Audited)
	}
	t.Logf("%d audited, as offline", audited)
	noClientDrops(t, dd2, rest)
	dd2.stop(t)
	rest.stop(t)
}

// A publish process killed with SIGKILL mid-stream while a second one keeps
// running. Publish stores the story on ws.out.all and then one notification
// per region and topic node; a kill between the two leaves a story whose
// notifications are partly stored. The redelivered story must complete them
// without storing any twice: every story once on ws.out.all, and exactly
// one stored notification per node each story names (Ws-Nodes).
func TestKillPublishProcessMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n, seed = 6000, 5
	js, url := embeddedWithStreams(t)
	names := proto.Live()
	rest, pub1, pub2 := startTwoOf(t, url, "publish")
	feedAndKill(t, js, n, seed, pub1)

	// The notifications each stored story names, against those stored.
	want := map[string]int{} // node subject -> stories naming it
	refs := 0
	readAll(t, js, names.OutStream(), names.OutAll(), func(m jetstream.Msg) {
		for _, node := range strings.Fields(m.Headers().Get(proto.HeaderNodes)) {
			want[node]++
			refs++
		}
	})
	got := map[string]int{}
	stored := 0
	for _, filter := range []string{names.Prefix + ".out.region.>", names.Prefix + ".out.topic.>"} {
		stored += readAll(t, js, names.OutStream(), filter, func(m jetstream.Msg) { got[m.Subject()]++ })
	}
	if refs == 0 {
		t.Fatal("no story names a node: the check below would be empty")
	}
	for node, c := range want {
		if got[node] != c {
			t.Errorf("%s: %d notifications stored, %d stories name it", node, got[node], c)
		}
	}
	if stored != refs {
		t.Errorf("%d notifications stored, %d named by the stories", stored, refs)
	}
	t.Logf("%d notifications stored, one per node named (%d nodes)", stored, len(want))
	noClientDrops(t, pub2, rest)
	pub2.stop(t)
	rest.stop(t)
}

// The server restarted mid-stream (file storage, same port): the pipeline
// reconnects and completes with nothing lost and nothing twice.
func TestServerRestartMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n = 3000
	dir := t.TempDir()
	listen := fmt.Sprintf("127.0.0.1:%d", pipelinetest.FreePort(t))
	srv, err := pipeline.StartServer(pipeline.ServerConfig{Listen: listen, StoreDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	url := srv.ClientURL()
	_, js := pipelinetest.Connect(t, srv)
	if err := pipeline.EnsureStreams(pipelinetest.Context(t, 10*time.Second), js, proto.Live(), pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	p := start(t, "pipeline", "run", "--nats", url, "--log-level", "warn")
	feed(t, js, n, 2)
	pipelinetest.Eventually(t, 120*time.Second, func() bool { return outCount(t, js) >= n/4 }, "no progress")
	srv.Shutdown()
	srv.WaitForShutdown()
	time.Sleep(time.Second)
	srv, err = pipeline.StartServer(pipeline.ServerConfig{Listen: listen, StoreDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	pipelinetest.Eventually(t, 180*time.Second, func() bool { return done(t, js) >= n }, "after the restart: %d of %d out", func() uint64 { return done(t, js) }, n)
	time.Sleep(500 * time.Millisecond)
	checkExactlyOnce(t, js, n)
	noClientDrops(t, p)
	p.stop(t)
}

// A three-node cluster with 3-replica streams: one node stopped mid-stream,
// the pipeline (given all three URLs) carries on with nothing lost.
func TestClusterNodeLossMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n = 3000
	c := pipelinetest.StartCluster(t, 3)
	urls := c.URLs()
	nc, err := pipeline.Connect(pipeline.ConnConfig{URL: urls}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.EnsureStreams(pipelinetest.Context(t, 30*time.Second), js, proto.Live(), pipeline.StreamsConfig{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	p := start(t, "pipeline", "run", "--nats", urls, "--replicas", "3", "--log-level", "warn")
	p.waitStarted(t, 0)
	feed(t, js, n, 3)
	pipelinetest.Eventually(t, 120*time.Second, func() bool { return outCount(t, js) >= n/4 }, "no progress")
	c.Kill(0)
	t.Logf("node 1 killed at %s", time.Now().UTC().Format("15:04:05.000"))
	pipelinetest.Eventually(t, 180*time.Second, func() bool { return done(t, js) >= n }, "after the node loss: %d of %d out", func() uint64 { return done(t, js) }, n)
	time.Sleep(500 * time.Millisecond)
	checkExactlyOnce(t, js, n)
	noClientDrops(t, p)
	p.stop(t)
}
