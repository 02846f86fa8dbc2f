package desk

import "strings"

// Change is one run of a word diff: Op "=" (in both), "-" (only in the
// older text) or "+" (only in the newer one). Text keeps the words'
// spacing.
type Change struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// maxDiffCells bounds the table of the word diff (middle words of the old
// text × those of the new, after the common start and end are cut off):
// beyond it the middle is shown as removed and added whole.
const maxDiffCells = 4 << 20

// words splits s into words, each with the space after it.
func words(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexAny(s, " \n\t")
		if i < 0 {
			out = append(out, s)
			break
		}
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\n' || s[j] == '\t') {
			j++
		}
		out = append(out, s[:j])
		s = s[j:]
	}
	return out
}

// WordDiff compares two texts word by word (a longest common subsequence of
// words; spacing does not count) and returns the runs, merged.
func WordDiff(older, newer string) []Change {
	a, b := words(older), words(newer)
	same := func(x, y string) bool { return strings.TrimSpace(x) == strings.TrimSpace(y) }
	var out []Change
	emit := func(op, text string) {
		if text == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Op == op {
			out[n-1].Text += text
			return
		} else if n > 0 && !endsBlank(out[n-1].Text) && !startsBlank(text) {
			// The last word of one text meets a word of the other: keep
			// them apart, as they are in the text each comes from.
			text = " " + text
		}
		out = append(out, Change{op, text})
	}
	p := 0
	for p < len(a) && p < len(b) && same(a[p], b[p]) {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && same(a[len(a)-1-s], b[len(b)-1-s]) {
		s++
	}
	emit("=", strings.Join(b[:p], ""))
	ma, mb := a[p:len(a)-s], b[p:len(b)-s]
	if len(ma)*len(mb) > maxDiffCells {
		emit("-", strings.Join(ma, ""))
		emit("+", strings.Join(mb, ""))
	} else {
		// lcs[i][j]: the longest common subsequence of ma[i:] and mb[j:].
		w := len(mb) + 1
		lcs := make([]int32, (len(ma)+1)*w)
		for i := len(ma) - 1; i >= 0; i-- {
			for j := len(mb) - 1; j >= 0; j-- {
				if same(ma[i], mb[j]) {
					lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
				} else {
					lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(ma) && j < len(mb) {
			switch {
			case same(ma[i], mb[j]):
				emit("=", mb[j])
				i, j = i+1, j+1
			case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
				emit("-", ma[i])
				i++
			default:
				emit("+", mb[j])
				j++
			}
		}
		emit("-", strings.Join(ma[i:], ""))
		emit("+", strings.Join(mb[j:], ""))
	}
	emit("=", strings.Join(b[len(b)-s:], ""))
	return out
}

func endsBlank(s string) bool {
	return s != "" && strings.ContainsAny(s[len(s)-1:], " \n\t")
}

func startsBlank(s string) bool { return s != "" && strings.ContainsAny(s[:1], " \n\t") }
