package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// runCLI runs the CLI in-process and returns its exit status and output.
func runCLI(ctx context.Context, stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(ctx, e, args)
	return code, out.String(), errb.String()
}

func testdata(name string) string { return filepath.Join("..", "..", "testdata", "e2e", name) }

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `unknown command "bogus"`},
		{[]string{"tail", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"tail", "--urgency", "12"}, "urgency 12"},
		{[]string{"tail", "--status", "gone"}, `status "gone"`},
		{[]string{"tail", "--language", "e n"}, `language "e n"`},
		{[]string{"tail", "--delete"}, "--delete needs --durable"},
		{[]string{"tail", "--format", "ninjs9"}, `--format "ninjs9"`},
		{[]string{"tail", "--city", "Xyzzyville"}, `unknown city "Xyzzyville"`},
		{[]string{"subjects", "--city", "Xyzzyville"}, `unknown city "Xyzzyville"`},
		{[]string{"tail", "--since", "yesterday"}, "not RFC 3339"},
		{[]string{"tail", "--region", "atlantis"}, `unknown region "atlantis"`},
		{[]string{"subjects"}, "exactly one"},
		{[]string{"subjects", "--topic", "medtop:nope"}, `unknown topic "medtop:nope"`},
		{[]string{"run", "--stages", "ingest,bogus"}, `unknown stage "bogus"`},
		{[]string{"run", "--workers", "0"}, "at least 1"},
		{[]string{"ingest", "--source", "a.b"}, "--source"},
		{[]string{"run", "extra"}, `unexpected argument "extra"`},
		{[]string{"replay", "--from-files", "a.jsonl", "--since", "2024-01-01T00:00:00Z"}, "not with --from-files"},
		{[]string{"replay", "--from-files", "--into", "x"}, "needs at least one PATH"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(context.Background(), "", tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line containing %q", code, stderr, tt.want)
			}
		})
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range commands() {
		code, stdout, _ := runCLI(context.Background(), "", c.name, "--help")
		if code != 0 || !strings.HasPrefix(stdout, "Usage: wirestream "+c.name) {
			t.Errorf("%s --help: exit %d, %q", c.name, code, stdout)
		}
	}
	if code, stdout, _ := runCLI(context.Background(), "", "--help"); code != 0 || !strings.Contains(stdout, "Commands:") {
		t.Errorf("--help: exit %d", code)
	}
}

func TestSubjects(t *testing.T) {
	for args, want := range map[string]string{
		"--region UZ": "ws.out.region.UZ", "--region uz": "ws.out.region.UZ", "--region 143": "ws.out.region.143",
		"--region central-asia": "ws.out.region.143", "--region Asia": "ws.out.region.142",
		"--topic medtop:11000000": "ws.out.topic.11000000", "--topic 16000000": "ws.out.topic.16000000",
		"--all": "ws.out.all", "--region UZ --namespace backfill": "ws.ns.backfill.out.region.UZ",
		"--city Samarkand": "ws.out.city.1216265", "--city 1216265": "ws.out.city.1216265",
		"--city Paris,TX": "ws.out.city.4717560", "--city Samarkand --namespace backfill": "ws.ns.backfill.out.city.1216265",
	} {
		code, stdout, stderr := runCLI(context.Background(), "", append([]string{"subjects"}, strings.Fields(args)...)...)
		if code != 0 || strings.TrimSpace(stdout) != want {
			t.Errorf("subjects %s = %q (exit %d, %s), want %s", args, stdout, code, stderr, want)
		}
	}
}

