package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A miniature vocabulary in IPTC's JSON layout (labels shortened; this is a
// test fixture, not IPTC data).
const fixture = `{
"dateReleased": "2099-01-01T12:00:00+00:00",
"conceptSet": [
{"qcode": "medtop:11000000", "prefLabel": {"en-GB": "politics and government"}},
{"qcode": "medtop:20000593", "prefLabel": {"en-GB": "government"}, "broader": ["http://cv.iptc.org/newscodes/mediatopic/11000000"]},
{"qcode": "medtop:20000615", "prefLabel": {"en-GB": "legislative body"}, "broader": ["http://cv.iptc.org/newscodes/mediatopic/20000593"]},
{"qcode": "medtop:20000616", "prefLabel": {"en-GB": "lower house (legislature)"}, "broader": ["http://cv.iptc.org/newscodes/mediatopic/20000615"]},
{"qcode": "medtop:20000647", "prefLabel": {"en-GB": "political crisis"}, "broader": ["http://cv.iptc.org/newscodes/mediatopic/11000000"], "retired": "2025-03-31T12:00:00+00:00"}
]}`

func TestRun(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "cptall-en-GB.json")
	keep := filepath.Join(dir, "keep.tsv")
	out := filepath.Join(dir, "medtop.tsv")
	if err := os.WriteFile(in, []byte(fixture), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keep, []byte("# kept\n20000616\t20000615\tlower house (legislature)\n20000119\t02000000\tjustice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	if err := run(in, keep, out, "a test", &warn); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range strings.Split(string(got), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			rows = append(rows, l)
		}
	}
	want := []string{
		"11000000\t\tpolitics and government",
		"20000593\t11000000\tgovernment",
		"20000615\t20000593\tlegislative body",
		"20000616\t20000615\tlower house (legislature)",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(string(got), `"2099-01-01T12:00:00+00:00"`) || !strings.Contains(string(got), "CC BY 4.0") {
		t.Errorf("header lacks release date or licence:\n%s", got)
	}
	if !strings.Contains(warn.String(), "20000119") {
		t.Errorf("no warning for the dropped code: %q", warn.String())
	}
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(in, []byte(`{"conceptSet":[{"qcode":"medtop:1"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(in, "", "-", "", &bytes.Buffer{}); err == nil {
		t.Fatal("want an error for a malformed concept")
	}
	if err := run(filepath.Join(dir, "missing.json"), "", "-", "", &bytes.Buffer{}); err == nil {
		t.Fatal("want an error for a missing file")
	}
}
