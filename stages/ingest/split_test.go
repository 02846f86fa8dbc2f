package ingest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/stages/ingest"
)

func collect(t *testing.T, in string, max int) ([]ingest.Record, error) {
	t.Helper()
	var recs []ingest.Record
	err := ingest.Split(strings.NewReader(in), max, func(r ingest.Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name    string
		given   string
		lines   []int
		format  string
		wantErr error
	}{
		{"jsonl", "{\"uri\":\"a\"}\n\n{\"uri\":\"b\"}\n{bad\n", []int{1, 3, 4}, ingest.FormatNinjs, nil},
		{"jsonl with a bad first line", "{\"uri\":\n{\"uri\":\"b\"}\n", []int{1, 2}, ingest.FormatNinjs, nil},
		{"one bad line", "{\"uri\": \"a\", ", []int{1}, ingest.FormatNinjs, nil},
		{"jsonl crlf bom", "\ufeff{\"uri\":\"a\"}\r\n{\"uri\":\"b\"}\r\n", []int{1, 2}, ingest.FormatNinjs, nil},
		{"pretty object", "{\n  \"uri\": \"a\",\n  \"body_text\": \"x }\"\n}\n", []int{1}, ingest.FormatNinjs, nil},
		{"concatenated pretty", "{\n \"uri\": \"a\"\n}\n{\n \"uri\": \"b\"\n}", []int{1, 4}, ingest.FormatNinjs, nil},
		{"array", "[\n {\"uri\":\"a\"},\n {\"uri\":\"b\", \"x\":[1,2]}\n]", []int{2, 3}, ingest.FormatNinjs, nil},
		{"text", "\n\nHeadline\n\nBody.\n", []int{3}, ingest.FormatText, nil},
		{"text form feed", "one\n\f\ntwo\n\fthree", []int{1, 3, 4}, ingest.FormatText, nil},
		{"unterminated", "{\n \"uri\": \"a\"\n", nil, "", ingest.ErrSplit},
		{"empty", "  \n", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := collect(t, tt.given, 1<<20)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var lines []int
			for _, r := range recs {
				lines = append(lines, r.Line)
				if r.Format != tt.format {
					t.Errorf("format = %q, want %q", r.Format, tt.format)
				}
			}
			if !equalInts(lines, tt.lines) {
				t.Errorf("lines = %v, want %v", lines, tt.lines)
			}
		})
	}
}

func TestSplitLongLineIsRejectedNotLost(t *testing.T) {
	long := `{"uri":"a","body_text":"` + strings.Repeat("x", 300) + `"}`
	recs, err := collect(t, `{"uri":"z","body_text":"ok"}`+"\n"+long+"\n"+`{"uri":"b","body_text":"ok"}`, 100)
	if err != nil || len(recs) != 3 {
		t.Fatalf("recs=%d err=%v", len(recs), err)
	}
	st := newStage(t, ingest.Config{MaxBytes: 100})
	if _, err := st.Parse(recs[1].Data, recs[1].Format); !errors.Is(err, ingest.ErrTooLarge) || recs[1].Line != 2 {
		t.Errorf("long line: err=%v line=%d", err, recs[1].Line)
	}
	if _, err := st.Parse(recs[2].Data, recs[2].Format); err != nil {
		t.Errorf("record after the long line: %v", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
