package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// mixedCorpus writes a JSONL feed of generated stories with a spread of
// urgencies, language tags (in several spellings), statuses (new, updates,
// exact resends, near copies, kills) and places, and returns its path and
// how many of its stories reach the output (everything but resends and
// near copies, which dedupe keeps on the audit subjects).
func mixedCorpus(t *testing.T, n int) string {
	t.Helper()
	items := corpus.Generate(corpus.Config{Stories: n, Size: 500, Seed: 16, DupRate: 0.3})
	langs := []string{"en", "en-GB", "EN", "fr", "uz", "", "En-us", "fr-CA"}
	var b strings.Builder
	var kills []*proto.Story
	write := func(s *proto.Story) {
		data, err := proto.MarshalJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteByte('\n')
	}
	for i, it := range items {
		s := it.Story
		s.Urgency = int32(i % 10) // 0: none
		s.Language = langs[i%len(langs)]
		write(s)
		if it.Kind == corpus.KindNew && i%6 == 0 {
			// Killed at the end: the same text, canceled, as agencies send kills.
			k := *s
			k.Version = "9"
			k.VersionCreated += proto.Time(time.Minute)
			k.PubStatus = proto.PubStatusCanceled
			kills = append(kills, &k)
		}
	}
	for _, k := range kills {
		write(k)
	}
	path := filepath.Join(t.TempDir(), "mixed.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// outStories reads every enriched story of ws.out.all, in order.
func outStories(t *testing.T, js jetstream.JetStream, n proto.Names) []*proto.Story {
	t.Helper()
	ctx := pipelinetest.Context(t, 20*time.Second)
	var out []*proto.Story
	err := pipeline.Subscribe(ctx, js, pipeline.SubscribeConfig{Names: n, FromStart: true}, func(d pipeline.Delivery) error {
		out = append(out, d.Story)
		if uint64(len(out)) == pipelinetest.StreamMsgs(t, js, n.OutStream(), n.OutAll()) {
			return pipeline.ErrStop
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// want is the independent oracle of a combined filter: it reads the story's
// own places and subjects (not the Ws-Nodes header, not pipeline.Filter).
type want struct {
	regions, topics []string // codes as tagged: "143", "UZ", "medtop:11000000"
	urgency         int
	language        string // primary subtag, lower case
	statuses        []string
}

func (w want) match(s *proto.Story) bool {
	if len(w.regions) > 0 && !slices.ContainsFunc(s.Place, func(p *proto.Place) bool { return slices.Contains(w.regions, p.Code) }) {
		return false
	}
	if len(w.topics) > 0 && !slices.ContainsFunc(s.Subject, func(sub *proto.Subject) bool { return slices.Contains(w.topics, sub.Code) }) {
		return false
	}
	if w.urgency > 0 && (s.Urgency == 0 || int(s.Urgency) > w.urgency) {
		return false
	}
	if w.language != "" {
		primary, _, _ := strings.Cut(strings.ToLower(s.Language), "-")
		if primary != w.language {
			return false
		}
	}
	if len(w.statuses) > 0 {
		st := s.Dedupe.Status
		if s.PubStatus == proto.PubStatusCanceled {
			st = "kill"
		}
		if !slices.Contains(w.statuses, st) {
			return false
		}
	}
	return true
}

func key(s *proto.Story) string { return s.URI + "@" + s.Version }

// TestTailCombinedFilters runs a real pipeline over a mixed corpus and
// tail with combined filters: each prints exactly the stories the oracle
// picks from the enriched output, each once (counted, not collected into a
// set), including stories announced on several matching nodes.
func TestTailCombinedFilters(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	url := l.NC.ConnectedUrl()
	feed := mixedCorpus(t, 120)
	ctx := pipelinetest.Context(t, 120*time.Second)
	if code, _, stderr := runCLI(ctx, "", "ingest", "--nats", url, "--source", "mixed", feed); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	// Everything through: output and audit together hold every accepted story.
	var accepted uint64
	pipelinetest.Eventually(t, 90*time.Second, func() bool {
		raw := pipelinetest.StreamMsgs(t, l.JS, l.Names.RawStream(), "")
		accepted = raw
		return raw > 0 && pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.OutAll())+
			pipelinetest.StreamMsgs(t, l.JS, l.Names.AuditStream(), "")+pipelinetest.StreamMsgs(t, l.JS, l.Names.DLQStream(), "") >= raw
	}, "pipeline did not take the corpus through")
	stories := outStories(t, l.JS, l.Names)
	kills := 0
	for _, s := range stories {
		if s.Canceled() {
			kills++
		}
	}
	t.Logf("%d raw, %d enriched stories on ws.out.all, %d kills", accepted, len(stories), kills)
	if kills == 0 {
		t.Fatal("the corpus has no kills in the output: the status filter would go untested")
	}

	cases := []struct {
		name string
		args []string
		want want
	}{
		{"region and topic", []string{"--region", "143", "--topic", "medtop:04000000"},
			want{regions: []string{"143"}, topics: []string{"medtop:04000000"}}},
		{"two regions, overlapping nodes", []string{"--region", "UZ,143"},
			want{regions: []string{"UZ", "143"}}},
		{"region, urgency, language", []string{"--region", "142", "--urgency", "5", "--language", "EN"},
			want{regions: []string{"142"}, urgency: 5, language: "en"}},
		{"topic and status", []string{"--topic", "medtop:04000000", "--status", "update,kill"},
			want{topics: []string{"medtop:04000000"}, statuses: []string{"update", "kill"}}},
		{"kills anywhere", []string{"--status", "kill"}, want{statuses: []string{"kill"}}},
		{"all filters", []string{"--region", "150", "--topic", "medtop:04000000", "--urgency", "8", "--language", "fr", "--status", "new,update,kill"},
			want{regions: []string{"150"}, topics: []string{"medtop:04000000"}, urgency: 8, language: "fr", statuses: []string{"new", "update", "kill"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expect := map[string]int{}
			for _, s := range stories {
				if c.want.match(s) {
					expect[key(s)]++
				}
			}
			if len(expect) < 2 || len(expect) == len(stories) {
				t.Fatalf("the oracle picks %d of %d stories: the case does not test a filter", len(expect), len(stories))
			}
			// Without --count tail runs until its context ends: every story
			// is stored already, so what it has printed by then is all it
			// prints (an extra or repeated story would show).
			tctx, cancel := context.WithTimeout(ctx, 4*time.Second)
			defer cancel()
			_, stdout, stderr := runCLI(tctx, "", append([]string{"tail", "--nats", url, "--from-start"}, c.args...)...)
			got := map[string]int{}
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				if line == "" {
					continue
				}
				s, err := proto.UnmarshalJSON([]byte(line))
				if err != nil {
					t.Fatalf("tail printed %q: %v (stderr %s)", line, err, stderr)
				}
				got[key(s)]++
			}
			var diff []string
			for k, n := range got {
				if expect[k] != n {
					diff = append(diff, fmt.Sprintf("%s printed %d times, want %d", k, n, expect[k]))
				}
			}
			for k := range expect {
				if got[k] == 0 {
					diff = append(diff, k+" missing")
				}
			}
			sort.Strings(diff)
			if len(diff) > 0 {
				t.Errorf("tail %v: %d printed, %d expected:\n%s\nstderr: %s", c.args, len(got), len(expect), strings.Join(diff, "\n"), stderr)
			}
			t.Logf("tail %v: %d stories", c.args, len(expect))
		})
	}

	// The newer ninjs formats on the live output: every line valid against
	// IPTC's schema, each matching story once.
	schemas := ninjsSchemas(t)
	for _, format := range []string{proto.FormatNinjs2, proto.FormatNinjs3} {
		t.Run("format "+format, func(t *testing.T) {
			w := want{regions: []string{"142"}}
			expect := map[string]int{}
			for _, s := range stories {
				if w.match(s) {
					expect[key(s)]++
				}
			}
			tctx, cancel := context.WithTimeout(ctx, 4*time.Second)
			defer cancel()
			_, stdout, stderr := runCLI(tctx, "", "tail", "--nats", url, "--from-start", "--region", "142", "--format", format)
			got := checkNinjsLines(t, schemas[format], format, []byte(stdout))
			if len(got) != len(expect) {
				t.Errorf("tail --format %s printed %d stories, want %d (stderr %s)", format, len(got), len(expect), stderr)
			}
			for k, n := range got {
				if n != 1 || expect[k] != 1 {
					t.Errorf("tail --format %s printed %s %d times, want %d", format, k, n, expect[k])
				}
			}
		})
	}
}
