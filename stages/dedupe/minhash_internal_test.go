package dedupe

import (
	"encoding/binary"
	"testing"

	"github.com/wirestream/wirestream/internal/corpus"
)

// TestHashWord: the 8-byte fast path hashes exactly like hashBytes.
func TestHashWord(t *testing.T) {
	for _, w := range []string{"a", "oil", "prices", "barrel", "12345678", "ünï", "1234567"} {
		b := append([]byte(w), "padding!"...)
		v := binary.LittleEndian.Uint64(b) & (^uint64(0) >> (64 - 8*uint(len(w))))
		if got, want := hashWord(v, len(w)), hashBytes([]byte(w)); got != want {
			t.Errorf("hashWord(%q) = %x, hashBytes = %x", w, got, want)
		}
	}
}

// BenchmarkMinhash is the signature alone over a ~6 KB corpus story's
// normalised words (the part of Record after normalisation).
func BenchmarkMinhash(b *testing.B) {
	it := corpus.Generate(corpus.Config{Stories: 1, Size: 6000, Seed: 3})[0]
	h, t := new(tokens), new(tokens)
	h.add(it.Story.Headline, 1)
	h.stripBoilerplate()
	t.add(it.Story.BodyText, 1)
	t.stripBoilerplate()
	sig := make([]uint32, 32)
	b.ReportMetric(float64(h.n()+t.n()), "words")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		minhash(sig, 3, h, t)
	}
}
