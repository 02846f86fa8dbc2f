package geo

import (
	"testing"

	"github.com/wirestream/wirestream/proto"
)

// The scanner finds names at every kind of word start: after a space, a
// line break, an opening parenthesis or curly quote, with a non-ASCII
// capital, and not inside a word.
func TestScanCitiesWordStarts(t *testing.T) {
	g, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	p := New(g)
	body := "ANKARA, Turkey (AP) — Flights to İzmir resumed.\n\nIstanbul airports reopened (Antalya too) and “Bursa” later. McIstanbul is a brand."
	s := &proto.Story{URI: "u", Located: "ANKARA, Turkey", BodyText: body}
	sc := &scratch{}
	p.analyze(s, sc)
	var got []string
	for _, h := range sc.cityHits {
		if h.rec >= 0 {
			got = append(got, body[h.start:h.end])
		}
	}
	want := []string{"İzmir", "Istanbul", "Antalya", "Bursa"}
	if len(got) != len(want) {
		t.Fatalf("cities %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("cities %q, want %q", got, want)
		}
	}
}

func TestMayStart(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c >= 'A' && c <= 'Z' || c >= 0x80
		for pos := 0; pos < 8; pos++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			w := uint64(0)
			for k := 7; k >= 0; k-- {
				w = w<<8 | uint64(b[k])
			}
			if got := mayStart(w); got != want {
				t.Fatalf("mayStart with byte %#x at %d = %v, want %v", c, pos, got, want)
			}
		}
	}
}
