package hostile_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

// An operator deletes one stage's consumer (nats consumer rm WS_WORK
// ws-tag) while the pipeline runs: the tag stage makes it again and the
// pipeline goes on; no stage stops, and stories ingested afterwards come
// out.
func TestDeletedConsumerIsRecreated(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	ctx := pipelinetest.Context(t, 60*time.Second)
	ingest := func(uri, body string) {
		t.Helper()
		story := `{"uri":"` + uri + `","body_text":"` + body + `"}`
		var report bytes.Buffer
		res, err := fileingest.Files(ctx, l.JS, fileingest.Config{Names: l.Names, Source: "op"}, []fileingest.Input{{Name: uri, R: strings.NewReader(story)}}, &report)
		if err != nil || res.Accepted != 1 {
			t.Fatalf("ingest %s: %+v %v %s", uri, res, err, report.String())
		}
	}
	out := func() uint64 { return pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.OutAll()) }
	ingest("urn:op:1", "LIMA, Peru (AP) — Heavy rain flooded roads in the north of Peru on Monday, officials said.")
	pipelinetest.Eventually(t, 30*time.Second, func() bool { return out() == 1 }, "first story not out")
	if err := l.JS.DeleteConsumer(ctx, l.Names.WorkStream(), "ws-tag"); err != nil {
		t.Fatal(err)
	}
	var tag *pipeline.Stage
	for _, st := range l.Stages {
		if st.Name() == "tag" {
			tag = st
		}
	}
	pipelinetest.Eventually(t, 30*time.Second, func() bool { return tag.Stats().ConsumerRecreated == 1 }, "tag's consumer not made again")
	ingest("urn:op:2", "OSLO, Norway (AP) — Snow closed schools across the Norwegian capital and delayed trains on Friday.")
	pipelinetest.Eventually(t, 30*time.Second, func() bool { return out() == 2 }, "story after the deletion not out: %d", out)
	l.Stop() // every stage still runs: Stop reports any that stopped with an error
}
