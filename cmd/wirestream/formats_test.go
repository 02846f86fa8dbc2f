package main

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// `wirestream ingest` of an NITF file and an ANPA archive through a real
// pipeline: the archive is one story per message, every story comes out
// of the tag stage with its format's fields (slugline, urgency) and places;
// a truncated ANPA message is reported with file:line and its reason, and
// dead-lettered with the same origin and reason. --format forces a format
// and an unknown one is a usage error.
func TestIngestNITFAndANPAFiles(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "formats")
	nitf, anpa, bad := filepath.Join(dir, "nitf-story.xml"), filepath.Join(dir, "archive.anpa"), filepath.Join(dir, "bad-anpa-no-etx.anpa")
	if code, _, stderr := runCLI(t.Context(), "", "ingest", "--format", "telex", nitf); code != 2 || !strings.Contains(stderr, `--format "telex": use one of ninjs, ninjs2, ninjs3, newsml, nitf, anpa, iptc7901, text`) {
		t.Fatalf("--format telex: exit %d, %s", code, stderr)
	}
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	ctx := pipelinetest.Context(t, 60*time.Second)
	code, _, stderr := runCLI(ctx, "", "ingest", "--nats", l.NC.ConnectedUrl(), "--source", "wire", nitf, anpa, bad)
	for _, want := range []string{
		bad + ":1: rejected: ingest: invalid IPTC 7901/ANPA message: no ETX (0x03): the message is truncated",
		"ingest: 4 accepted, 0 already stored (duplicate publish), 1 rejected, 0 not stored",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	dl := deadLetters(t, l.JS, l.Names, 1)[0]
	if o, e := dl.Header.Get(proto.HeaderOrigin), dl.Header.Get(proto.HeaderError); o != bad+":1" || !strings.Contains(e, "no ETX (0x03)") {
		t.Errorf("dead letter from %q: %q", o, e)
	}
	// The NITF file forced as ANPA is rejected as not a wire message.
	code, _, stderr = runCLI(ctx, "", "ingest", "--nats", l.NC.ConnectedUrl(), "--format", "anpa", nitf)
	if code != 1 || !strings.Contains(stderr, nitf+":1: rejected: ingest: invalid IPTC 7901/ANPA message: does not start with SOH (0x01) or ZCZC") {
		t.Errorf("--format anpa on NITF: exit %d\n%s", code, stderr)
	}
	deadLetters(t, l.JS, l.Names, 2)

	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.OutAll()) >= 4
	}, "want the 4 stories published")
	stream, err := l.JS.Stream(ctx, l.Names.OutStream())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for seq := uint64(1); len(got) < 4; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("out %d: %v", seq, err)
		}
		if m.Subject != l.Names.OutAll() {
			continue
		}
		s, err := proto.UnmarshalJSON(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, p := range s.Place {
			if p.Rel == proto.RelLocated && p.Scheme == proto.SchemeCountry {
				codes = append(codes, p.Code)
			}
		}
		if s.Source != "wire" || s.Dedupe == nil || s.Dedupe.Status != proto.DedupeNew {
			t.Errorf("%s: source %q dedupe %+v", s.Slugline, s.Source, s.Dedupe)
		}
		got = append(got, s.Slugline+" u"+string(rune('0'+s.Urgency))+" "+strings.Join(codes, ","))
	}
	sort.Strings(got)
	want := []string{"BC-Curling-Results u5 CA", "BC-Dam-Level u3 CA", "BC-Quarry-Blast u1 US", "SKERRY-LIGHTHOUSE u4 GB"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("out stories %q\nwant        %q", got, want)
	}
}
