package dedupe

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	textkit "github.com/wirestream/wirestream/stages/internal/text"
)

// Fingerprint is the exact-content fingerprint of a story: the first 128
// bits of SHA-256 over its normalised headline and body (see Normalize).
// Two stories with the same Fingerprint carry the same text up to Unicode
// form, case, whitespace, punctuation and wire boilerplate.
type Fingerprint [16]byte

// tokens is the normalised form of a text: lower-case, folded words stored
// back to back in buf. It is reused through tokPool.
type tokens struct {
	buf   []byte
	start []int32 // start[i], end[i] bound token i in buf
	end   []int32
	group []int32 // parenthetical group of token i, 0 when outside parentheses
	hash  []uint64
	dirty bool // tokens were removed: buf has gaps until compact
}

var tokPool = sync.Pool{New: func() any {
	return &tokens{
		buf:   make([]byte, 0, 4096),
		start: make([]int32, 0, 512),
		end:   make([]int32, 0, 512),
		group: make([]int32, 0, 512),
		hash:  make([]uint64, 0, 512),
	}
}}

func (t *tokens) reset() {
	t.buf, t.start, t.end, t.group, t.hash = t.buf[:0], t.start[:0], t.end[:0], t.group[:0], t.hash[:0]
	t.dirty = false
}

func (t *tokens) n() int { return len(t.start) }

func (t *tokens) tok(i int) []byte { return t.buf[t.start[i]:t.end[i]] }

func (t *tokens) truncate(n int) {
	t.start, t.end, t.group = t.start[:n], t.end[:n], t.group[:n]
	if n == 0 {
		t.buf = t.buf[:0]
	} else {
		t.buf = t.buf[:t.end[n-1]]
	}
}

// remove deletes tokens [i, j) (used for boilerplate in the middle of a text).
func (t *tokens) remove(i, j int) {
	if i >= j {
		return
	}
	t.dirty = true
	t.start = append(t.start[:i], t.start[j:]...)
	t.end = append(t.end[:i], t.end[j:]...)
	t.group = append(t.group[:i], t.group[j:]...)
}

// Normalize returns the normalised words of text, the form that fingerprints
// and near-duplicate signatures are computed on:
//
//   - Unicode: letters are lower-cased; Latin letters with diacritics fold to
//     their base letter (precomposed and combining forms alike) and
//     ligatures to ASCII, by textkit.FoldRune; full-width forms fold to ASCII; zero-width and format characters
//     and apostrophes inside words are dropped.
//   - Whitespace and punctuation only separate words.
//   - Wire boilerplate is removed: a parenthesised agency tag anywhere
//     ("(AP) —", "(Reuters) -"), a trailing "(Reporting by …; Editing by …)"
//     credit, a trailing "Copyright 20xx The Associated Press. All rights
//     reserved." line and trailing agency tags ("— AFP", "dpa").
//
// Normalize is idempotent: Normalize(strings.Join(Normalize(x), " ")) equals
// Normalize(x).
func Normalize(text string) []string {
	t := tokPool.Get().(*tokens)
	defer tokPool.Put(t)
	t.reset()
	t.add(text, 1)
	t.stripBoilerplate()
	out := make([]string, t.n())
	for i := range out {
		out[i] = string(t.tok(i))
	}
	return out
}

// add appends the words of text; groups are numbered from firstGroup.
//
// A parenthetical group that holds one word, an agency name ("(AP)"), is
// dropped as soon as it closes: that is the first rule of stripBoilerplate,
// applied here so that the buffer needs no compaction afterwards (nearly
// every wire story starts with one). stripBoilerplate still applies the rule
// to a group left open at the end of the text.
func (t *tokens) add(text string, firstGroup int32) int32 {
	group, depth := firstGroup, 0
	groupFirst := 0 // index of the first token of the open depth-0 group
	inTok := false  // a plain local, not captured by a closure: it stays in a register
	for i := 0; i < len(text); {
		c := text[i]
		var r rune
		if c < utf8.RuneSelf {
			m := asciiClass[c]
			if m >= '0' { // a run of ASCII letters and digits
				if !inTok {
					t.openTok(depth, group)
					inTok = true
				}
				i = t.appendRun(text, i)
				continue
			}
			i++
			switch m {
			case clsApostrophe:
				// dropped, does not split
			case clsOpen:
				inTok = t.closeTok(inTok)
				if depth == 0 {
					group++
					groupFirst = len(t.start)
				}
				depth++
			case clsClose:
				inTok = t.closeTok(inTok)
				if depth > 0 {
					depth--
					if depth == 0 && len(t.start) == groupFirst+1 && agencies[string(t.tok(groupFirst))] {
						t.pop()
					}
				}
			default:
				inTok = t.closeTok(inTok)
			}
			continue
		}
		var size int
		r, size = utf8.DecodeRuneInString(text[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			inTok = t.closeTok(inTok)
			continue
		}
		switch {
		case r == '\u2019' || r == '\u2018':
			continue // curly apostrophes
		case isTypographic(r):
			inTok = t.closeTok(inTok) // curly quotes, dashes, no-break space: separators, without the table lookups below
			continue
		case r == '\u02bc' || r == '\u00ad' || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Mn, r):
			continue // apostrophes, soft hyphen, zero-width, combining marks
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			b := byte(r - 0xFEE0)
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			if 'a' <= b && b <= 'z' || '0' <= b && b <= '9' {
				inTok = t.open(inTok, depth, group)
				t.buf = append(t.buf, b)
			} else {
				inTok = t.closeTok(inTok)
			}
			continue
		}
		if f, ok := textkit.FoldRune(r); ok {
			inTok = t.open(inTok, depth, group)
			t.buf = append(t.buf, f...)
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r) {
			inTok = t.open(inTok, depth, group)
			lr := unicode.ToLower(r)
			if f, ok := textkit.FoldRune(lr); ok {
				t.buf = append(t.buf, f...)
			} else if lr < utf8.RuneSelf && 'A' <= lr && lr <= 'Z' {
				t.buf = append(t.buf, byte(lr)+'a'-'A')
			} else {
				t.buf = utf8.AppendRune(t.buf, lr)
			}
			continue
		}
		inTok = t.closeTok(inTok)
	}
	inTok = t.closeTok(inTok)
	return group
}

