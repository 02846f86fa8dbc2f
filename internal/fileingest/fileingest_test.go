package fileingest_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

const twoStories = `{"uri":"urn:f:1","headline":"Rain","body_text":"LIMA, Peru (AP) — Rain flooded roads."}
{"uri":"urn:f:2","headline":"Snow","body_text":"OSLO, Norway (AP) — Snow closed schools."}
`

// The same file ingested twice within the duplicate window is stored once,
// and the second run says so instead of reporting its stories accepted.
func TestReingestCountsDuplicates(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	ctx := pipelinetest.Context(t, 30*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, proto.Live(), pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	cfg := fileingest.Config{Names: proto.Live(), Source: "cli"}
	ingest := func() fileingest.Result {
		var report bytes.Buffer
		res, err := fileingest.Files(ctx, js, cfg, []fileingest.Input{{Name: "f.jsonl", R: strings.NewReader(twoStories)}}, &report)
		if err != nil || report.Len() > 0 {
			t.Fatalf("%v %s", err, report.String())
		}
		return res
	}
	if first := ingest(); first != (fileingest.Result{Accepted: 2}) {
		t.Fatalf("first run %+v", first)
	}
	if again := ingest(); again != (fileingest.Result{Duplicate: 2}) {
		t.Fatalf("second run %+v, want both already stored", again)
	}
	if n := pipelinetest.StreamMsgs(t, js, proto.Live().RawStream(), ""); n != 2 {
		t.Fatalf("raw history holds %d", n)
	}
}

// Ingest against a server where the pipeline never ran says what to start,
// before publishing anything.
func TestIngestWithoutStreams(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	var report bytes.Buffer
	_, err := fileingest.Files(pipelinetest.Context(t, 30*time.Second), js, fileingest.Config{Names: proto.Live(), Source: "cli"},
		[]fileingest.Input{{Name: "f.jsonl", R: strings.NewReader(twoStories)}}, &report)
	want := "no stream for ws.raw.> on " + srv.ClientURL() + ": is wirestream run (or run --stages ingest) started against this server?"
	if !errors.Is(err, pipeline.ErrNoRawStream) || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}
