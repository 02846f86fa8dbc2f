package tag_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
	textkit "github.com/wirestream/wirestream/stages/internal/text"
	"github.com/wirestream/wirestream/stages/tag"
	"github.com/wirestream/wirestream/stages/tag/geo"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/tagged.golden.gz from the current tagger")

// goldenPath records what the tag stage gives every story of the
// repository's testdata, so that a change made for speed (matcher,
// tokenizer, detection) can be checked to change no result. It is one line
// per story, gzipped (about 1 MB of text).
const goldenPath = "testdata/tagged.golden.gz"

// TestTagGolden tags every story of testdata (the labelled geo, cities,
// topic and language sets, the e2e and dedupe feeds, the wire, NewsML, the
// generated corpus and the benchmark stories) and compares, per story, the
// detected language, the places and subjects Handle gives (every field)
// and a digest of Explain, Rejected and RejectedCities with the golden file.
// Run with -update to rewrite it after a change that is meant to change
// results.
func TestTagGolden(t *testing.T) {
	in, err := ingest.New(ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := tag.New()
	if err != nil {
		t.Fatal(err)
	}
	g, err := geo.Load()
	if err != nil {
		t.Fatal(err)
	}
	p := geo.New(g)
	var stories []namedStory
	for _, raw := range append(append(testdataInputs(t), corpusInputs(t)...), extraGoldenInputs(t)...) {
		out, err := in.ParseAll(raw.data, raw.format)
		if err != nil {
			continue // the e2e feed holds broken stories on purpose
		}
		for i, s := range out {
			stories = append(stories, namedStory{fmt.Sprintf("%s #%d", raw.name, i), s})
		}
	}
	for _, lang := range []string{"en", "fr", "es", "de"} {
		stories = append(stories, namedStory{"bench " + lang, languageStory(t, lang)})
	}
	var b strings.Builder
	for _, ns := range stories {
		b.WriteString(goldenLine(t, st, p, ns))
		b.WriteByte('\n')
	}
	got := b.String()
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		zw.Write([]byte(got))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d stories", goldenPath, len(stories))
		return
	}
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	if len(gl) != len(wl) {
		t.Fatalf("%d stories tagged, golden file has %d", len(gl)-1, len(wl)-1)
	}
	bad := 0
	for i := range gl {
		if gl[i] != wl[i] {
			bad++
			if bad <= 10 {
				t.Errorf("story %d differs:\n got %s\nwant %s", i, gl[i], wl[i])
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d stories differ from %s", bad, len(stories), goldenPath)
	}
	t.Logf("%d stories as in %s", len(stories), goldenPath)
}

type namedStory struct {
	name string
	s    *proto.Story
}

// goldenLine is one story's results: name, detected language, Handle's
// places and subjects, and a digest of the explanations.
func goldenLine(t *testing.T, st *tag.Stage, p *geo.Parser, ns namedStory) string {
	t.Helper()
	detected := textkit.DetectLanguage(ns.s.Headline, ns.s.BodyText)
	s := *ns.s
	s.Place = append([]*proto.Place(nil), s.Place...)
	s.Subject = append([]*proto.Subject(nil), s.Subject...)
	res, err := st.Handle(context.Background(), &s)
	if err != nil || len(res) != 1 {
		t.Fatalf("%s: Handle: %v %v", ns.name, res, err)
	}
	out := res[0]
	var b strings.Builder
	fmt.Fprintf(&b, "%s\t%s\t%s\t", ns.name, detected, out.Language)
	for _, pl := range out.Place {
		fmt.Fprintf(&b, "%s:%s:%s:%d:%s", pl.Scheme, pl.Code, pl.Rel, pl.Relevance, pl.Name)
		if pl.Geometry != nil {
			fmt.Fprintf(&b, ":%s%v", pl.Geometry.Type, pl.Geometry.Coordinates)
		}
		b.WriteByte(' ')
	}
	b.WriteByte('\t')
	for _, sub := range out.Subject {
		fmt.Fprintf(&b, "%s:%s:%d:%s ", sub.Scheme, sub.Code, sub.Relevance, sub.Name)
	}
	// The explanations are long: a digest is enough to tell a change.
	ex, err := json.Marshal(struct {
		Explain  tag.Explanation
		Rejected []geo.Evidence
	}{st.Explain(out), p.Rejected(out)})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(ex)
	fmt.Fprintf(&b, "\t%s", hex.EncodeToString(sum[:8]))
	return b.String()
}

// extraGoldenInputs are the labelled stories testdataInputs leaves out:
// the French, Spanish and German set (as ninjs without a language, so that
// detection runs) and the cities sets.
func extraGoldenInputs(t *testing.T) []rawInput {
	t.Helper()
	var out []rawInput
	for _, l := range readLangStories(t) {
		b, _ := json.Marshal(map[string]string{"uri": "lang:" + l.ID, "headline": l.Headline, "body_text": l.Body})
		out = append(out, rawInput{"lang " + l.ID, b, ingest.FormatNinjs})
	}
	for _, file := range []string{"cities.jsonl", "cities-holdout.jsonl"} {
		f, err := os.ReadFile(filepath.Join("..", "..", "testdata", "geo", file))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(f))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l struct{ ID, Headline, Body string }
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(map[string]string{"uri": "city:" + l.ID, "headline": l.Headline, "body_text": l.Body})
			out = append(out, rawInput{"cities " + l.ID, b, ingest.FormatNinjs})
		}
	}
	return out
}