// pop removes the last token, which add has closed.
func (t *tokens) pop() {
	n := len(t.start) - 1
	s := t.start[n]
	if n > 0 {
		s-- // the space before it
	}
	t.buf = t.buf[:s]
	t.start, t.end, t.group = t.start[:n], t.end[:n], t.group[:n]
}

// SWAR constants: one bit or value per byte of a 64-bit word.
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// inRange7 sets the high bit of each byte of v (whose bytes are all below
// 0x80) that lies in [lo, hi]; no addition carries into the next byte.
func inRange7(v uint64, lo, hi byte) uint64 {
	return (v + (0x80-uint64(lo))*ones) &^ (v + (0x7f-uint64(hi))*ones) & high
}

// appendRun copies the run of ASCII letters and digits that starts at
// text[i] to t.buf, lower-cased, and returns the index after it. It reads
// eight bytes at a time: a byte's class and case come from range tests on
// the whole word (SWAR), and the word is stored in one write, so a short
// word costs one load and one store instead of a loop and a memmove.
func (t *tokens) appendRun(text string, i int) int {
	for i+8 <= len(text) {
		s := text[i : i+8]
		x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		v := x &^ high
		ascii := ^x & high
		upper := inRange7(v, 'A', 'Z') & ascii
		alnum := (inRange7(v, '0', '9') | inRange7(v|0x20*ones, 'a', 'z')) & ascii
		n := len(t.buf)
		if cap(t.buf)-n < 8 {
			t.buf = slices.Grow(t.buf, 8)
		}
		binary.LittleEndian.PutUint64(t.buf[n:n+8], x+upper>>2)
		stop := ^alnum & high
		if stop != 0 {
			l := bits.TrailingZeros64(stop) >> 3
			t.buf = t.buf[:n+l]
			return i + l
		}
		t.buf = t.buf[:n+8]
		i += 8
	}
	for i < len(text) {
		c := text[i]
		if byteClass[c] < '0' {
			break
		}
		t.buf = append(t.buf, byteClass[c])
		i++
	}
	return i
}

// isTypographic: the punctuation of wire copy outside ASCII (dashes, curly
// double quotes, ellipsis, bullets, guillemets, no-break space), which only
// separates words. TestTypographicSeparators checks that the general path
// of add would treat each of them so.
func isTypographic(r rune) bool {
	return r >= 0x2010 && r <= 0x2027 && r != 0x2018 && r != 0x2019 || r == 0xa0 || r == 0xab || r == 0xbb || r == 0x2039 || r == 0x203a
}

// open starts a token unless one is open; it returns true (open).
func (t *tokens) open(inTok bool, depth int, group int32) bool {
	if !inTok {
		t.openTok(depth, group)
	}
	return true
}

func (t *tokens) openTok(depth int, group int32) {
	if len(t.start) > 0 {
		t.buf = append(t.buf, ' ')
	}
	t.start = append(t.start, int32(len(t.buf)))
	if depth > 0 {
		t.group = append(t.group, group)
	} else {
		t.group = append(t.group, 0)
	}
}

// closeTok ends the open token, if any; it returns false (closed).
func (t *tokens) closeTok(inTok bool) bool {
	if inTok {
		t.end = append(t.end, int32(len(t.buf)))
	}
	return false
}

// ASCII classes: a letter or digit maps to its lower-case form (>= '0'),
// anything else to one of these.
const (
	clsSeparator = iota
	clsApostrophe
	clsOpen
	clsClose
)

