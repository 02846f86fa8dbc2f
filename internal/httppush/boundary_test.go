package httppush_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/internal/httppush"
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
