package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/input/inputtest"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// deadLetters waits until the pipeline's dead-letter stream holds n
// messages and returns them in order.
func deadLetters(t *testing.T, js jetstream.JetStream, names proto.Names, n int) []*jetstream.RawStreamMsg {
	t.Helper()
	pipelinetest.Eventually(t, 60*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, js, names.DLQStream(), "") >= uint64(n)
	}, "want %d dead letters", n)
	ctx := pipelinetest.Context(t, 10*time.Second)
	stream, err := js.Stream(ctx, names.DLQStream())
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := uint64(1); len(out) < n; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("dead letter %d: %v", seq, err)
		}
		out = append(out, m)
	}
	return out
}

// A story whose uri or version is over its limit, or whose uri holds a
// control character, is rejected by `wirestream ingest` with file:line and
// the rule, stored anyway, and dead-lettered by the ingest stage with the
// same reason (permanent: at once). The file name, which a wire dropping
// files chooses, is printed escaped.
func TestIngestRejectsHostileURIAndVersion(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	dir := t.TempDir()
	name := filepath.Join(dir, "drop\x1b[2J.jsonl")
	lines := []string{
		`{"uri":"urn:h:1","headline":"Rain","body_text":"LIMA, Peru (AP) — Rain flooded roads."}`,
		`{"uri":"urn:h:` + strings.Repeat("x", 70000-6) + `","body_text":"LIMA, Peru (AP) — Rain."}`,
		`{"uri":"urn:h:2","version":"` + strings.Repeat("7", 129) + `","body_text":"LIMA, Peru (AP) — Rain."}`,
		`{"uri":"urn:h:\u202e3","body_text":"LIMA, Peru (AP) — Rain."}`,
	}
	if err := os.WriteFile(name, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := pipelinetest.Context(t, 60*time.Second)
	code, _, stderr := runCLI(ctx, "", "ingest", "--nats", l.NC.ConnectedUrl(), "--source", "hostile", name)
	printed := filepath.Join(dir, `drop\x1b[2J.jsonl`)
	for _, want := range []string{
		printed + ":2: rejected: ingest: invalid story: uri too long: 70000 bytes, limit 1024",
		printed + ":3: rejected: ingest: invalid story: version too long: 129 bytes, limit 128",
		printed + ":4: rejected: ingest: invalid story: uri has a control character at byte 6",
		"1 accepted, 0 already stored (duplicate publish), 3 rejected, 0 not stored",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%.2000s", want, stderr)
		}
	}
	if code != 1 || strings.Contains(stderr, "\x1b") {
		t.Errorf("exit %d, raw ESC printed: %v", code, strings.Contains(stderr, "\x1b"))
	}
	dl := deadLetters(t, l.JS, l.Names, 3)
	want := map[string]string{":2": "uri too long: 70000 bytes, limit 1024", ":3": "version too long: 129 bytes, limit 128", ":4": "uri has a control character at byte 6"}
	for _, m := range dl {
		origin := m.Header.Get(proto.HeaderOrigin)
		reason := m.Header.Get(proto.HeaderError)
		w, ok := want[origin[strings.LastIndexByte(origin, ':'):]]
		if !ok || !strings.Contains(reason, w) || m.Header.Get(proto.HeaderErrorKind) != "permanent" {
			t.Errorf("dead letter %s: %q (%s)", origin, reason, m.Header.Get(proto.HeaderErrorKind))
		}
		if strings.ContainsFunc(reason, proto.IsControl) || len(reason) > 600 {
			t.Errorf("dead letter reason not a short printable line: %.100q", reason)
		}
	}
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.OutAll()) == 1
	}, "the valid story was not published")
}

// Log lines carry no raw control character, whatever a field holds.
func TestLogEscapesControls(t *testing.T) {
	for _, format := range []string{"console", "json"} {
		var errb bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &errb, getenv: func(string) string { return "" }}
		log, err := newLogger(e, "info", format)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("dead-lettered", zap.String("story_uri", "urn:x:\x1b[2J\u009b31m\u202egpj.exe\x7f"), zap.String("file", "a\u2066b"))
		out := errb.String()
		if strings.ContainsFunc(strings.TrimSuffix(out, "\n"), func(r rune) bool { return proto.IsControl(r) && r != '\t' }) {
			t.Errorf("%s log line holds a control: %q", format, out)
		}
		if !strings.Contains(out, `\u202e`) || !strings.Contains(out, `\u009b`) {
			t.Errorf("%s log line lost the escaped characters: %q", format, out)
		}
	}
}