func TestEnrich(t *testing.T) {
	files := []string{testdata("feed.jsonl"), testdata("resend.jsonl"), testdata("update.jsonl"), testdata("wire.txt")}
	code, stdout, stderr := runCLI(context.Background(), "", append([]string{"enrich"}, files...)...)
	if code != 1 {
		t.Errorf("exit %d, want 1 (three inputs are rejected)", code)
	}
	for _, want := range []string{"feed.jsonl:3: rejected: ingest: invalid JSON", "feed.jsonl:4: rejected: ingest: empty body", "resend.jsonl:2: rejected"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d stories published, want 5:\n%s", len(lines), stdout)
	}
	_, all, _ := runCLI(context.Background(), "", append([]string{"enrich", "--all"}, files[:3]...)...)
	var statuses []string
	for _, l := range strings.Split(strings.TrimSpace(all), "\n") {
		i := strings.Index(l, `"dedupe":{"status":"`)
		if i < 0 {
			t.Fatalf("line without dedupe: %s", l)
		}
		statuses = append(statuses, strings.SplitN(l[i+20:], `"`, 2)[0])
	}
	if got := strings.Join(statuses, ","); got != "new,new,new,duplicate,update" {
		t.Errorf("enrich --all decisions = %s, want new,new,new,duplicate,update", got)
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// The README's quickstart, in-process: run serves on an embedded server,
// ingest stores the feed, tail reads it back by region and topic, and
// cancelling run (what SIGINT does) drains and exits 0.
func TestRunIngestTail(t *testing.T) {
	port, mport := freePort(t), freePort(t)
	url := "nats://127.0.0.1:" + port
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var runErr pipelinetest.SyncBuffer
	go func() {
		e := &env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &runErr, getenv: func(string) string { return "" }}
		done <- run(ctx, e, []string{"run", "--listen", "127.0.0.1:" + port, "--data", t.TempDir(), "--log-level", "warn",
			"--metrics", "127.0.0.1:" + mport, "--user", "desk", "--password", "s3cret"})
	}()
	// Ready means: streams created, connected, every stage consuming.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + mport + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run never ready: %s", runErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The embedded server takes run's --user and --password: a client
	// without them is refused.
	if code, _, stderr := runCLI(ctx, "", "ingest", "--nats", url, "--source", "test", testdata("wire.txt")); code != 1 || !strings.Contains(stderr, "uthorization") {
		t.Fatalf("ingest without credentials: exit %d: %s", code, stderr)
	}
	if strings.Contains(runErr.String(), "s3cret") {
		t.Fatalf("the password was logged: %s", runErr.String())
	}
	code, _, stderr := runCLI(ctx, "", "ingest", "--nats", url, "--user", "desk", "--password", "s3cret", "--source", "test", testdata("wire.txt"))
	if code != 0 || !strings.Contains(stderr, "1 accepted, 0 already stored (duplicate publish), 0 rejected") {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	for _, args := range [][]string{{"--region", "TR"}, {"--region", "western-asia"}, {}} {
		code, stdout, stderr := runCLI(tctx, "", append([]string{"tail", "--nats", url, "--user", "desk", "--password", "s3cret", "--from-start", "--count", "1"}, args...)...)
		if code != 0 || !strings.Contains(stdout, `"located":"ANKARA, Turkey"`) {
			t.Fatalf("tail %v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exited %d after cancel: %s", code, runErr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
}

// A real process: SIGTERM drains and exits 0.
func TestRunExitsZeroOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "wirestream")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "run", "--listen", "127.0.0.1:"+port, "--data", t.TempDir())
	var stderr pipelinetest.SyncBuffer
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "NATS_URL=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "stage started") || strings.Count(stderr.String(), "stage started") < 4 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("stages did not start: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(40 * time.Second):
		cmd.Process.Kill()
		t.Fatal("did not exit after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("no clean stop logged:\n%s", stderr.String())
	}
}

// wirestream version names the build and the NATS versions built in.
func TestVersion(t *testing.T) {
	code, out, _ := runCLI(context.Background(), "", "version")
	if code != 0 || !strings.HasPrefix(out, "wirestream ") || !strings.Contains(out, "nats-server 2.") || !strings.Contains(out, "go1.") {
		t.Fatalf("version: exit %d, %q", code, out)
	}
	if code, _, _ := runCLI(context.Background(), "", "version", "extra"); code != 2 {
		t.Errorf("version with an argument: exit %d, want 2", code)
	}
}

// Interrupted (SIGINT, here a cancelled context), replay says in one line
// where it stands and how to go on, and exits 130.
func TestReplayInterruptedExits130(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	if err := pipeline.EnsureStreams(pipelinetest.Context(t, 10*time.Second), js, proto.Live(), pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := runCLI(ctx, "", "replay", "--nats", srv.ClientURL(), "--from-files", testdata("feed.jsonl"), "--into", "cut", "--log-level", "warn")
	if code != 130 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "interrupted") || !strings.Contains(stderr, "--resume") {
		t.Fatalf("exit %d, stderr %q; want 130 and one line", code, stderr)
	}
}

// replay --into, then diff against the live output (empty here: every
// story is only in the namespace), diff --json, namespaces, namespaces --drop.
func TestReplayDiffNamespaces(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	ctx := pipelinetest.Context(t, 120*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, proto.Live(), pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	url := srv.ClientURL()
	code, _, stderr := runCLI(ctx, "", "replay", "--nats", url, "--from-files", testdata("feed.jsonl"), "--into", "trial", "--log-level", "warn")
	if code != 0 || !strings.Contains(stderr, "wirestream diff --namespace trial") || !strings.Contains(stderr, "wirestream tail --namespace trial") {
		t.Fatalf("replay: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := runCLI(ctx, "", "diff", "--nats", url, "--namespace", "trial")
	if code != 0 || !strings.Contains(stdout, "0 here; 0 on both sides") || !strings.Contains(stdout, "only_in_a") {
		t.Fatalf("diff: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(ctx, "", "diff", "--nats", url, "--namespace", "trial", "--json")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) == 0 || !strings.Contains(lines[0], `"only":"a"`) {
		t.Fatalf("diff --json: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runCLI(ctx, "", "namespaces", "--nats", url)
	if code != 0 || !strings.Contains(stdout, "trial") || !strings.Contains(stdout, "done") {
		t.Fatalf("namespaces: exit %d\n%s", code, stdout)
	}
	if code, _, stderr = runCLI(ctx, "", "namespaces", "--nats", url, "--drop", "trial"); code != 0 {
		t.Fatalf("namespaces --drop: exit %d\n%s", code, stderr)
	}
	if code, _, stderr = runCLI(ctx, "", "namespaces", "--nats", url); code != 0 || !strings.Contains(stderr, "no replay namespaces") {
		t.Fatalf("after --drop: exit %d\n%s", code, stderr)
	}
	if code, _, stderr = runCLI(ctx, "", "diff", "--nats", url, "--namespace", "trial", "--against", "trial"); code != 2 {
		t.Fatalf("diff against itself: exit %d\n%s", code, stderr)
	}
}
