package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/internal/replay"
)

// On a terminal a log line never lands inside the progress bar: the bar's
// line is cleared first and the bar drawn again after the log line. For a
// namespace the bar counts what the stages processed.
func TestProgressAndLogsDoNotInterleave(t *testing.T) {
	var out bytes.Buffer
	p := &progress{w: &out, tty: true}
	p.update(replay.Progress{Total: 10, Stored: 10, Processed: 4})
	if !strings.Contains(out.String(), "10/10 stored, 4 processed") || !strings.Contains(out.String(), "[============                  ]") {
		t.Fatalf("bar %q", out.String())
	}
	out.Reset()
	_, _ = p.Write([]byte("WARN something\n"))
	got := out.String()
	if !strings.HasPrefix(got, "\r\x1b[KWARN something\n") || !strings.Contains(got[len("\r\x1b[KWARN something\n"):], "10/10 stored") {
		t.Fatalf("log through the bar: %q", got)
	}
	out.Reset()
	p.finish()
	if out.String() != "\n" {
		t.Errorf("finish wrote %q", out.String())
	}
}