// byteClass is asciiClass over all byte values: bytes of multi-byte UTF-8
// sequences are clsSeparator there, which ends an ASCII run.
var byteClass = func() (t [256]byte) {
	copy(t[:], asciiClass[:])
	return t
}()

var asciiClass = func() (t [128]byte) {
	for c := 0; c < 128; c++ {
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			t[c] = byte(c)
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c + 'a' - 'A')
		case c == '\'':
			t[c] = clsApostrophe
		case c == '(' || c == '[':
			t[c] = clsOpen
		case c == ')' || c == ']':
			t[c] = clsClose
		}
	}
	return t
}()

// agencies are wire names removed when they stand alone in parentheses or
// trail a text.
var agencies = map[string]bool{
	"ap": true, "reuters": true, "afp": true, "dpa": true, "ani": true, "pti": true,
	"efe": true, "ansa": true, "xinhua": true, "upi": true, "kyodo": true, "yonhap": true,
	"tass": true, "aap": true, "apa": true, "anp": true, "bernama": true, "sda": true,
	"ats": true, "belga": true, "ctk": true, "pap": true, "mti": true, "ntb": true, "tt": true,
	"ritzau": true, "stt": true, "ians": true, "kna": true, "wam": true, "spa": true, "qna": true,
}

var creditWords = map[string]bool{
	"reporting": true, "writing": true, "editing": true, "additional": true,
	"compiled": true, "edited": true, "reported": true, "written": true,
}

// stripBoilerplate removes wire boilerplate (see Normalize). Rules repeat
// until none applies so that the result is a fixed point.
func (t *tokens) stripBoilerplate() {
	// Agency tag alone in a parenthetical group, anywhere: "(AP)", "(Reuters)".
	// add has dropped those of closed groups; this finds one left open.
	for i := 0; i < t.n(); i++ {
		g := t.group[i]
		if g == 0 || (i > 0 && t.group[i-1] == g) || (i+1 < t.n() && t.group[i+1] == g) {
			continue
		}
		if agencies[string(t.tok(i))] {
			t.remove(i, i+1)
			i--
		}
	}
	for changed := true; changed && t.n() > 0; {
		changed = false
		n := t.n()
		// Trailing credit in parentheses: "(Reporting by X; Editing by Y)".
		if g := t.group[n-1]; g != 0 {
			i := n - 1
			for i > 0 && t.group[i-1] == g {
				i--
			}
			if creditWords[string(t.tok(i))] {
				t.truncate(i)
				changed = true
				continue
			}
		}
		// Trailing "copyright ... all rights reserved".
		if n >= 4 && string(t.tok(n-3)) == "all" && string(t.tok(n-2)) == "rights" && string(t.tok(n-1)) == "reserved" {
			for i := n - 4; i >= 0 && i >= n-16; i-- {
				if s := string(t.tok(i)); s == "copyright" || s == "c" && i+1 < n && isYear(t.tok(i+1)) {
					t.truncate(i)
					changed = true
					break
				}
			}
			if changed {
				continue
			}
		}
		// Trailing agency tag: "... — AFP".
		if agencies[string(t.tok(n-1))] {
			t.truncate(n - 1)
			changed = true
		}
	}
	t.compact()
}

// compact rewrites buf so that it holds the tokens separated by single
// spaces, with no gaps left by removals: buf is then the canonical joined
// form that fingerprints hash in one call.
func (t *tokens) compact() {
	if !t.dirty {
		return // add wrote tokens one space apart; truncate keeps that
	}
	t.dirty = false
	w := int32(0)
	for i := range t.start {
		if i > 0 {
			t.buf[w] = ' '
			w++
		}
		s, e := t.start[i], t.end[i]
		if s != w {
			copy(t.buf[w:], t.buf[s:e])
		}
		t.start[i], t.end[i] = w, w+(e-s)
		w += e - s
	}
	t.buf = t.buf[:w]
}

func isYear(b []byte) bool {
	if len(b) != 4 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// fingerprintOf hashes the joined tokens of headline and body (compacted
// by stripBoilerplate); the separator 0x1e keeps "a b" + "c" apart from
// "a" + "b c".
func fingerprintOf(h, b *tokens) Fingerprint {
	d := sha256.New()
	d.Write(h.buf)
	d.Write([]byte{0x1e})
	d.Write(b.buf)
	var sum [32]byte
	d.Sum(sum[:0])
	var fp Fingerprint
	copy(fp[:], sum[:16])
	return fp
}

// FingerprintOf returns the exact-content fingerprint of a headline and body.
func FingerprintOf(headline, body string) Fingerprint {
	h := tokPool.Get().(*tokens)
	b := tokPool.Get().(*tokens)
	defer tokPool.Put(h)
	defer tokPool.Put(b)
	h.reset()
	b.reset()
	h.add(headline, 1)
	h.stripBoilerplate()
	b.add(body, 1)
	b.stripBoilerplate()
	return fingerprintOf(h, b)
}
