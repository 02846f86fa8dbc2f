package wiring_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// Every kind of bad input reaches ws.dlq.ingest with its reason and origin,
// and the good story behind them is published: bad input never blocks the
// stream and is never dropped.
func TestDeadLettersEveryKindOfBadInput(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	names := proto.Live()
	ctx := pipelinetest.Context(t, 30*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	const maxBytes = 2048
	runCtx, cancel := context.WithCancel(context.Background())
	_, errc := wiring.RunStages(runCtx, js, wiring.Names(), wiring.Config{Names: names, MaxBytes: maxBytes}, nil)
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { cancel(); <-errc }) })

	feed := strings.Join([]string{
		`{"uri":"urn:bad:json","body_text":`,
		"{\"uri\":\"urn:bad:utf8\",\"body_text\":\"caf\xe9 au lait\"}",
		`{"uri":"urn:bad:empty","headline":"no body"}`,
		`{"uri":"urn:bad:large","body_text":"` + strings.Repeat("word ", maxBytes/5+10) + `"}`,
		`{"uri":"urn:bad:status","pubstatus":"deleted","body_text":"PARIS (AFP) - text"}`,
		`{"uri":"urn:bad:time","versioncreated":"last Tuesday","body_text":"PARIS (AFP) - text"}`,
		`{"uri":"urn:good:after","headline":"Rain in Lima","body_text":"LIMA, Peru (AP) — Heavy rain flooded roads in the north of Peru on Monday."}`,
	}, "\n")
	var report bytes.Buffer
	res, err := fileingest.Files(ctx, js, fileingest.Config{Names: names, Source: "bad", MaxBytes: maxBytes},
		[]fileingest.Input{{Name: "bad.jsonl", R: strings.NewReader(feed)}}, &report)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Rejected != 6 {
		t.Fatalf("ingest %+v, want 1 accepted, 6 rejected:\n%s", res, report.String())
	}
	want := map[string]string{
		"bad.jsonl:1": "invalid JSON", "bad.jsonl:2": "invalid UTF-8", "bad.jsonl:3": "empty body",
		"bad.jsonl:4": "too large", "bad.jsonl:5": `pubstatus "deleted"`, "bad.jsonl:6": "last Tuesday",
	}
	for origin, reason := range want {
		if !strings.Contains(report.String(), origin+": rejected: ") {
			t.Errorf("report lacks %s:\n%s", origin, report.String())
		}
		_ = reason
	}
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, js, names.DLQStream(), names.DLQ("ingest")) == 6 &&
			pipelinetest.StreamMsgs(t, js, names.OutStream(), names.OutAll()) == 1
	}, "dead letters %d, published %d", pipelinetest.StreamMsgs(t, js, names.DLQStream(), ""), pipelinetest.StreamMsgs(t, js, names.OutStream(), names.OutAll()))

	dlq, err := js.Stream(ctx, names.DLQStream())
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 6; seq++ {
		m, err := dlq.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		origin := m.Header.Get(proto.HeaderOrigin)
		reason, ok := want[origin]
		if !ok {
			t.Errorf("dead letter %d from unexpected origin %q", seq, origin)
			continue
		}
		delete(want, origin)
		if got := m.Header.Get(proto.HeaderError); !strings.Contains(got, reason) {
			t.Errorf("%s: reason %q does not mention %q", origin, got, reason)
		}
		if m.Header.Get(proto.HeaderErrorKind) != "permanent" || m.Header.Get(proto.HeaderStage) != "ingest" ||
			m.Header.Get(proto.HeaderOrigSubject) != names.Raw("bad") || len(m.Data) == 0 {
			t.Errorf("%s: dead letter headers %v, %d bytes", origin, m.Header, len(m.Data))
		}
	}
}
