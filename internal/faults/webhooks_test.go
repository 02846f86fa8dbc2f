package faults_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/webhooks"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// TestKillWebhookProcessMidDelivery: two real processes deliver one webhook
// (`run --stages none --webhooks`); the one holding a post is killed with
// SIGKILL and a third starts; the receiver still accepts every story once
// per delivery id, signed, in output order.
func TestKillWebhookProcessMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	js, url := embeddedWithStreams(t)
	var mu sync.Mutex
	accepted := map[string]int{}
	var seqs []uint64
	var posts, bad, interrupted int
	inPost := make(chan struct{}, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case inPost <- struct{}{}:
		default:
		}
		time.Sleep(30 * time.Millisecond) // a post takes a while: the kill lands in one
		if r.Context().Err() != nil {     // the sender died mid-post
			mu.Lock()
			interrupted++
			mu.Unlock()
			return
		}
		mu.Lock()
		defer mu.Unlock()
		posts++
		if !webhooks.Verify("k", b, r.Header.Get(webhooks.HeaderSignature)) {
			bad++
		}
		id := r.Header.Get(webhooks.HeaderDelivery)
		if accepted[id] == 0 {
			seq, _ := strconv.ParseUint(r.Header.Get(webhooks.HeaderSeq), 10, 64)
			seqs = append(seqs, seq)
		}
		accepted[id]++
	}))
	defer rcv.Close()
	file := filepath.Join(t.TempDir(), "hooks.yaml")
	if err := os.WriteFile(file, []byte("webhooks:\n  - name: desk\n    url: "+rcv.URL+"\n    secret: k\n    timeout: 1s\n    backoff_min: 20ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hookArgs := []string{"run", "--nats", url, "--stages", "none", "--webhooks", file, "--log-level", "info"}
	a := start(t, "webhooks-a", hookArgs...)
	b := start(t, "webhooks-b", hookArgs...)
	for _, p := range []*proc{a, b} {
		pipelinetest.Eventually(t, 30*time.Second, func() bool { return strings.Contains(p.log.String(), "delivering webhooks") }, "%s did not start: %s", p.name, tail(p.log.String(), 2000))
	}
	pipe := start(t, "pipeline", "run", "--nats", url, "--log-level", "info")
	pipe.waitStarted(t, 4)
	const n = 60
	feed(t, js, n, 11)
	// Kill the process that holds the story being posted, after a few.
	pipelinetest.Eventually(t, 60*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(accepted) >= 10 }, "no deliveries")
	// Both processes die while a post is in flight: whichever held it.
	for len(inPost) > 0 {
		<-inPost
	}
	<-inPost
	a.kill(t)
	b.kill(t)
	c := start(t, "webhooks-c", hookArgs...)
	pipelinetest.Eventually(t, 120*time.Second, func() bool { return outCount(t, js) >= n }, "pipeline did not publish %d", n)
	pipelinetest.Eventually(t, 120*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(accepted) >= n }, "receiver accepted %d of %d", len(accepted), n)
	var want []uint64
	readAll(t, js, proto.Live().OutStream(), proto.Live().OutAll(), func(m jetstream.Msg) {
		md, _ := m.Metadata()
		want = append(want, md.Sequence.Stream)
	})
	mu.Lock()
	defer mu.Unlock()
	twice := 0
	for _, k := range accepted {
		if k > 1 {
			twice += k - 1
		}
	}
	t.Logf("%d posts for %d stories; %d cut by the kill; %d accepted again after it (same delivery id)", posts, len(accepted), interrupted, twice)
	if interrupted == 0 {
		t.Fatal("the kill did not land during a post")
	}
	if bad != 0 || len(accepted) != n || !slices.Equal(seqs, want) {
		t.Fatalf("bad signatures %d, accepted %d ids, order %v, want %v", bad, len(accepted), seqs, want)
	}
	c.stop(t)
	pipe.stop(t)
}
