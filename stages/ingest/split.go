package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Record is one raw story cut from an input file: its bytes, the line it
// starts on (1-based) and its format.
type Record struct {
	Data   []byte
	Line   int
	Format string
}

// ErrSplit wraps errors of the input's framing (an unterminated JSON value).
// The records before it were delivered; the caller reports the rest.
var ErrSplit = errors.New("ingest: cannot split input")

// Split cuts an input into raw stories and calls fn for each, in order:
//
//   - JSON lines: a file whose first line is a complete JSON object holds one
//     story per non-empty line (a malformed line is still a record: ingest
//     rejects it with its line number);
//   - JSON: a pretty-printed object, several concatenated objects, or an
//     array of objects: one story per top-level object;
//   - NewsML-G2 (the input starts with '<'): one record, the whole document;
//   - plain text: one story per file, or per form-feed separated part.
//
// maxRecord bounds one record; a longer line or value is still delivered
// (truncated to maxRecord+1 bytes) so that ingest rejects it as too large.
func Split(r io.Reader, maxRecord int, fn func(Record) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xef, 0xbb, 0xbf}) {
		_, _ = br.Discard(3)
	}
	first, err := peekNonSpace(br)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	switch first {
	case '{':
		lines, err := peekLines(br)
		if err != nil && err != io.EOF {
			return err
		}
		if looksLikeJSONLines(lines) {
			return splitLines(br, maxRecord, fn)
		}
		return splitJSON(br, fn)
	case '[':
		return splitJSON(br, fn)
	case '<':
		data, err := io.ReadAll(br)
		if err != nil {
			return err
		}
		return fn(Record{Data: bytes.TrimSpace(data), Line: 1, Format: FormatNewsML})
	}
	return splitText(br, fn)
}

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		c := b[n-1]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c, nil
		}
		if n >= br.Size() {
			return 0, io.EOF
		}
	}
}

// peekLines returns the non-blank lines in the reader's buffer without
// consuming input.
func peekLines(br *bufio.Reader) ([][]byte, error) {
	b, err := br.Peek(br.Size())
	var lines [][]byte
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	return lines, err
}

// looksLikeJSONLines tells JSON lines from pretty-printed JSON by the first
// lines: one line only, or any line that is a whole JSON object by itself,
// means JSON lines (so a malformed first line is rejected alone, by its
// line number, instead of spoiling the file).
func looksLikeJSONLines(lines [][]byte) bool {
	if len(lines) == 1 {
		return true
	}
	for _, l := range lines {
		if isCompleteJSON(l) {
			return true
		}
	}
	return false
}

func splitLines(br *bufio.Reader, maxRecord int, fn func(Record) error) error {
	line := 0
	for {
		b, err := readLine(br, maxRecord)
		if len(b) > 0 || err == nil {
			line++
		}
		if t := bytes.TrimSpace(b); len(t) > 0 {
			rec := Record{Data: append([]byte(nil), t...), Line: line, Format: FormatNinjs}
			if ferr := fn(rec); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readLine reads one line; a line over maxRecord bytes is cut to
// maxRecord+1 bytes and the rest of it skipped.
func readLine(br *bufio.Reader, maxRecord int) ([]byte, error) {
	var out []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(out) <= maxRecord {
			room := maxRecord + 1 - len(out)
			if len(chunk) < room {
				room = len(chunk)
			}
			out = append(out, chunk[:room]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(out, "\r\n"), err
	}
}

// splitJSON cuts top-level JSON objects from a stream of concatenated values
// or from one array, tracking the line each starts on.
func splitJSON(br *bufio.Reader, fn func(Record) error) error {
	data, err := io.ReadAll(br)
	if err != nil {
		return err
	}
	line := 1
	depth, start, startLine := 0, -1, 0
	inArray := false
	var lx jsonLexer
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '\n' {
			line++
		}
		if !lx.structural(c) {
			continue
		}
		switch c {
		case '[':
			if depth == 0 && start < 0 && !inArray {
				inArray = true
				continue
			}
			depth++
		case '{':
			if depth == 0 {
				start, startLine = i, line
			}
			depth++
		case '}', ']':
			if c == ']' && depth == 0 && inArray {
				inArray = false
				continue
			}
			depth--
			if depth == 0 && start >= 0 {
				rec := Record{Data: append([]byte(nil), data[start:i+1]...), Line: startLine, Format: FormatNinjs}
				if err := fn(rec); err != nil {
					return err
				}
				start = -1
			}
			if depth < 0 {
				return fmt.Errorf("%w: unbalanced %q at line %d", ErrSplit, c, line)
			}
		}
	}
	if depth != 0 || lx.inString {
		return fmt.Errorf("%w: unterminated JSON value starting at line %d", ErrSplit, startLine)
	}
	return nil
}

// splitText delivers the whole input as one story, or one per part when
// parts are separated by form feeds.
func splitText(br *bufio.Reader, fn func(Record) error) error {
	data, err := io.ReadAll(br)
	if err != nil {
		return err
	}
	line := 1
	for _, part := range bytes.Split(data, []byte{'\f'}) {
		t := bytes.TrimSpace(part)
		if len(t) > 0 {
			lead := len(part) - len(bytes.TrimLeft(part, " \t\r\n"))
			rec := Record{Data: t, Line: line + bytes.Count(part[:lead], []byte{'\n'}), Format: FormatText}
			if err := fn(rec); err != nil {
				return err
			}
		}
		line += bytes.Count(part, []byte{'\n'})
	}
	return nil
}

// isCompleteJSON reports whether b is exactly one complete JSON object.
func isCompleteJSON(b []byte) bool {
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	depth := 0
	var lx jsonLexer
	for i, c := range b {
		if !lx.structural(c) {
			continue
		}
		switch c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i == len(b)-1
			}
		}
	}
	return false
}

// jsonLexer follows JSON strings byte by byte, so that braces and brackets
// inside strings are not taken for structure.
type jsonLexer struct{ inString, escaped bool }

// structural updates the state with c and reports whether c is outside any
// string (quotes themselves are not structural).
func (l *jsonLexer) structural(c byte) bool {
	if l.inString {
		switch {
		case l.escaped:
			l.escaped = false
		case c == '\\':
			l.escaped = true
		case c == '"':
			l.inString = false
		}
		return false
	}
	if c == '"' {
		l.inString = true
		return false
	}
	return true
}
