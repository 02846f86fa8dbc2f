package ingest_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/wirestream/wirestream/stages/ingest"
)

type splitResult struct {
	recs []ingest.Record
	err  error
}

func splitAll(b []byte, max int, oneByte bool) splitResult {
	var res splitResult
	r := bytes.NewReader(b)
	fn := func(rec ingest.Record) error {
		res.recs = append(res.recs, rec)
		return nil
	}
	if oneByte {
		res.err = ingest.Split(iotest.OneByteReader(r), max, fn)
	} else {
		res.err = ingest.Split(r, max, fn)
	}
	return res
}

// FuzzSplit checks that splitting never panics, that every record is a
// non-empty part of the input with a line, and the streaming splitter with
// a small limit against itself with no limit: the same records at the same
// lines in the same formats, each the unlimited record cut to at most
// limit+1 bytes; and the same when the input arrives a byte at a time.
func FuzzSplit(f *testing.F) {
	for _, name := range []string{"feed.jsonl", "resend.jsonl", "update.jsonl", "wire.txt"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "e2e", name)); err == nil {
			f.Add(b, uint8(16))
		}
	}
	for _, name := range []string{"archive.anpa", "day.7901", "nitf-story.xml", "ninjs2-story.json"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "formats", name)); err == nil {
			f.Add(b, uint8(16))
		}
	}
	for _, s := range []string{"{\"a\":1}\n{\"b\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", "[{\"a\":\"}\"},\n{\"b\":[1,{}]}]", "one\f  two\n\n\f\fthree   ",
		"\ufeff<newsItem>   </newsItem>\n\n", "{\"a\":1}\n{\"b\":2}", "[{\"a\":1},{\"b\":\"]\"}]", "{\n\"a\": \"}\"\n}", "text\fmore", "\ufeff{}", "[", "{\"a\":\"\\\"}\"}", "{\n\"a\": \"\\\"{\"\n}\n{\n}", "[[{}],{\"x\":1}]", "{\"a\":1}\r\n   \r\n{\"b\":2}   \r\n", "]", "{"} {
		f.Add([]byte(s), uint8(4))
	}
	f.Fuzz(func(t *testing.T, b []byte, small uint8) {
		max := int(small)
		full := splitAll(b, len(b)+1, false)
		cut := splitAll(b, max, false)
		slow := splitAll(b, max, true)
		if errors.Is(full.err, ingest.ErrSplit) != errors.Is(cut.err, ingest.ErrSplit) || (full.err == nil) != (cut.err == nil) {
			t.Fatalf("errors differ: unlimited %v, limit %d %v", full.err, max, cut.err)
		}
		if len(full.recs) != len(cut.recs) {
			t.Fatalf("%d records unlimited, %d with limit %d", len(full.recs), len(cut.recs), max)
		}
		for i, want := range full.recs {
			got := cut.recs[i]
			if len(got.Data) > max+1 {
				t.Fatalf("record %d: %d bytes over a limit of %d", i, len(got.Data), max)
			}
			if !bytes.Equal(got.Data, want.Data[:min(len(want.Data), max+1)]) || got.Line != want.Line || got.Format != want.Format {
				t.Fatalf("record %d: %q line %d %s, unlimited %q line %d %s", i, got.Data, got.Line, got.Format, want.Data, want.Line, want.Format)
			}
			if len(want.Data) == 0 || want.Line < 1 || !bytes.Contains(b, want.Data) {
				t.Fatalf("record %d: %q at line %d is not a part of the input", i, want.Data, want.Line)
			}
		}
		if (slow.err == nil) != (cut.err == nil) || len(slow.recs) != len(cut.recs) {
			t.Fatalf("a byte at a time: %d records %v, at once: %d %v", len(slow.recs), slow.err, len(cut.recs), cut.err)
		}
		for i := range slow.recs {
			if !bytes.Equal(slow.recs[i].Data, cut.recs[i].Data) || slow.recs[i].Line != cut.recs[i].Line {
				t.Fatalf("record %d a byte at a time: %q line %d, at once %q line %d", i, slow.recs[i].Data, slow.recs[i].Line, cut.recs[i].Data, cut.recs[i].Line)
			}
		}
	})
}
