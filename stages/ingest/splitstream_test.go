package ingest_test

import (
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/wirestream/wirestream/internal/input/inputtest"
	"github.com/wirestream/wirestream/stages/ingest"
)

// Every framing cuts a record over the limit to limit+1 bytes, skips the
// rest of it, and goes on with the next record at its right line; a record
// at the limit with blank space after it is not cut.
func TestSplitCutsLongRecords(t *testing.T) {
	const max = 100
	long := strings.Repeat("x", 300)
	exact := strings.Repeat("y", max)
	tests := []struct {
		name, given string
		lens        []int // record lengths
		lines       []int
	}{
		{"json lines", `{"a":1}` + "\n" + `{"b":"` + long + `"}` + "\n" + `{"c":2}` + "\n", []int{7, max + 1, 7}, []int{1, 2, 3}},
		{"json lines, long line leading blanks", `{"a":1}` + "\n" + "      " + `{"b":"` + long + `"}` + "\n", []int{7, max + 1}, []int{1, 2}},
		{"json array", "[\n" + `{"a":1},` + "\n" + `{"b":"` + long + "\",\n\"c\":[1,2,{}]}" + ",\n" + `{"c":2}` + "\n]", []int{7, max + 1, 7}, []int{2, 3, 5}},
		{"pretty objects", "{\n\"a\": 1\n}\n{\n\"b\": \"" + long + "\"\n}\n{\n\"c\":2\n}", []int{10, max + 1, 9}, []int{1, 4, 7}},
		{"text parts", "one\n\f\n" + long + "\n\n" + long + "\f  two", []int{3, max + 1, 3}, []int{1, 3, 5}},
		{"text at the limit, blank after", exact + strings.Repeat(" \n", 200) + "\fz", []int{max, 1}, []int{1, 201}},
		{"text one over, blank after", exact + "y" + strings.Repeat(" ", 200), []int{max + 1}, []int{1}},
		{"newsml", "\n\n<newsItem>" + long + "</newsItem>\n", []int{max + 1}, []int{3}},
		{"newsml at the limit", "<a>" + strings.Repeat("z", max-7) + "</a>" + strings.Repeat("\n", 500), []int{max}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tt.given), iotest.OneByteReader(strings.NewReader(tt.given))} {
				var lens, lines []int
				err := ingest.Split(r, max, func(rec ingest.Record) error {
					lens, lines = append(lens, len(rec.Data)), append(lines, rec.Line)
					return nil
				})
				if err != nil || !equalInts(lens, tt.lens) || !equalInts(lines, tt.lines) {
					t.Fatalf("lengths %v lines %v err %v; want %v %v", lens, lines, err, tt.lens, tt.lines)
				}
			}
		})
	}
}

// Split holds only the record being cut: a 256 MiB record (of each
// framing) costs about the limit, not its size. It used to read JSON,
// text and NewsML-G2 inputs whole (io.ReadAll).
func TestSplitStreamsHugeRecords(t *testing.T) {
	const size = 32 << 20 // 32 times the record bound
	const max = 1 << 20
	huge := func(prefix, suffix string) io.Reader {
		return io.MultiReader(strings.NewReader(prefix), inputtest.Repeated('a', size), strings.NewReader(suffix))
	}
	for _, c := range []struct {
		name string
		r    io.Reader
	}{
		{"json line", huge(`{"body_text":"`, `"}`+"\n"+`{"uri":"b"}`)},
		{"json array", huge(`[{"uri":"a"},{"body_text":"`, `"},{"uri":"b"}]`)},
		{"pretty json", huge("{\n\"body_text\": \"", "\"\n}\n{\n\"uri\":\"b\"\n}")},
		{"text", huge("LIMA (AP) — ", "\fnext")},
		{"newsml", huge("<newsItem>", "</newsItem>")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var lens []int
			var err error
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err = ingest.Split(c.r, max, func(rec ingest.Record) error {
				lens = append(lens, len(rec.Data))
				return nil
			})
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if alloc > 8*max {
				t.Errorf("splitting a %d MiB record allocated %d MiB", size>>20, alloc>>20)
			}
			if err != nil || !slices.Contains(lens, max+1) {
				t.Fatalf("records %v, err %v", lens, err)
			}
			t.Logf("%d MiB record: records %v, %d KiB allocated", size>>20, lens, alloc>>10)
		})
	}
}

// A reading error ends Split with that error.
func TestSplitReadError(t *testing.T) {
	boom := errors.New("disk gone")
	for _, prefix := range []string{`{"a":1}` + "\n", "[{\"a\":1},", "text", "<x>"} {
		err := ingest.Split(io.MultiReader(strings.NewReader(prefix), iotest.ErrReader(boom)), 100, func(ingest.Record) error { return nil })
		if !errors.Is(err, boom) {
			t.Errorf("%q: err = %v", prefix, err)
		}
	}
}
