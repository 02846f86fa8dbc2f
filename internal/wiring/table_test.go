package wiring_test

import (
	"strings"
	"testing"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

// The table's own contract: every stage has one constructor, the raw one
// only first; the last fans out; inputs chain each stage to the one before.
func TestTable(t *testing.T) {
	specs := wiring.Stages()
	if len(specs) < 2 {
		t.Fatalf("%d stages", len(specs))
	}
	n := proto.Live()
	seen := map[string]bool{}
	for i, s := range specs {
		if s.Name == "" || proto.Token(s.Name) != s.Name || seen[s.Name] {
			t.Errorf("stage %d: name %q must be a unique subject token", i, s.Name)
		}
		seen[s.Name] = true
		if (s.New == nil) == (s.NewRaw == nil) {
			t.Errorf("%s: exactly one of New and NewRaw must be set", s.Name)
		}
		if (s.NewRaw != nil) != (i == 0) {
			t.Errorf("%s: only the first stage reads raw input", s.Name)
		}
		if (s.Nodes != nil) != (i == len(specs)-1) {
			t.Errorf("%s: only the last stage fans out to nodes", s.Name)
		}
		stream, subject := wiring.Input(n, i)
		switch {
		case i == 0 && (stream != n.RawStream() || subject != n.RawAll()):
			t.Errorf("%s reads %s %s, want the raw history", s.Name, stream, subject)
		case i > 0 && (stream != n.WorkStream() || subject != n.Work(specs[i-1].Name)):
			t.Errorf("%s reads %s %s, want %s's output", s.Name, stream, subject, specs[i-1].Name)
		}
		cfg := wiring.StageConfig(wiring.Config{Names: n, Workers: 3}, i)
		if cfg.Name != s.Name || cfg.DeadLetter != n.DLQ(s.Name) || cfg.Durable != "ws-"+s.Name || cfg.Output == nil {
			t.Errorf("%s: runtime config %+v", s.Name, cfg)
		}
		if s.Workers == nil && cfg.Workers != 3 {
			t.Errorf("%s: %d workers for --workers 3", s.Name, cfg.Workers)
		}
	}
	if got := strings.Join(wiring.Names(), ","); got != "ingest,dedupe,tag,publish" {
		t.Errorf("stages %s", got)
	}
	ns, _ := proto.Namespace("trial")
	if d := wiring.StageConfig(wiring.Config{Names: ns}, 1).Durable; d != "ws-ws_ns_trial-dedupe" {
		t.Errorf("namespace durable %q", d)
	}
	over := wiring.StageConfig(wiring.Config{Names: n, Workers: 2, StageWorkers: map[string]int{"dedupe": 5}}, 1)
	if over.Workers != 5 {
		t.Errorf("StageWorkers override: %d workers", over.Workers)
	}
	if d := wiring.StageConfig(wiring.Config{Names: n, Workers: 2}, 1); d.Workers != 8 {
		t.Errorf("dedupe default with --workers 2: %d, want 4 × 2", d.Workers)
	}
}

func TestParseStages(t *testing.T) {
	for _, c := range []struct {
		given, want string
		err         bool
	}{
		{"all", "ingest,dedupe,tag,publish", false},
		{"", "ingest,dedupe,tag,publish", false},
		{"publish, ingest,publish", "ingest,publish", false},
		{"tag,nope", "", true},
	} {
		got, err := wiring.ParseStages(c.given)
		if (err != nil) != c.err || strings.Join(got, ",") != c.want {
			t.Errorf("ParseStages(%q) = %v, %v", c.given, got, err)
		}
	}
}
