package faults_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// A replay from an archive larger than its memory bound, SIGKILLed while it
// merges its spilled runs, continued with --resume: every story comes out of
// the namespace once, and the spill directory is gone at the end.
func TestReplayKilledMidMergeResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	const n = 6000
	js, url := embeddedWithStreams(t)
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive.jsonl")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)
	words := strings.Fields("officials in tashkent said the new budget would raise spending on schools roads hospitals farms water power rail ports courts police taxes wages pensions trade")
	for _, k := range rng.Perm(n) { // out of order: sorted externally
		var b strings.Builder
		for i := 0; i < 400; i++ { // distinct texts: dedupe keeps each
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		body := b.String()
		fmt.Fprintf(w, `{"uri":"urn:fault:replay:%05d","versioncreated":%q,"headline":"Budget story %d","body_text":%q}`+"\n",
			k, base.Add(time.Duration(k)*time.Minute).Format(time.RFC3339), k, body)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	spill := t.TempDir()
	args := []string{"replay", "--nats", url, "--from-files", archive, "--into", "killed", "--memory-mb", "16", "--temp-dir", spill, "--log-level", "warn"}
	ns, _ := proto.Namespace("killed")
	raw := func() uint64 {
		s, err := js.Stream(pipelinetest.Context(t, 5*time.Second), ns.RawStream())
		if err != nil {
			return 0
		}
		return s.CachedInfo().State.Msgs
	}
	p := start(t, "replay", args...)
	pipelinetest.Eventually(t, 120*time.Second, func() bool { return raw() >= n/3 }, "the replay stored %d of %d", raw, n)
	runs, _ := filepath.Glob(filepath.Join(spill, "wirestream-replay-killed", "run-*"))
	p.kill(t)
	stored := raw()
	if stored >= n {
		t.Fatalf("all %d stories were stored before the kill", stored)
	}
	if len(runs) < 2 {
		t.Fatalf("%d spilled runs at the kill: the archive was not merged from disk", len(runs))
	}
	t.Logf("replay killed with %d of %d stories stored, merging %d spilled runs", stored, n, len(runs))

	r := start(t, "replay --resume", append(args, "--resume")...)
	select {
	case <-r.done:
	case <-time.After(240 * time.Second):
		t.Fatalf("the resumed replay did not finish:\n%s", tail(r.log.String(), 2000))
	}
	if r.exitErr != nil {
		t.Fatalf("resumed replay: %v\n%s", r.exitErr, tail(r.log.String(), 2000))
	}
	seen := map[string]int{}
	out := readAll(t, js, ns.OutStream(), ns.OutAll(), func(m jetstream.Msg) {
		s, err := proto.Unmarshal(proto.EncodingJSON, m.Data())
		if err != nil {
			t.Fatal(err)
		}
		seen[s.URI]++
	})
	if out != n || len(seen) != n {
		t.Errorf("namespace output: %d stories, %d distinct; want %d once each", out, len(seen), n)
	}
	for uri, c := range seen {
		if c != 1 {
			t.Errorf("%s out %d times", uri, c)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(spill, "*")); len(left) != 0 {
		t.Errorf("spill directory left behind: %v", left)
	}
}
