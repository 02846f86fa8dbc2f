// Package outtest feeds generated stories through a real pipeline for the
// tests of the read API and webhooks.
package outtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

var words = strings.Fields(`water river harvest election minister council budget rail port grain cotton
	wheat bank rate currency inflation court judge protest strike border trade tariff gas pipeline oil
	school teacher hospital doctor vaccine flood drought storm quake bridge road airport pilot museum
	theatre festival football league coach striker goal title market shares bond export import factory
	mine gold copper solar wind power grid dam lake glacier forest fire police army parliament senate
	vote party leader mayor city village farmer herder sheep cattle silk carpet bazaar railway station`)

// Story is a generated input story; UZ stories are datelined Tashkent,
// the others Nairobi (KE).
type Story struct {
	URI, Version string
	UZ           bool
	Kill         bool
}

// Stories makes n distinct stories (dedupe keeps each: the bodies share no
// run of words), every third datelined in Kenya and the rest in Uzbekistan.
func Stories(seed uint64, from, n int) []Story {
	out := make([]Story, n)
	for i := range out {
		out[i] = Story{URI: fmt.Sprintf("urn:test:sub:%d:%d", seed, from+i), Version: "1", UZ: (from+i)%3 != 0}
	}
	return out
}

// JSONL encodes stories as ninjs JSON lines.
func JSONL(seed uint64, stories []Story) []byte {
	var b bytes.Buffer
	for i, s := range stories {
		r := rand.New(rand.NewPCG(seed, uint64(i)+uint64(len(s.URI))*7919))
		body := make([]string, 60)
		for j := range body {
			body[j] = words[r.IntN(len(words))]
		}
		dateline := "TASHKENT, Uzbekistan (AP) — "
		if !s.UZ {
			dateline = "NAIROBI, Kenya (AP) — "
		}
		m := map[string]any{"uri": s.URI, "version": s.Version, "versioncreated": time.Date(2024, 4, 2, 8, 0, i, 0, time.UTC).Format(time.RFC3339),
			"headline": fmt.Sprintf("Story %s %s", s.URI, body[0]), "body_text": dateline + strings.Join(body, " ") + "."}
		if s.Kill {
			m["pubstatus"] = "canceled"
			m["body_text"] = dateline + "This story has been withdrawn."
		}
		line, _ := json.Marshal(m)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Feed ingests stories and waits until the output stream holds want full
// stories in all.
func Feed(t testing.TB, p *wiringtest.Pipeline, seed uint64, stories []Story, want uint64) {
	t.Helper()
	ctx := pipelinetest.Context(t, 60*time.Second)
	res, err := fileingest.Files(ctx, p.JS, fileingest.Config{Names: p.Names, Source: "test"},
		[]fileingest.Input{{Name: "gen.jsonl", R: bytes.NewReader(JSONL(seed, stories))}}, new(bytes.Buffer))
	if err != nil || res.Rejected != 0 || res.Failed != 0 {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	pipelinetest.Eventually(t, 60*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, p.JS, p.Names.OutStream(), p.Names.OutAll()) >= want
	}, "the output stream did not reach %d stories", want)
}
