package dedupe

import (
	"encoding/binary"
	"testing"
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
