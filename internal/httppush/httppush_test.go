package httppush_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/internal/httppush"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

// HTTP push, end to end with a real HTTP client: stories posted in each
// format are stored (202 only after JetStream acknowledged) and come out
// of the pipeline; bad requests get a 4xx with the reason and store nothing.
func TestHTTPPush(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	h, err := httppush.New(l.JS, httppush.Config{Names: l.Names, Token: "s3cret", MaxBody: 64 << 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(ct, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/stories?source=push", strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	raw := func() uint64 { return pipelinetest.StreamMsgs(t, l.JS, l.Names.RawStream(), "") }

	good := `{"uri":"urn:push:1","headline":"Port strike ends","body_text":"ROTTERDAM, Netherlands (AP) — Dock workers ended a week-long strike on Friday."}` + "\n" +
		`{"uri":"urn:push:2","headline":"Snow in Oslo","body_text":"OSLO, Norway (AP) — Heavy snow closed schools in the Norwegian capital on Friday."}`
	bad := `{"uri":"urn:push:3","body_text":"fine"}` + "\n" + `{"uri":"urn:push:4", "body_text":` + "\n" + `{"uri":"urn:push:5"}`
	tests := []struct {
		name, ct, token, body string
		code                  int
		want                  string
	}{
		{"no token", "application/json", "", good, http.StatusUnauthorized, "bearer token"},
		{"wrong token", "application/json", "nope", good, http.StatusUnauthorized, "bearer token"},
		{"unsupported type", "image/png", "s3cret", good, http.StatusUnsupportedMediaType, "not supported"},
		{"no type", "", "s3cret", good, http.StatusUnsupportedMediaType, "Content-Type"},
		{"invalid lines", "application/x-ndjson", "s3cret", bad, http.StatusUnprocessableEntity, "2 of 3 stories invalid"},
		{"too large", "text/plain", "s3cret", strings.Repeat("word ", 20000), http.StatusRequestEntityTooLarge, "body over"},
		{"empty", "application/json", "s3cret", "  ", http.StatusBadRequest, "no story"},
	}
	before := raw()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := post(tt.ct, tt.token, tt.body)
			if code != tt.code || !strings.Contains(out["error"].(string), tt.want) {
				t.Fatalf("%d %v, want %d with %q", code, out, tt.code, tt.want)
			}
		})
	}
	if got := raw(); got != before {
		t.Fatalf("rejected requests stored %d stories", got-before)
	}
	if code, out := post("application/x-ndjson", "s3cret", good); code != http.StatusAccepted || out["accepted"].(float64) != 2 {
		t.Fatalf("good JSON lines: %d %v", code, out)
	}
	if got := raw(); got != before+2 {
		t.Fatalf("202 before the stories were stored: raw grew by %d", got-before)
	}
	if code, out := post("text/plain; charset=utf-8", "s3cret", "date 2024-05-03 LIMA, Peru (AP) — Rain flooded roads in the north of Peru."); code != http.StatusAccepted {
		t.Fatalf("text: %d %v", code, out)
	}
	want := uint64(3)
	if xml, err := os.ReadFile(filepath.Join("..", "..", "testdata", "newsml", "message-three-items.xml")); err == nil {
		code, out := post("application/vnd.iptc.g2.newsmessage+xml", "s3cret", string(xml))
		if code != http.StatusAccepted || out["accepted"].(float64) < 2 {
			t.Fatalf("NewsML-G2 message: %d %v", code, out)
		}
		want += uint64(out["accepted"].(float64))
	}
	// Wire formats: an ANPA archive sent as text/plain is one story per
	// message; NITF sent as application/xml is told from NewsML-G2 by its
	// root element.
	for _, c := range []struct{ file, ct string }{{"archive.anpa", "text/plain"}, {"day.7901", "application/x-iptc7901"}, {"nitf-story.xml", "application/xml"}, {"nitf-kill-ns.xml", "application/nitf+xml"}} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "formats", c.file))
		if err != nil {
			t.Fatal(err)
		}
		n := float64(bytes.Count(b, []byte{1}) + bytes.Count(b, []byte("ZCZC")))
		if n == 0 {
			n = 1
		}
		code, out := post(c.ct, "s3cret", string(b))
		if code != http.StatusAccepted || out["accepted"].(float64) != n {
			t.Fatalf("%s as %s: %d %v, want %v accepted", c.file, c.ct, code, out, n)
		}
		want += uint64(n)
	}
	resp, err := http.Get(srv.URL + "/v1/stories")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	pipelinetest.Eventually(t, 60*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.OutAll()) >= want
	}, "pushed stories not all published: want %d", want)
}

// Beyond MaxConcurrent requests at once, one more is refused with 503 and
// Retry-After before its body is read; once a slot frees, requests are
// served again.
func TestHTTPPushConcurrencyLimit(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	h, err := httppush.New(l.JS, httppush.Config{Names: l.Names, MaxConcurrent: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	story := `{"uri":"urn:push:c","headline":"Snow","body_text":"OSLO, Norway (AP) — Snow closed schools on Friday."}`
	pr, pw := io.Pipe()
	// Runs before srv.Close (cleanups run last first): a failed check must
	// not leave the first request waiting for its body and Close with it.
	t.Cleanup(func() { pw.CloseWithError(errors.New("test over")) })
	first := make(chan int, 1)
	go func() {
		resp, err := http.Post(srv.URL+"/v1/stories", "application/json", pr)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte(story[:20])); err != nil { // the first request is in, reading its body
		t.Fatal(err)
	}
	// The first request's bytes are sent, but its handler may not hold the
	// slot yet on a loaded machine: a request until then is served (202,
	// the same story again); once the slot is held, the next gets 503.
	var resp *http.Response
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		resp, err = http.Post(srv.URL+"/v1/stories", "application/json", strings.NewReader(story))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second request while the first holds the only slot: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	_, _ = pw.Write([]byte(story[20:]))
	pw.Close()
	if code := <-first; code != http.StatusAccepted {
		t.Fatalf("first request: %d", code)
	}
	resp, err = http.Post(srv.URL+"/v1/stories", "application/json", strings.NewReader(story))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("after the slot freed: %d", resp.StatusCode)
	}
}
