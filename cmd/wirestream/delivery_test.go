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
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wirestream/wirestream/internal/webhooks"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

// TestRunReadAPIWebhooksWebsocket: one `run` with --http (push and read
// with different tokens), --webhooks and --websocket: a story pushed over
// HTTP is readable from the read API, posted signed to the webhook,
// listed by `wirestream webhooks`, and a WebSocket NATS client connects.
func TestRunReadAPIWebhooksWebsocket(t *testing.T) {
	port, hport, wport := freePort(t), freePort(t), freePort(t)
	var mu sync.Mutex
	var posts []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if webhooks.Verify("hooksecret", b, r.Header.Get(webhooks.HeaderSignature)) {
			posts = append(posts, string(b))
		}
	}))
	defer rcv.Close()
	file := filepath.Join(t.TempDir(), "hooks.yaml")
	if err := os.WriteFile(file, []byte("webhooks:\n  - name: turkey\n    url: "+rcv.URL+"\n    region: TR\n    secret: ${HOOK_SECRET}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"HOOK_SECRET": "hooksecret", "WIRESTREAM_HTTP_TOKEN": "push", "WIRESTREAM_HTTP_READ_TOKEN": "read"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var runErr pipelinetest.SyncBuffer
	go func() {
		e := &env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &runErr, getenv: func(k string) string { return vars[k] }}
		done <- run(ctx, e, []string{"run", "--listen", "127.0.0.1:" + port, "--data", t.TempDir(), "--log-level", "warn",
			"--http", "127.0.0.1:" + hport, "--webhooks", file, "--websocket", "127.0.0.1:" + wport})
	}()
	base := "http://127.0.0.1:" + hport
	do := func(method, path, token, ctype, body string) (int, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	wire, err := os.ReadFile(testdata("wire.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		code, _ := do("GET", "/v1/stories", "read", "", "")
		return code == 200
	}, "read API not up: %s", runErr.String())
	if code, body := do("POST", "/v1/stories", "read", "text/plain", string(wire)); code != 401 {
		t.Fatalf("push with the read token: %d %s", code, body)
	}
	if code, body := do("POST", "/v1/stories", "push", "text/plain", string(wire)); code != 202 {
		t.Fatalf("push: %d %s", code, body)
	}
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		_, body := do("GET", "/v1/stories?region=western-asia", "read", "", "")
		return strings.Contains(body, `"located":"ANKARA, Turkey"`)
	}, "story not readable")
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(posts) == 1 && strings.Contains(posts[0], "ANKARA")
	}, "webhook not delivered")
	// The desk: its page without a token (it holds no data), its figures
	// with the read token only, and the webhook among them.
	if code, body := do("GET", "/", "", "", ""); code != 200 || !strings.Contains(body, "wirestream desk") {
		t.Fatalf("desk page: %d %.200s", code, body)
	}
	if code, body := do("GET", "/v1/desk/pipeline", "", "", ""); code != 401 {
		t.Fatalf("desk figures without the token: %d %.200s", code, body)
	}
	if code, body := do("GET", "/v1/desk/pipeline", "read", "", ""); code != 200 || !strings.Contains(body, `"name":"turkey"`) || !strings.Contains(body, `"name":"publish"`) {
		t.Fatalf("desk figures: %d %.300s", code, body)
	}
	code, stdout, stderr := runCLI(ctx, "", "webhooks", "--nats", "nats://127.0.0.1:"+port)
	if code != 0 || !strings.Contains(stdout, "turkey") || !strings.Contains(stdout, "ws-hook-turkey") {
		t.Fatalf("webhooks: exit %d %q %q", code, stdout, stderr)
	}
	wnc, err := nats.Connect("ws://127.0.0.1:" + wport)
	if err != nil {
		t.Fatalf("websocket: %v", err)
	}
	wnc.Close()
	if strings.Contains(runErr.String(), "hooksecret") {
		t.Fatal("the webhook secret was logged")
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

func TestRunDeliveryUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("webhooks:\n  - name: desk\n    url: http://x/\n    secret: s\n    region: atlantis\n"), 0o600)
	unset := filepath.Join(dir, "unset.yaml")
	_ = os.WriteFile(unset, []byte("webhooks:\n  - name: desk\n    url: http://x/\n    secret: ${NOT_SET}\n"), 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--webhooks", bad}, "webhook desk: region"},
		{[]string{"run", "--webhooks", unset}, "webhook desk: secret: environment variable NOT_SET is not set"},
		{[]string{"run", "--webhooks", filepath.Join(dir, "none.yaml")}, "no such file"},
		{[]string{"run", "--nats", "nats://127.0.0.1:1", "--websocket", "127.0.0.1:0"}, "does not go with --nats"},
		{[]string{"webhooks", "--webhooks", bad}, "webhook desk: region"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(context.Background(), "", tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}
