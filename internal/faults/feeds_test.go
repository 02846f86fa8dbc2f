package faults_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/feeds"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// growingFeed serves an RSS or JSON Feed whose items grow while the test
// runs (every poll a 200 with all items so far: publishes would show).
type growingFeed struct {
	mu    sync.Mutex
	n     int
	kind  string
	name  string
	polls int
	*httptest.Server
}

func (g *growingFeed) add() {
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
}

func (g *growingFeed) body() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.polls++
	var b strings.Builder
	switch g.kind {
	case "rss":
		b.WriteString(`<rss version="2.0"><channel><title>t</title>`)
		for i := 0; i < g.n; i++ {
			fmt.Fprintf(&b, `<item><guid>https://%s.example/%d</guid><title>%s item %d</title><description>Item %d of feed %s, written for the fault test.</description></item>`, g.name, i, g.name, i, i, g.name)
		}
		b.WriteString(`</channel></rss>`)
	default:
		b.WriteString(`{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[`)
		for i := 0; i < g.n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"https://%s.example/%d","title":"%s item %d","content_text":"Item %d of feed %s, written for the fault test."}`, g.name, i, g.name, i, i, g.name)
		}
		b.WriteString(`]}`)
	}
	return b.String()
}

// leaseHolders reads the holder of each feed's live lease.
func leaseHolders(t *testing.T, js jetstream.JetStream) map[string]string {
	t.Helper()
	ctx := pipelinetest.Context(t, 5*time.Second)
	kv, err := js.KeyValue(ctx, feeds.Bucket)
	if err != nil {
		return nil
	}
	_, leases, err := feeds.ReadAll(ctx, kv)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for f, l := range leases {
		if time.Now().Before(l.Expires) {
			out[f] = l.Holder
		}
	}
	return out
}

func holderPid(holder string) int {
	parts := strings.Split(holder, ":")
	if len(parts) < 3 {
		return 0
	}
	pid, _ := strconv.Atoi(parts[len(parts)-2])
	return pid
}

// Two processes with the same feeds file, the one holding the leases killed
// with SIGKILL mid-stream: the other takes every feed over, and each item
// is stored once in the raw history and ingested once.
func TestKillFeedPollerHoldingLeases(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs processes")
	}
	js, url := embeddedWithStreams(t)
	const perFeed = 40
	var gs []*growingFeed
	var file strings.Builder
	file.WriteString("feeds:\n")
	for i, kind := range []string{"rss", "jsonfeed", "rss"} {
		g := &growingFeed{kind: kind, name: fmt.Sprintf("feed-%d", i)}
		g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(g.body())) }))
		defer g.Close()
		gs = append(gs, g)
		fmt.Fprintf(&file, "  - name: %s\n    url: %s\n    every: 200ms\n    format: auto\n    lease: 1s\n", g.name, g.URL)
	}
	path := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		for range 5 {
			g.add()
		}
	}
	args := []string{"run", "--nats", url, "--stages", "ingest", "--feeds", path, "--log-format", "json"}
	a := start(t, "feeds-a", args...)
	a.waitStarted(t, 1)
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		h := leaseHolders(t, js)
		for _, g := range gs {
			if holderPid(h[g.name]) != a.cmd.Process.Pid {
				return false
			}
		}
		return true
	}, "process a holds every lease: %v", leaseHolders(t, js))
	b := start(t, "feeds-b", args...)
	b.waitStarted(t, 1)

	// Items keep coming; a is killed halfway, holding the leases.
	stopAdding := make(chan struct{})
	addDone := make(chan struct{})
	killed := make(chan time.Time, 1)
	go func() {
		defer close(addDone)
		for i := 5; i < perFeed; i++ {
			select {
			case <-stopAdding:
				return
			case <-time.After(60 * time.Millisecond):
			}
			for _, g := range gs {
				g.add()
			}
			if i == perFeed/2 {
				h := leaseHolders(t, js)
				held := 0
				for _, g := range gs {
					if holderPid(h[g.name]) == a.cmd.Process.Pid {
						held++
					}
				}
				t.Logf("killing a while it holds %d of %d leases", held, len(gs))
				a.kill(t)
				killed <- time.Now()
			}
		}
	}()
	<-addDone
	killedAt := <-killed
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		h := leaseHolders(t, js)
		for _, g := range gs {
			if holderPid(h[g.name]) != b.cmd.Process.Pid {
				return false
			}
		}
		return true
	}, "process b took every feed over: %v", leaseHolders(t, js))
	t.Logf("b holds every feed %s after the kill (lease 1s, every 200ms)", time.Since(killedAt).Round(time.Millisecond))
	names := proto.Live()
	for _, g := range gs {
		pipelinetest.Eventually(t, 30*time.Second, func() bool {
			return pipelinetest.StreamMsgs(t, js, names.RawStream(), names.Raw(g.name)) >= perFeed
		}, "%s: %d of %d items stored", g.name, pipelinetest.StreamMsgs(t, js, names.RawStream(), names.Raw(g.name)), perFeed)
	}
	// A few more polls of b: still nothing twice.
	polls := gs[0].polls
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		gs[0].mu.Lock()
		defer gs[0].mu.Unlock()
		return gs[0].polls >= polls+5
	}, "b polls on")
	total := 0
	for _, g := range gs {
		if n := pipelinetest.StreamMsgs(t, js, names.RawStream(), names.Raw(g.name)); n != perFeed {
			t.Errorf("%s: %d items stored, want %d", g.name, n, perFeed)
		}
		total += perFeed
	}
	// Downstream: each item ingested once.
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, js, names.WorkStream(), names.Work("ingest")) >= uint64(total)
	}, "ingested %d of %d", pipelinetest.StreamMsgs(t, js, names.WorkStream(), names.Work("ingest")), total)
	uris := map[string]int{}
	ctx := pipelinetest.Context(t, 30*time.Second)
	ws, err := js.Stream(ctx, names.WorkStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := ws.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := ws.GetMsg(ctx, seq)
		if err != nil || m.Subject != names.Work("ingest") {
			continue
		}
		uris[m.Header.Get(proto.HeaderStoryURI)]++
	}
	for _, g := range gs {
		for i := 0; i < perFeed; i++ {
			u := fmt.Sprintf("https://%s.example/%d", g.name, i)
			if uris[u] != 1 {
				t.Errorf("%s ingested %d times", u, uris[u])
			}
		}
	}
	if len(uris) != total {
		t.Errorf("%d stories ingested, want %d", len(uris), total)
	}
	out, _ := json.Marshal(leaseHolders(t, js))
	t.Logf("leases at the end: %s", out)
	b.stop(t)
}
