package enrich_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/internal/enrich"
	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

var data = new(wiring.Data) // the tag data, loaded once for these tests

func run(t *testing.T, workers int, all bool, inputs ...fileingest.Input) (enrich.Result, string, string) {
	t.Helper()
	var out, report bytes.Buffer
	res, err := enrich.Run(context.Background(), wiring.Config{Names: proto.Live(), Data: data}, inputs,
		enrich.Options{All: all, Workers: workers}, &out, &report)
	if err != nil {
		t.Fatal(err)
	}
	return res, out.String(), report.String()
}

// The stages run concurrently, dedupe in input order: the output is the
// same, byte for byte, as a run on one goroutine — decisions included, on
// a corpus of resends, updates and near copies.
func TestRunSameAsSequential(t *testing.T) {
	lines, err := corpus.JSONLines(corpus.Generate(corpus.Config{Stories: 600, Seed: 11, DupRate: 0.3, Size: 1500}))
	if err != nil {
		t.Fatal(err)
	}
	input := func() fileingest.Input { return fileingest.Input{Name: "corpus", R: bytes.NewReader(lines)} }
	r1, seq, _ := run(t, 1, true, input())
	r8, par, _ := run(t, 8, true, input())
	seq, par = withoutReceived(t, seq), withoutReceived(t, par)
	if r1 != r8 || seq != par {
		t.Fatalf("8 workers differ from one: %+v against %+v", r8, r1)
	}
	if r1.Audited == 0 || r1.Published == 0 || r1.Inputs != 600 {
		t.Fatalf("result %+v: the corpus should give both published and audited stories", r1)
	}
	if n := strings.Count(seq, "\n"); n != 600 {
		t.Fatalf("--all printed %d lines for 600 inputs", n)
	}
}

// withoutReceived drops the arrival time (each run's own clock) from JSON lines.
func withoutReceived(t *testing.T, out string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		s, err := proto.UnmarshalJSON([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		s.Received = 0
		j, err := proto.MarshalJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// A NewsML-G2 message with two text items (and a picture) gives two
// stories in document order; bad input is reported with file:line and reason and the rest goes
// on; without --all only what would be published is printed.
func TestRunOrderAndRejections(t *testing.T) {
	msg, err := os.ReadFile(filepath.Join("..", "..", "testdata", "newsml", "message-three-items.xml"))
	if err != nil {
		t.Fatal(err)
	}
	feed := strings.Join([]string{
		`{"uri":"urn:a","headline":"Rain in Lima","body_text":"LIMA, Peru (AP) — Heavy rain flooded roads in the north of Peru."}`,
		`{"uri":"urn:b","body_text":`,
		`{"uri":"urn:a","headline":"Rain in Lima","body_text":"LIMA, Peru (AP) — Heavy rain flooded roads in the north of Peru."}`,
	}, "\n")
	res, out, report := run(t, 4, false,
		fileingest.Input{Name: "msg.xml", R: bytes.NewReader(msg)},
		fileingest.Input{Name: "feed.jsonl", R: strings.NewReader(feed)})
	if res.Inputs != 4 || res.Rejected != 1 || res.Published != 3 || res.Audited != 1 {
		t.Fatalf("result %+v, want 4 inputs (1 message, 3 lines), 1 rejected, 3 published (2 items, urn:a), 1 audited (its resend)", res)
	}
	if !strings.HasPrefix(report, "feed.jsonl:2: rejected: ") || !strings.Contains(report, "invalid JSON") {
		t.Errorf("report %q", report)
	}
	var uris []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		s, err := proto.UnmarshalJSON([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, s.URI)
	}
	if len(uris) != 3 || uris[2] != "urn:a" {
		t.Fatalf("published %v", uris)
	}
	want, err := enrich.NewChain(context.Background(), wiring.Config{Names: proto.Live(), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close(context.Background())
	items, err := want.Ingest(context.Background(), msg, proto.RawMeta{})
	if err != nil || len(items) != 2 {
		t.Fatalf("the message ingests to %d stories: %v", len(items), err)
	}
	for i, s := range items {
		if uris[i] != s.URI {
			t.Errorf("story %d is %s, want %s (document order)", i, uris[i], s.URI)
		}
	}
}
