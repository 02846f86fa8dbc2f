package httppush_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/internal/httppush"
	"github.com/wirestream/wirestream/internal/input/inputtest"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

type pushReply struct {
	Accepted int    `json:"accepted"`
	Error    string `json:"error"`
	Rejected []struct {
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"rejected"`
}

// pushServer serves a push handler on a real HTTP server in front of a
// running pipeline.
func pushServer(t *testing.T, cfg httppush.Config) (*wiringtest.Pipeline, *httptest.Server) {
	t.Helper()
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	cfg.Names = l.Names
	h, err := httppush.New(l.JS, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return l, srv
}

func push(t *testing.T, srv *httptest.Server, ct, encoding string, body io.Reader) (int, pushReply) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/stories", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r pushReply
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%d %q: %v", resp.StatusCode, b, err)
	}
	return resp.StatusCode, r
}

// HTTP push rejects a story whose uri or version is over its limit or
// whose uri holds a control character as ingest does: 422 naming each
// line and rule, nothing of the request stored.
func TestHTTPPushRejectsHostileURIAndVersion(t *testing.T) {
	l, srv := pushServer(t, httppush.Config{})
	body := strings.Join([]string{
		`{"uri":"urn:p:1","body_text":"LIMA, Peru (AP) — Rain flooded roads."}`,
		`{"uri":"urn:p:` + strings.Repeat("x", 70000-6) + `","body_text":"LIMA, Peru (AP) — Rain."}`,
		`{"uri":"urn:p:2","version":"` + strings.Repeat("7", 200) + `","body_text":"LIMA, Peru (AP) — Rain."}`,
		`{"uri":"urn:p:\u009b3","body_text":"LIMA, Peru (AP) — Rain."}`,
	}, "\n")
	code, r := push(t, srv, "application/x-ndjson", "", strings.NewReader(body))
	if code != http.StatusUnprocessableEntity || len(r.Rejected) != 3 {
		t.Fatalf("%d %+v", code, r)
	}
	for i, want := range []string{"uri too long: 70000 bytes, limit 1024", "version too long: 200 bytes, limit 128", "uri has a control character at byte 6"} {
		if got := r.Rejected[i]; got.Line != i+2 || !strings.Contains(got.Reason, want) || strings.ContainsFunc(got.Reason, proto.IsControl) {
			t.Errorf("rejection %d = %+v, want line %d with %q", i, got, i+2, want)
		}
	}
	if n := pipelinetest.StreamMsgs(t, l.JS, l.Names.RawStream(), ""); n != 0 {
		t.Errorf("a rejected request stored %d stories", n)
	}
}

// A deeply nested body (a JSON array whose second story nests 2 million
// arrays, within the body limit) is answered 422 with the line and the
// reason; it used to overflow the decoder's stack and kill the process.
func TestHTTPPushDeepJSON(t *testing.T) {
	_, srv := pushServer(t, httppush.Config{MaxBytes: 8 << 20})
	n := 2_000_000
	body := "[\n" + `{"uri":"urn:p:d1","body_text":"LIMA, Peru (AP) — Rain."},` + "\n" +
		`{"uri":"urn:p:d2","body_text":"LIMA (AP) — x","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}\n]"
	code, r := push(t, srv, "application/json", "", strings.NewReader(body))
	if code != http.StatusUnprocessableEntity || len(r.Rejected) != 1 || r.Rejected[0].Line != 3 ||
		!strings.Contains(r.Rejected[0].Reason, "invalid JSON: nesting deeper than 64") {
		t.Fatalf("%d %+v", code, r)
	}
}

// Content-Encoding gzip and zstd bodies are inflated; an unknown coding is
// 415, corrupt compressed data 400, and nothing of a refused body is
// stored.
func TestHTTPPushCompressed(t *testing.T) {
	l, srv := pushServer(t, httppush.Config{})
	lines := []byte(`{"uri":"urn:z:1","body_text":"LIMA, Peru (AP) — Rain flooded roads."}` + "\n" + `{"uri":"urn:z:2","body_text":"OSLO, Norway (AP) — Snow."}`)
	gz := inputtest.Gzip(t, lines)
	tests := []struct {
		name, encoding string
		body           []byte
		code           int
		want           string
	}{
		{"gzip", "gzip", gz, http.StatusAccepted, ""},
		{"zstd", "zstd", inputtest.Zstd(t, lines), http.StatusAccepted, ""},
		{"upper case", "GZIP", gz, http.StatusAccepted, ""},
		{"unknown coding", "br", gz, http.StatusUnsupportedMediaType, `Content-Encoding "br"`},
		{"two codings", "gzip, gzip", gz, http.StatusUnsupportedMediaType, "Content-Encoding"},
		{"truncated gzip", "gzip", gz[:len(gz)/2], http.StatusBadRequest, "corrupt compressed data"},
		{"not gzip", "gzip", lines, http.StatusBadRequest, "corrupt compressed data"},
	}
	stored := uint64(0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, r := push(t, srv, "application/x-ndjson", tt.encoding, bytes.NewReader(tt.body))
			if code != tt.code || !strings.Contains(r.Error, tt.want) {
				t.Fatalf("%d %+v, want %d with %q", code, r, tt.code, tt.want)
			}
			if code == http.StatusAccepted {
				stored += uint64(r.Accepted)
			}
		})
	}
	// The same two stories each time: stored once (duplicate window).
	if n := pipelinetest.StreamMsgs(t, l.JS, l.Names.RawStream(), ""); n != 2 || stored != 6 {
		t.Errorf("raw history holds %d, answered accepted %d", n, stored)
	}
}

// A gzip bomb (1.3 MB inflating to 1 GiB) is refused with 413 once its
// inflated body passes the body limit, with memory bounded by that limit,
// not by what it inflates to.
func TestHTTPPushGzipBomb(t *testing.T) {
	l, srv := pushServer(t, httppush.Config{})
	bomb, err := os.ReadFile(inputtest.GzipBomb(t, "bomb.json.gz", 64<<20, ' '))
	if err != nil {
		t.Fatal(err)
	}
	var code int
	var r pushReply
	alloc := inputtest.Allocated(func() {
		code, r = push(t, srv, "application/json", "gzip", bytes.NewReader(bomb))
	})
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(r.Error, "body over 8388608 bytes once inflated") {
		t.Fatalf("%d %+v", code, r)
	}
	if alloc > 64<<20 {
		t.Errorf("a %d KB body inflating to 64 MiB allocated %d MiB", len(bomb)>>10, alloc>>20)
	}
	if n := pipelinetest.StreamMsgs(t, l.JS, l.Names.RawStream(), ""); n != 0 {
		t.Errorf("stored %d", n)
	}
	t.Logf("%d KB bomb: %d MiB allocated", len(bomb)>>10, alloc>>20)
}
