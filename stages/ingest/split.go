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
//   - XML (the input starts with '<'): one record, the whole document, NITF
//     when its root element is <nitf>, else NewsML-G2;
//   - IPTC 7901 and ANPA 1312 (the input starts with SOH or ZCZC): one
//     record per message, cut before each SOH and each ZCZC that opens a
//     line (all in the format the first message's priority gives: a digit
//     is 7901); also when the input opens with other text and an SOH
//     followed by an STX comes within the first 64 KiB (that text is then
//     a record of its own, which ingest rejects);
//   - plain text: one story per file, or per form-feed separated part.
//
// It streams: the input is read once, a buffer at a time, and only the
// record being cut is held. maxRecord bounds one record; a longer line,
// value, document or part is still delivered, cut to maxRecord+1 bytes,
// and the rest of it skipped, so that ingest rejects it as too large with
// its origin. fn owns each Record's Data.
func Split(r io.Reader, maxRecord int, fn func(Record) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xef, 0xbb, 0xbf}) {
		_, _ = br.Discard(3)
	}
	first, line, err := skipSpace(br)
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
			return splitLines(br, line, maxRecord, fn)
		}
		return splitJSON(br, line, maxRecord, fn)
	case '[':
		return splitJSON(br, line, maxRecord, fn)
	case '<':
		head, _ := br.Peek(br.Size())
		return splitParts(br, line, maxRecord, xmlFormat(head), -1, fn)
	case soh, 'Z':
		if head, _ := br.Peek(br.Size()); first == soh || bytes.HasPrefix(head, []byte("ZCZC")) {
			return splitWire(br, line, maxRecord, wireHeadFormat(head), fn)
		}
	}
	// An archive may open with a line of its own before its first
	// message: SOH then STX in the first buffer make it wire copy (the
	// opening text is a record of its own, rejected), not one text story.
	head, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(head, soh); i >= 0 && bytes.IndexByte(head[i:], stx) > 0 {
		return splitWire(br, line, maxRecord, wireHeadFormat(head[i:]), fn)
	}
	return splitParts(br, line, maxRecord, FormatText, '\f', fn)
}

// SplitAs is Split for an input whose format is known (the --format flag):
// its framing is that format's, whatever the input looks like, and every
// record is labelled with it, so that a record that is not in the format
// is rejected as such. "" is Split; an unknown format is ErrUnknownFormat.
func SplitAs(r io.Reader, maxRecord int, format string, fn func(Record) error) error {
	if format == "" {
		return Split(r, maxRecord, fn)
	}
	if !KnownFormat(format) {
		return fmt.Errorf("%w %q (known: %v)", ErrUnknownFormat, format, Formats)
	}
	label := func(rec Record) error {
		rec.Format = format
		return fn(rec)
	}
	switch format {
	case FormatNITF, FormatNewsML, FormatText, FormatANPA, FormatIPTC7901:
	default: // the JSON formats: Split's framing of JSON
		return Split(r, maxRecord, label)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xef, 0xbb, 0xbf}) {
		_, _ = br.Discard(3)
	}
	_, line, err := skipSpace(br)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	switch format {
	case FormatText:
		return splitParts(br, line, maxRecord, FormatText, '\f', label)
	case FormatANPA, FormatIPTC7901:
		return splitWire(br, line, maxRecord, format, label)
	}
	return splitParts(br, line, maxRecord, format, -1, label)
}

// wireHeadFormat gives the format of a wire input from the header of its
// first message (in head, the start of the input): IPTC 7901 for a
// numeric priority, else ANPA.
func wireHeadFormat(head []byte) string {
	head = bytes.TrimLeft(head, blank)
	if len(head) > 0 && head[0] == soh {
		head = head[1:]
	} else {
		head = bytes.TrimPrefix(head, []byte("ZCZC"))
		if nl := bytes.IndexByte(head, '\n'); nl >= 0 && len(bytes.TrimSpace(head[:nl])) == 0 {
			head = head[nl+1:]
		}
	}
	if i := bytes.IndexAny(head, "\x02\n"); i >= 0 {
		head = head[:i]
	}
	if h, err := parseWireHeader(head); err == nil {
		return h.Format()
	}
	return FormatANPA
}

