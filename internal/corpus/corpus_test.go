package corpus_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/internal/enrich"
	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

// The corpus is what it says: distinct stories stay new through the real
// dedupe stage, and the copies get the decision their kind implies.
func TestCorpusDecisions(t *testing.T) {
	items := corpus.Generate(corpus.Config{Stories: 1500, Seed: 7, DupRate: 0.2})
	data, err := corpus.JSONLines(items)
	if err != nil {
		t.Fatal(err)
	}
	var out, report bytes.Buffer
	if _, err := enrich.Run(context.Background(), wiring.Config{Names: proto.Live()}, []fileingest.Input{{Name: "corpus", R: bytes.NewReader(data)}}, enrich.Options{All: true}, &out, &report); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte{'\n'})
	if len(lines) != len(items) || report.Len() > 0 {
		t.Fatalf("%d lines for %d items; report: %s", len(lines), len(items), report.String())
	}
	want := map[corpus.Kind]string{corpus.KindNew: proto.DedupeNew, corpus.KindResend: proto.DedupeDuplicate,
		corpus.KindUpdate: proto.DedupeUpdate, corpus.KindNear: proto.DedupeNearDuplicate}
	wrong := map[string]int{}
	kinds := map[corpus.Kind]int{}
	for i, l := range lines {
		s, err := proto.UnmarshalJSON(l)
		if err != nil {
			t.Fatal(err)
		}
		kinds[items[i].Kind]++
		if s.Dedupe.Status != want[items[i].Kind] {
			wrong[string(items[i].Kind)+"->"+s.Dedupe.Status]++
		}
		if len(s.BodyText) < 5000 && items[i].Kind == corpus.KindNew {
			t.Fatalf("story %d is %d bytes", i, len(s.BodyText))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("decisions that do not match the kind: %v (kinds %v)", wrong, kinds)
	}
	for _, k := range []corpus.Kind{corpus.KindNew, corpus.KindResend, corpus.KindUpdate, corpus.KindNear} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the corpus", k)
		}
	}
}
