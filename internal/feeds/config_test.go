package feeds_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/feeds"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{"AP_API_KEY": "s3cret-key"}
	getenv := func(k string) string { return env[k] }
	good := `feeds:
  - name: example-world
    url: http://127.0.0.1:8080/world.rss
    every: 30s
    format: auto
    headers: {X-Api-Key: "${AP_API_KEY}"}
  - name: wire
    url: https://wire.example/feed
    format: cursor-json
    rendition: nitf
`
	fs, err := feeds.Parse([]byte(good), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].Every != 30*time.Second || fs[0].Headers["X-Api-Key"] != "s3cret-key" || fs[1].Every != feeds.DefaultEvery || fs[1].Rendition != "nitf" {
		t.Errorf("feeds %+v", fs)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad name", "feeds:\n  - name: World\n    url: http://x/\n", `feed "World": name: "World" must be lower-case`},
		{"no url", "feeds:\n  - name: a\n", `feed "a": url: missing`},
		{"bad url", "feeds:\n  - name: a\n    url: ftp://x/\n", `feed "a": url: "ftp://x/" is not an http`},
		{"bad every", "feeds:\n  - name: a\n    url: http://x/\n    every: soon\n", `feed "a": every: "soon" is not a duration`},
		{"short every", "feeds:\n  - name: a\n    url: http://x/\n    every: 1ms\n", `feed "a": every: 1ms is under`},
		{"bad format", "feeds:\n  - name: a\n    url: http://x/\n    format: csv\n", `feed "a": format: "csv" is not one of`},
		{"missing env", "feeds:\n  - name: a\n    url: http://x/\n    headers: {Authorization: \"Bearer ${NOPE}\"}\n", `feed "a": headers.Authorization: environment variable NOPE is not set`},
		{"unknown field", "feeds:\n  - name: a\n    url: http://x/\n    evry: 30s\n", `field evry not found`},
		{"twice", "feeds:\n  - name: a\n    url: http://x/\n  - name: a\n    url: http://y/\n", `feed "a": name: listed twice`},
		{"unnamed", "feeds:\n  - url: http://x/\n", `feed 1: name: missing`},
		{"empty", "other: 1\n", `field other not found`},
		{"no feeds", "feeds: []\n", `no feeds`},
		{"short lease", "feeds:\n  - name: a\n    url: http://x/\n    every: 10s\n    lease: 5s\n", `feed "a": lease: 5s must be longer than every`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := feeds.Parse([]byte(tc.yaml), getenv)
			if !errors.Is(err, feeds.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Error("a secret in the error")
			}
		})
	}
}

// TestHeadersSentNotLogged: a feed's headers reach its server, not the
// host it redirects to, and never the logs.
func TestHeadersSentNotLogged(t *testing.T) {
	var otherGotKey atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "" {
			otherGotKey.Store(true)
		}
		_, _ = w.Write([]byte(rssFeed(rssItem("moved", "Moved item."))))
	}))
	defer other.Close()
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("X-Api-Key"))
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/feed", http.StatusFound)
			return
		}
		if r.Header.Get("X-Api-Key") != "s3cret-key" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(rssFeed(rssItem("a", "Alpha."))))
	}))
	defer srv.Close()
	fs, err := feeds.Parse([]byte("feeds:\n  - name: keyed\n    url: "+srv.URL+"/feed\n    every: 100ms\n    headers: {X-Api-Key: \"${KEY}\"}\n"+
		"  - name: moved\n    url: "+srv.URL+"/moved\n    every: 100ms\n    headers: {X-Api-Key: \"${KEY}\"}\n"),
		func(string) string { return "s3cret-key" })
	if err != nil {
		t.Fatal(err)
	}
	js := startJS(t)
	r := runEngine(t, js, "p1", fs...)
	eventually(t, func() bool { return raw(t, js, "keyed") == 1 && raw(t, js, "moved") == 1 }, "items stored")
	r.stop()
	if otherGotKey.Load() {
		t.Error("the API key was sent to the host the feed redirected to")
	}
	for _, e := range r.logs.All() {
		if strings.Contains(e.Message, "s3cret") || strings.Contains(strings.Join(fieldsOf(e.ContextMap()), " "), "s3cret") {
			t.Errorf("secret logged: %s %v", e.Message, e.ContextMap())
		}
	}
}

func fieldsOf(m map[string]any) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(toString(v), "\n", " "), "\t", " ")))
	}
	return out
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return ""
}

// TestReadmeExample: the --feeds file in the README is valid.
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## Connect your feeds")
	if i < 0 {
		t.Fatal("README has no Connect your feeds section")
	}
	s = s[i:]
	start := strings.Index(s, "```yaml\n")
	end := strings.Index(s[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block in the section")
	}
	fs, err := feeds.Parse([]byte(s[start+8:start+8+end]), func(k string) string {
		if k == "AP_API_KEY" {
			return "key"
		}
		return ""
	})
	if err != nil || len(fs) != 3 {
		t.Fatalf("README example: %v (%d feeds)", err, len(fs))
	}
}