// splitWire cuts IPTC 7901 / ANPA messages: a record starts at each SOH and
// at each "ZCZC" that opens a line, and runs to the next; blank space
// around a record is trimmed. Text before the first message is a record of
// its own (ingest rejects it: it does not open with SOH).
func splitWire(br *bufio.Reader, line, maxRecord int, format string, fn func(Record) error) error {
	p := parts{rec: record{limit: maxRecord + 1}, line: line, format: format, fn: fn}
	lineStart := true
	for {
		chunk, rerr := br.ReadSlice('\n')
		atStart := lineStart
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, soh)
			if atStart && bytes.HasPrefix(chunk, []byte("ZCZC")) {
				i = 0
			}
			if i < 0 {
				p.add(chunk)
				break
			}
			p.add(chunk[:i])
			if err := p.emit(); err != nil {
				return err
			}
			p.add(chunk[i : i+1])
			chunk, atStart = chunk[i+1:], false
		}
		lineStart = rerr == nil
		if rerr == io.EOF {
			return p.emit()
		}
		if rerr != nil && rerr != bufio.ErrBufferFull {
			return rerr
		}
	}
}

// skipSpace consumes leading blank space and returns the first other byte
// (left unread) and the line it is on.
func skipSpace(br *bufio.Reader) (byte, int, error) {
	line := 1
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, line, err
		}
		b, _ = br.Peek(br.Buffered())
		i := 0
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
			i++
		}
		line += bytes.Count(b[:i], []byte{'\n'})
		if i < len(b) {
			_, _ = br.Discard(i)
			return b[i], line, nil
		}
		_, _ = br.Discard(i)
	}
}

// peekLines returns the non-blank lines in the reader's buffer without
// consuming input, trailing blank space trimmed (leading kept: an indented
// line is inside a pretty-printed value).
func peekLines(br *bufio.Reader) ([][]byte, error) {
	b, err := br.Peek(br.Size())
	var lines [][]byte
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		if len(bytes.TrimSpace(l)) > 0 {
			lines = append(lines, bytes.TrimRight(l, blank))
		}
	}
	return lines, err
}

// looksLikeJSONLines tells JSON lines from pretty-printed JSON by the first
// lines: one line only, or any line that is a whole JSON object by itself
// and not indented (pretty-printed ninjs 2.x has arrays of one-line
// objects, indented), means JSON lines (so a malformed first line is rejected alone, by its
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

// record collects one record's bytes up to a limit (maxRecord+1): what
// comes after is skipped, noting whether any of it was more than blank
// space (then the record is over the limit as it stands).
// parts builds the records of a splitter that cuts its input at
// separators: blank space before a part is skipped (its lines still
// counted), and a part's line is that of its first other byte.
type parts struct {
	rec       record
	line      int // the line of the next byte added
	started   bool
	startLine int
	format    string
	fn        func(Record) error
}

func (p *parts) add(b []byte) {
	if !p.started {
		t := bytes.TrimLeft(b, blank)
		p.line += bytes.Count(b[:len(b)-len(t)], []byte{'\n'})
		if len(t) == 0 {
			return
		}
		p.started, p.startLine, b = true, p.line, t
	}
	p.line += bytes.Count(b, []byte{'\n'})
	p.rec.add(b)
}

// emit delivers the part begun, if any.
func (p *parts) emit() error {
	if !p.started {
		return nil
	}
	p.started = false
	return p.fn(Record{Data: p.rec.take(), Line: p.startLine, Format: p.format})
}

type record struct {
	data  []byte
	limit int
	over  bool
}

func (r *record) add(b []byte) {
	room := r.limit - len(r.data)
	if room >= len(b) {
		r.data = append(r.data, b...)
		return
	}
	if room > 0 {
		r.data = append(r.data, b[:room]...)
		b = b[room:]
	}
	if !r.over && len(bytes.TrimLeft(b, blank)) > 0 {
		r.over = true
	}
}