// The case that used to kill the process: a 6 MB story of nested arrays
// accepted by --max-bytes 8000000 overflowed the decoder's stack ("fatal
// error: stack overflow"). Now it is rejected with the reason, as is a
// deep element of a JSON array file, and the other stories go through.
func TestEnrichDeepJSON(t *testing.T) {
	dir := t.TempDir()
	n := 3_000_000
	deep := `{"uri":"urn:d:1","body_text":"LIMA, Peru (AP) — Rain.","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	lines := filepath.Join(dir, "deep.jsonl")
	array := filepath.Join(dir, "deep-array.json")
	if err := os.WriteFile(lines, []byte(deep+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	arr := "[\n" + `{"uri":"urn:d:2","body_text":"OSLO, Norway (AP) — Snow closed schools."},` + "\n" +
		`{"uri":"urn:d:3","body_text":"OSLO (AP) — x","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}\n]\n"
	if err := os.WriteFile(array, []byte(arr), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t.Context(), "", "enrich", "--max-bytes", "8000000", lines, array)
	for _, want := range []string{lines + ":1: rejected: ingest: invalid JSON: nesting deeper than 64", array + ":3: rejected: ingest: invalid JSON: nesting deeper than 64"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 || strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, "urn:d:2") {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// `wirestream ingest` reads gzip and zstd files, and streams: a story
// larger than the server's payload limit (8 MiB on the embedded server),
// in JSON lines or as a text file, is no longer a read error nor lost: it
// is stored cut to the story limit + 1 byte, reported with file:line as
// too large, and dead-lettered by the ingest stage with its origin.
func TestIngestCompressedAndOversize(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	dir := t.TempDir()
	story := func(uri, place string) string {
		return `{"uri":"` + uri + `","body_text":"` + place + ` (AP) — Rain flooded roads on Friday."}` + "\n"
	}
	nine := strings.Repeat("word ", 9<<20/5)
	files := []string{
		writeFile(t, filepath.Join(dir, "a.jsonl.gz"), inputtest.Gzip(t, []byte(story("urn:c:1", "LIMA, Peru")+story("urn:c:2", "OSLO, Norway")))),
		writeFile(t, filepath.Join(dir, "b.jsonl.zst"), inputtest.Zstd(t, []byte(story("urn:c:3", "ROME, Italy")))),
		writeFile(t, filepath.Join(dir, "big.jsonl"), []byte(story("urn:c:4", "CAIRO, Egypt")+`{"uri":"urn:c:big","body_text":"`+nine+`"}`+"\n"+story("urn:c:5", "LAGOS, Nigeria"))),
		writeFile(t, filepath.Join(dir, "big.txt"), []byte("LIMA, Peru (AP) — "+nine)),
	}
	ctx := pipelinetest.Context(t, 60*time.Second)
	code, _, stderr := runCLI(ctx, "", append([]string{"ingest", "--nats", l.NC.ConnectedUrl(), "--source", "gz"}, files...)...)
	for _, want := range []string{
		files[2] + ":2: rejected: ingest: story too large: 1048577 bytes, limit 1048576",
		files[3] + ":1: rejected: ingest: story too large: 1048577 bytes, limit 1048576",
		"ingest: 5 accepted, 0 already stored (duplicate publish), 2 rejected, 0 not stored",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	for _, m := range deadLetters(t, l.JS, l.Names, 2) {
		origin := m.Header.Get(proto.HeaderOrigin)
		if origin != files[2]+":2" && origin != files[3]+":1" || !strings.Contains(m.Header.Get(proto.HeaderError), "story too large: 1048577 bytes, limit 1048576") || len(m.Data) != 1<<20+1 {
			t.Errorf("dead letter %s: %q, %d bytes", origin, m.Header.Get(proto.HeaderError), len(m.Data))
		}
	}
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.OutAll()) == 5
	}, "want the 5 valid stories published")
}

// A decompression bomb: 1.3 MB of gzip inflating to just over 1 GiB of
// one byte. `ingest` stops reading it at proto.Limits.InflatedBytes and
// rejects the file by name, allocating a few megabytes; a smaller bomb
// (64 MiB of text) is one story over the limit, cut, stored and rejected.
func TestIngestGzipBomb(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	bomb := inputtest.GzipBomb(t, "bomb.txt.gz", proto.DefaultLimits.InflatedBytes+1<<20, 'a')
	small := inputtest.GzipBomb(t, "small.txt.gz", 64<<20, 'a')
	ctx := pipelinetest.Context(t, 120*time.Second)
	var code int
	var stderr string
	alloc := inputtest.Allocated(func() {
		code, _, stderr = runCLI(ctx, "", "ingest", "--nats", l.NC.ConnectedUrl(), bomb, small)
	})
	for _, want := range []string{
		bomb + ": rejected: inflates to more than 1073741824 bytes",
		small + ":1: rejected: ingest: story too large: 1048577 bytes, limit 1048576",
		"0 accepted, 0 already stored (duplicate publish), 2 rejected",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 || alloc > 64<<20 {
		t.Errorf("exit %d, %d MiB allocated", code, alloc>>20)
	}
	t.Logf("ingest of a %d MiB bomb: %d MiB allocated", (proto.DefaultLimits.InflatedBytes+1<<20)>>20, alloc>>20)
	deadLetters(t, l.JS, l.Names, 1)
}

// enrich reads compressed inputs too.
func TestEnrichCompressed(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "feed.jsonl.gz"), inputtest.Gzip(t, []byte(`{"uri":"urn:e:1","body_text":"LIMA, Peru (AP) — Rain flooded roads."}`+"\n")))
	code, stdout, stderr := runCLI(t.Context(), "", "enrich", f)
	if code != 0 || !strings.Contains(stdout, `"uri":"urn:e:1"`) {
		t.Fatalf("exit %d, %q, %s", code, stdout, stderr)
	}
}
