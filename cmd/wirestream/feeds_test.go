package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

func TestRunFeedsBadFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "feeds.yaml")
	if err := os.WriteFile(bad, []byte("feeds:\n  - name: ok-feed\n    url: http://127.0.0.1:1/\n  - name: Bad_Name\n    url: http://127.0.0.1:1/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{bad, `feed "Bad_Name": name: "Bad_Name" must be lower-case`},
		{filepath.Join(dir, "missing.yaml"), "no such file"},
	} {
		code, _, stderr := runCLI(context.Background(), "", "run", "--feeds", tc.file)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
		}
	}
}

// TestRunFeeds: run --feeds polls an RSS feed into the pipeline; the
// stories come out, `wirestream feeds` shows the state, /metrics the
// per-feed metrics.
func TestRunFeeds(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<rss version="2.0"><channel><title>t</title>` +
			`<item><guid>https://site.example/1</guid><title>Bridge reopens</title><description>ANKARA, Turkey (AP) — The old bridge reopened on Monday after repairs.</description><category>Local</category></item>` +
			`<item><guid>https://site.example/2</guid><title>Library hours</title><description>The library opens on Sundays from January, the city said.</description></item>` +
			`</channel></rss>`))
	}))
	defer site.Close()
	file := filepath.Join(t.TempDir(), "feeds.yaml")
	if err := os.WriteFile(file, []byte("feeds:\n  - name: site\n    url: "+site.URL+"/rss\n    every: 200ms\n    headers: {X-Api-Key: \"${SITE_KEY}\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port, mport := freePort(t), freePort(t)
	url := "nats://127.0.0.1:" + port
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var runErr pipelinetest.SyncBuffer
	go func() {
		getenv := func(k string) string {
			if k == "SITE_KEY" {
				return "key-s3cret"
			}
			return ""
		}
		e := &env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &runErr, getenv: getenv}
		done <- run(ctx, e, []string{"run", "--listen", "127.0.0.1:" + port, "--data", t.TempDir(), "--log-level", "debug",
			"--metrics", "127.0.0.1:" + mport, "--feeds", file})
	}()
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	var stdout, stderr string
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		var code int
		code, stdout, stderr = runCLI(tctx, "", "feeds", "--nats", url)
		return code == 0 && strings.Contains(stdout, "site") && strings.Contains(stdout, "  2  ")
	}, "feeds table: %q %q (run: %s)", stdout, stderr, runErr.String())
	if !strings.HasPrefix(stdout, "FEED  HOLDER") || !strings.Contains(stdout, "https://site.example/") {
		t.Errorf("table %q", stdout)
	}
	code, out, errs := runCLI(tctx, "", "tail", "--nats", url, "--from-start", "--count", "2")
	if code != 0 || !strings.Contains(out, `"uri":"https://site.example/1"`) || !strings.Contains(out, `"located":"ANKARA, Turkey"`) || !strings.Contains(out, `"scheme":"feed:site"`) {
		t.Fatalf("tail: exit %d, %q %q", code, out, errs)
	}
	resp, err := http.Get("http://127.0.0.1:" + mport + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`wirestream_feed_items_total{feed="site"} 2`, `wirestream_feed_polls_total{feed="site",result="ok"}`, `wirestream_feed_lease_held{feed="site",holder=`, `wirestream_feed_last_success_timestamp_seconds{feed="site"}`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(runErr.String(), "s3cret") {
		t.Error("the feed's header was logged")
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exited %d: %s", code, runErr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("run did not stop")
	}
}
