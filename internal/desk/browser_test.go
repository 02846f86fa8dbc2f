package desk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wirestream/wirestream/internal/desk"
	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/httpread"
	"github.com/wirestream/wirestream/internal/httpserve"
	"github.com/wirestream/wirestream/internal/metrics"
	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

const token = "desk-test-token"

// chromium finds Debian's chromium; without it the test skips, unless
// CI_REQUIRE_BROWSER is set (.ci/run installs it and sets that).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI_REQUIRE_BROWSER") != "" {
		t.Fatal("no chromium on PATH and CI_REQUIRE_BROWSER is set (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH: apt-get install chromium to run the browser tests")
	return ""
}

// browser starts headless chromium with a fresh profile and no network
// beyond loopback.
func browser(t *testing.T, w, h int) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("no-default-browser-check", true),
		chromedp.WindowSize(w, h),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(ctx, 4*time.Minute)
	return ctx, func() { tcancel(); cancel(); acancel() }
}

type deskServer struct {
	base string
	p    *wiringtest.Pipeline
}

func startDesk(t *testing.T) *deskServer {
	t.Helper()
	m := metrics.New()
	p := wiringtest.Start(t, pipeline.StreamsConfig{}, func(c *wiring.Config) { c.Metrics, c.Registry = m.Runtime, m.Registry })
	data := new(wiring.Data)
	ref := &fallback{}
	rh, err := httpread.New(p.JS, httpread.Config{Names: p.Names, Data: data, ReadToken: token, Fallback: ref}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := desk.New(p.JS, desk.Config{Names: p.Names, Data: data, Read: rh, Gatherer: m.Registry}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref.h = d
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = rh.Run(ctx) }()
	addr, err := httpserve.Serve(ctx, "127.0.0.1:0", rh)
	if err != nil {
		t.Fatal(err)
	}
	return &deskServer{base: "http://" + addr.String(), p: p}
}

type fallback struct{ h *desk.Handler }

func (f *fallback) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.h.ServeHTTP(w, r) }

// story is a test story as ingested (ninjs JSON line).
type story struct {
	URI, Version, Headline, Body, Status string
	At                                   time.Time
}

func (s story) line() string {
	m := map[string]any{"uri": s.URI, "version": s.Version, "versioncreated": s.At.UTC().Format(time.RFC3339), "headline": s.Headline, "body_text": s.Body}
	if s.Status != "" {
		m["pubstatus"] = s.Status
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (ds *deskServer) ingest(t *testing.T, lines ...string) {
	t.Helper()
	ctx := pipelinetest.Context(t, 30*time.Second)
	_, err := fileingest.Files(ctx, ds.p.JS, fileingest.Config{Names: ds.p.Names, Source: "desk-test"},
		[]fileingest.Input{{Name: "desk.jsonl", R: strings.NewReader(strings.Join(lines, "\n") + "\n")}}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
}

// outStories reads every full story of the output stream, latest version
// per uri by versioncreated (kills last): what the desk should list.
func (ds *deskServer) outStories(t *testing.T) map[string]*proto.Story {
	t.Helper()
	ctx := pipelinetest.Context(t, 20*time.Second)
	st, err := ds.p.JS.Stream(ctx, ds.p.Names.OutStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*proto.Story{}
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil || m.Subject != ds.p.Names.OutAll() {
			continue
		}
		s, err := outfilter.Decode(m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if prev := out[s.URI]; prev == nil || prev.PubStatus != proto.PubStatusCanceled && (s.PubStatus == proto.PubStatusCanceled || s.VersionCreated >= prev.VersionCreated) {
			out[s.URI] = s
		}
	}
	return out
}

func (ds *deskServer) waitOut(t *testing.T, n uint64) {
	t.Helper()
	pipelinetest.Eventually(t, 60*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, ds.p.JS, ds.p.Names.OutStream(), ds.p.Names.OutAll()) >= n
	}, "the output did not reach %d stories", n)
}

// expect is the uris, sorted, of the stories whose places include one of
// regions (or any) and whose subjects include one of topics (or any),
// read from the stories themselves.
func expect(stories map[string]*proto.Story, regions, topics []string) []string {
	var out []string
	for uri, s := range stories {
		okR, okT := len(regions) == 0, len(topics) == 0
		for _, p := range s.Place {
			okR = okR || slices.Contains(regions, p.Code)
		}
		for _, sub := range s.Subject {
			okT = okT || slices.Contains(topics, sub.Code)
		}
		if okR && okT {
			out = append(out, uri)
		}
	}
	sort.Strings(out)
	return out
}

// poll evaluates js in the page until it returns true.
func poll(t *testing.T, ctx context.Context, js, what string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 3000)`))
			t.Fatalf("%s: not seen in the page after 45 s (last error %v); page text:\n%s", what, err, html)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func visible(t *testing.T, ctx context.Context) []string {
	t.Helper()
	uris, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.desk.visible()`))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(uris)
	return uris
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if os.Getenv("WIRESTREAM_SCREENSHOTS") != "" {
		dir = filepath.Join("..", "..", "docs", "img")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", filepath.Join(dir, name), len(png))
}

// eval runs js in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// do runs steps in the page.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}
