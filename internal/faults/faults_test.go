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
	"slices"
	"strconv"
	"strings"
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

// binary is the wirestream command and natsServer the nats-server
// command (both built by TestMain; the server from the module in go.mod).
var binary, natsServer string

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
	natsServer = filepath.Join(dir, "nats-server")
	if out, err := exec.Command("go", "build", "-o", natsServer, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build nats-server: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running wirestream process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	log     *pipelinetest.SyncBuffer
	done    chan struct{} // closed when the process exited
	exitErr error
}

// start runs wirestream with args until the test ends.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startProgram(t, binary, name, args...)
}

// startProgram runs program with args until the test ends, its stderr
// kept in the proc's log.
func startProgram(t *testing.T, program, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: &pipelinetest.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(program, args...)
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

// connectWithStreams connects to the server or cluster at urls (a client
// that reconnects for ever, closed when the test ends) and creates the
// live streams with sc.
func connectWithStreams(t *testing.T, urls string, sc pipeline.StreamsConfig) jetstream.JetStream {
	t.Helper()
	nc, err := pipeline.Connect(pipeline.ConnConfig{URL: urls, Name: t.Name()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.EnsureStreams(pipelinetest.Context(t, 30*time.Second), js, proto.Live(), sc); err != nil {
		t.Fatal(err)
	}
	return js
}

// killRun is a kill test's processes: one running every stage but the
// stage under test, and two running only that stage, the victim (killed)
// and the survivor.
type killRun struct {
	rest, victim, survivor *proc
}

// stop ends the surviving processes with SIGTERM and checks that no
// client dropped deliveries.
func (r killRun) stop(t *testing.T) {
	t.Helper()
	noClientDrops(t, r.survivor, r.rest)
	r.survivor.stop(t)
	r.rest.stop(t)
}

// feedAndKill runs the pipeline with two processes of stage, feeds n
// stories, kills one of the two with SIGKILL while it holds unacknowledged
// inputs, waits until all n have left the pipeline, and checks that each
// did so exactly once and that inputs the victim held were delivered again.
//
// The two processes of stage start once a tenth of the stories wait for
// it, so that the stage has a backlog when the kill lands: a stage that
// keeps up with its input holds almost nothing at any instant (a few of
// its ~1 ms handlings), and a kill then often tests nothing; with a
// backlog each process holds a pulled batch (up to 64 inputs) and the
// inputs in its handlers.
func feedAndKill(t *testing.T, js jetstream.JetStream, url string, n int, seed uint64, stage string) killRun {
	t.Helper()
	var others []string
	for _, s := range wiring.Names() {
		if s != stage {
			others = append(others, s)
		}
	}
	list := strings.Join(others, ",")
	r := killRun{rest: start(t, list, "run", "--nats", url, "--stages", list, "--log-level", "warn")}
	feed(t, js, n, seed)
	stream, subject := wiring.Input(proto.Live(), slices.Index(wiring.Names(), stage))
	backlog := func() uint64 { c, _ := pipelinetest.CountMsgs(js, stream, subject); return c }
	pipelinetest.Eventually(t, 120*time.Second, func() bool { return backlog() >= uint64(n/10) },
		"no backlog for %s: %d of %d stories wait on %s", stage, backlog, n, subject)
	r.victim = start(t, stage+"-1", "run", "--nats", url, "--stages", stage)
	r.survivor = start(t, stage+"-2", "run", "--nats", url, "--stages", stage)
	r.victim.waitStarted(t, 1)
	r.survivor.waitStarted(t, 1)

	held := killHolding(t, js, stage, r.victim, uint64(n/20))
	killedAt := done(t, js)
	pipelinetest.Eventually(t, 180*time.Second, func() bool { return done(t, js) >= uint64(n) }, "after the kill: %d of %d out", func() uint64 { return done(t, js) }, n)
	if killedAt >= uint64(n) {
		t.Fatalf("all stories were out before the kill (%d); the kill did not happen mid-stream", killedAt)
	}
	t.Logf("%s killed with %d of %d stories out", r.victim.name, killedAt, n)
	time.Sleep(500 * time.Millisecond) // a late duplicate would show up now
	checkExactlyOnce(t, js, n)
	checkRedelivered(t, js, stage, stageInputs(t, js, stage, n), held, r.victim, r.survivor)
	return r
}

// minHeld is how many inputs a stage's consumer must have delivered and
// not acknowledged when a test kills one of its processes. The consumer
// counts the work of both processes: which of it the victim held shows
// only afterwards (checkRedelivered).
const minHeld = 16

// stageInfo returns the info of a stage's durable consumer, or nil while
// the server does not answer (a poll then tries again).
func stageInfo(js jetstream.JetStream, stage string) *jetstream.ConsumerInfo {
	names := proto.Live()
	stream, _ := wiring.Input(names, slices.Index(wiring.Names(), stage))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, stream, wiring.Durable(names, stage))
	if err != nil {
		return nil
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil
	}
	return info
}

// killHolding kills victim, a process of stage, with SIGKILL once the
// stage's consumer has delivered at least after inputs, still has a
// backlog, and has at least minHeld inputs delivered and not acknowledged.
// It returns that ack-pending count.
func killHolding(t *testing.T, js jetstream.JetStream, stage string, victim *proc, after uint64) int {
	t.Helper()
	var last jetstream.ConsumerInfo
	pipelinetest.Eventually(t, 120*time.Second, func() bool {
		info := stageInfo(js, stage)
		if info == nil {
			return false
		}
		last = *info
		return info.Delivered.Consumer >= after && info.NumPending > 0 && info.NumAckPending >= minHeld
	}, "the %s stage never held %d unacknowledged inputs with %d delivered and a backlog: %d delivered, %d pending, %d ack pending",
		stage, minHeld, after, func() uint64 { return last.Delivered.Consumer }, func() uint64 { return last.NumPending }, func() int { return last.NumAckPending })
	victim.kill(t)
	t.Logf("%s killed while the %s stage held %d unacknowledged inputs (%d delivered, %d waiting)",
		victim.name, stage, last.NumAckPending, last.Delivered.Consumer, last.NumPending)
	return last.NumAckPending
}

// stageInputs is how many inputs stage consumed in a run of n stories:
// dedupe keeps the stories it audits from tag and publish.
func stageInputs(t *testing.T, js jetstream.JetStream, stage string, n int) int {
	t.Helper()
	if slices.Index(wiring.Names(), stage) > slices.Index(wiring.Names(), "dedupe") {
		return n - int(pipelinetest.StreamMsgs(t, js, proto.Live().AuditStream(), ""))
	}
	return n
}

// checkRedelivered fails unless the killed process held inputs that were
// delivered again: the stage's consumer delivered more often than it had
// inputs, by more than the handlers' own retries (each logged) explain.
// Without it a kill test would pass with a victim that held nothing.
func checkRedelivered(t *testing.T, js jetstream.JetStream, stage string, inputs, heldAtKill int, procs ...*proc) {
	t.Helper()
	info := stageInfo(js, stage)
	if info == nil {
		t.Fatalf("consumer of stage %s unreadable", stage)
	}
	retries := 0
	for _, p := range procs {
		for _, line := range []string{"handler failed, retrying", "publish abandoned", "dead letter not stored"} {
			retries += strings.Count(p.log.String(), line)
		}
	}
	redelivered := int(info.Delivered.Consumer) - inputs - retries
	t.Logf("stage %s: %d deliveries of %d inputs, %d handler retries: %d inputs held by the killed process were delivered again (%d unacknowledged at the kill)",
		stage, info.Delivered.Consumer, inputs, retries, redelivered, heldAtKill)
	if redelivered <= 0 {
		t.Fatalf("stage %s: no input was redelivered after the kill (%d deliveries, %d inputs, %d retries): the killed process held no unacknowledged input (did it ack before its outputs were stored?), so the kill did not exercise redelivery",
			stage, info.Delivered.Consumer, inputs, retries)
	}
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
	js, url := embeddedWithStreams(t)
	feedAndKill(t, js, url, 10000, 1, "tag").stop(t)
}

// An ingest process killed with SIGKILL while a second one keeps running,
// with a twentieth of the raw history delivered to ingest: every story
// comes out once.
func TestKillIngestProcessMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	js, url := embeddedWithStreams(t)
	feedAndKill(t, js, url, 10000, 6, "ingest").stop(t)
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
	run := feedAndKill(t, js, url, n, seed, "dedupe")
	audited := pipelinetest.StreamMsgs(t, js, proto.Live().AuditStream(), "")
	if int(audited) != want.Audited {
		t.Errorf("%d stories audited, want %d (the offline enrich path over the same corpus)", audited, want.Audited)
	}
	t.Logf("%d audited, as offline", audited)
	run.stop(t)
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
	run := feedAndKill(t, js, url, n, seed, "publish")

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
	for _, filter := range []string{names.Prefix + ".out.region.>", names.Prefix + ".out.topic.>", names.Prefix + ".out.city.>"} {
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
	run.stop(t)
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

// startServerProcess runs the nats-server binary with JetStream, its
// store in dir (file storage, the default sync interval), on a loopback
// port, and waits until it is ready.
func startServerProcess(t *testing.T, name, dir string, port int) *proc {
	t.Helper()
	p := startProgram(t, natsServer, name, "-js", "-sd", dir, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	pipelinetest.Eventually(t, 30*time.Second, func() bool { return strings.Contains(p.log.String(), "Server is ready") },
		"%s not ready:\n%s", name, func() string { return tail(p.log.String(), 2000) })
	return p
}

// A separate nats-server process killed with SIGKILL mid-stream (not a
// shutdown: it writes nothing more) and started again on the same store
// and port while wirestream run --nats works: nothing lost, nothing twice.
// On one server the streams are R1, and an R1 file store writes each
// message to its block file before it acknowledges the publish (the fsync
// comes later, every sync_interval, 2 min by default; "always" exists only
// in the config file): a process kill keeps the written data in the OS
// page cache, so nothing acknowledged is lost (a machine crash could lose
// up to sync_interval of it). What the kill does lose is consumer state,
// which the server writes behind: acks and the delivered counter roll back
// (after a kill a stage's consumer counted 2,964 deliveries for 3,000
// inputs), so some inputs are delivered again, and the Nats-Msg-Id keeps
// their outputs from being stored twice.
func TestServerProcessKilledMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n = 3000
	dir := t.TempDir()
	port := pipelinetest.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	srv := startServerProcess(t, "nats-server", dir, port)
	js := connectWithStreams(t, url, pipeline.StreamsConfig{})
	p := start(t, "pipeline", "run", "--nats", url, "--log-level", "warn")
	feed(t, js, n, 7)
	inFlight := func() int {
		held := 0
		for _, stage := range wiring.Names() {
			if info := stageInfo(js, stage); info != nil {
				held += info.NumAckPending
			}
		}
		return held
	}
	pipelinetest.Eventually(t, 120*time.Second, func() bool { return outCount(t, js) >= n/4 && inFlight() >= minHeld },
		"no progress, or fewer than %d inputs in flight: %d out, %d in flight", minHeld, func() uint64 { return outCount(t, js) }, inFlight)
	held, out := inFlight(), done(t, js)
	srv.kill(t)
	if out >= n {
		t.Fatalf("every story was out before the kill (%d); the kill did not happen mid-stream", out)
	}
	t.Logf("nats-server killed with %d of %d stories out and %d inputs unacknowledged", out, n, held)
	startServerProcess(t, "nats-server (restarted)", dir, port)
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
	js := connectWithStreams(t, urls, pipeline.StreamsConfig{Replicas: 3})
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