// take returns the record's bytes, trailing blank space trimmed unless
// the record was cut (the cut must stay over the limit), and resets it.
func (r *record) take() []byte {
	d := r.data
	if !r.over {
		d = bytes.TrimRight(d, blank)
	}
	r.data, r.over = nil, false
	return d
}

// blank is the space trimmed around text and XML records.
const blank = " \t\r\n\v"

func splitLines(br *bufio.Reader, line, maxRecord int, fn func(Record) error) error {
	line--
	for {
		b, empty, err := readLine(br, maxRecord)
		if !empty || err == nil {
			line++
		}
		if len(b) > 0 {
			if ferr := fn(Record{Data: b, Line: line, Format: FormatNinjs}); ferr != nil {
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

// readLine reads one line and returns it without the blank space around
// it (empty: nothing at all was read); a line over maxRecord bytes is cut
// to maxRecord+1 bytes and the rest of it skipped.
func readLine(br *bufio.Reader, maxRecord int) (line []byte, empty bool, err error) {
	rec := record{limit: maxRecord + 1}
	started := false
	empty = true
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			empty = false
		}
		if !started {
			chunk = bytes.TrimLeft(chunk, blank)
			started = len(chunk) > 0
		}
		rec.add(chunk)
		if err == bufio.ErrBufferFull {
			continue
		}
		return rec.take(), empty, err
	}
}

// splitJSON cuts top-level JSON objects from a stream of concatenated values
// or from one array, tracking the line each starts on.
func splitJSON(br *bufio.Reader, line, maxRecord int, fn func(Record) error) error {
	depth, startLine := 0, 0
	inArray, inRecord := false, false
	rec := record{limit: maxRecord + 1}
	var lx jsonLexer
	for {
		chunk, rerr := br.ReadSlice('\n')
		from := 0 // where the record's bytes in chunk start
		for i, c := range chunk {
			if c == '\n' {
				line++
			}
			if !lx.structural(c) {
				continue
			}
			switch c {
			case '[':
				if depth == 0 && !inArray {
					inArray = true
					continue
				}
				depth++
			case '{':
				if depth == 0 {
					inRecord, startLine, from = true, line, i
				}
				depth++
			case '}', ']':
				if c == ']' && depth == 0 && inArray {
					inArray = false
					continue
				}
				depth--
				if depth == 0 && inRecord {
					rec.add(chunk[from : i+1])
					if err := fn(Record{Data: rec.take(), Line: startLine, Format: FormatNinjs}); err != nil {
						return err
					}
					inRecord = false
				}
				if depth < 0 {
					return fmt.Errorf("%w: unbalanced %q at line %d", ErrSplit, c, line)
				}
			}
		}
		if inRecord {
			rec.add(chunk[from:])
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil && rerr != bufio.ErrBufferFull {
			return rerr
		}
	}
	if depth != 0 || lx.inString {
		return fmt.Errorf("%w: unterminated JSON value starting at line %d", ErrSplit, startLine)
	}
	return nil
}

// splitParts delivers the input as one record, or one per part when sep
// (a form feed for text; -1: none) separates parts; blank space around a
// part is trimmed, and its line is that of its first other byte.
func splitParts(br *bufio.Reader, line, maxRecord int, format string, sep int, fn func(Record) error) error {
	p := parts{rec: record{limit: maxRecord + 1}, line: line, format: format, fn: fn}
	for {
		chunk, rerr := br.ReadSlice('\n')
		for len(chunk) > 0 {
			i := -1
			if sep >= 0 {
				i = bytes.IndexByte(chunk, byte(sep))
			}
			if i < 0 {
				p.add(chunk)
				break
			}
			p.add(chunk[:i])
			if err := p.emit(); err != nil {
				return err
			}
			chunk = chunk[i+1:]
		}
		if rerr == io.EOF {
			return p.emit()
		}
		if rerr != nil && rerr != bufio.ErrBufferFull {
			return rerr
		}
	}
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
