package dedupe

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"unicode/utf8"

	textkit "github.com/wirestream/wirestream/stages/internal/text"
)

// foldDigest hashes what the fold gives for every rune, as add uses it.
func foldDigest(fold func(rune) (string, bool)) string {
	h := sha256.New()
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if f, ok := fold(r); ok {
			fmt.Fprintf(h, "%x=%s;", r, f)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// The fold that fingerprints and signatures are computed with is part of the
// persisted state: the digest is that of the table the stored state was
// built with (dedupe's own foldTable, before the fold moved to
// stages/internal/text). A change here invalidates every stored fingerprint.
func TestFoldStable(t *testing.T) {
	const want = "1d1ff3fad24a8c892be5384091b88e86cd3c8c61c924e386f7a0d62a3b6a2c0b"
	if got := foldDigest(textkit.FoldRune); got != want {
		t.Fatalf("fold digest %s, want %s: the fold changed, and with it dedupe's persisted state", got, want)
	}
}
