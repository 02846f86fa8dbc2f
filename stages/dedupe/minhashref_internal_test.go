package dedupe

import (
	"encoding/binary"
	"slices"
	"testing"

	"github.com/wirestream/wirestream/internal/corpus"
)

// minhashRef is minhash as of commit 15ac49b, before it was rewritten for
// speed; FuzzMinhashSameAsReference checks that both agree. It fills sig
// (len = number of bins) with the OPH signature of the concatenated tokens
// of ts using shingles of k words, and reports false when the text has no
// words.
func minhashRef(sig []uint32, k int, ts ...*tokens) bool {
	var hs []uint64
	first := ts[0]
	hs = first.hash[:0]
	for _, t := range ts {
		if cap(t.buf)-len(t.buf) < 8 {
			t.buf = append(t.buf, make([]byte, 8)...)[:len(t.buf)]
		}
		for i := 0; i < t.n(); i++ {
			s, e := int(t.start[i]), int(t.end[i])
			if e-s <= 8 {
				// Read 8 bytes (cap has room past the end) and keep the word's.
				w := binary.LittleEndian.Uint64(t.buf[s : s+8 : cap(t.buf)])
				w &= ^uint64(0) >> (64 - 8*uint(e-s))
				hs = append(hs, hashWord(w, e-s))
			} else {
				hs = append(hs, hashBytes(t.buf[s:e]))
			}
		}
	}
	first.hash = hs
	if len(hs) == 0 {
		return false
	}
	for i := range sig {
		sig[i] = ^uint32(0)
	}
	nb := uint64(len(sig))
	var filled uint64 // bitmask when len(sig) <= 64
	add := func(h uint64) {
		h = mix64(h)
		b := ((h >> 32) * nb) >> 32
		v := uint32(h)
		if v < sig[b] {
			sig[b] = v
		}
		if b < 64 {
			filled |= 1 << b
		}
	}
	if len(hs) < k {
		h := uint64(len(hs))
		for _, x := range hs {
			h = h*mulA + x
		}
		add(h)
	} else {
		for i := 0; i+k <= len(hs); i++ {
			h := uint64(k)
			for _, x := range hs[i : i+k] {
				h = h*mulA + x
			}
			add(h)
		}
	}
	// Densify: an empty bin borrows the value of the next non-empty bin to
	// its right (circularly), rehashed with the distance.
	n := len(sig)
	isEmpty := func(i int) bool {
		if i < 64 {
			return filled&(1<<uint(i)) == 0
		}
		return sig[i] == ^uint32(0)
	}
	for i := 0; i < n; i++ {
		if !isEmpty(i) {
			continue
		}
		for d := 1; d < n; d++ {
			j := (i + d) % n
			if !isEmpty(j) {
				sig[i] = uint32(mix64(uint64(sig[j]) ^ uint64(d)*mulB))
				break
			}
		}
	}
	return true
}

// sameAsRef runs minhash and minhashRef on fresh tokens of headline and
// body and reports any difference.
func sameAsRef(t *testing.T, headline, body string, k, bins int) {
	t.Helper()
	toks := func() (*tokens, *tokens) {
		h, b := new(tokens), new(tokens)
		h.add(headline, 1)
		h.stripBoilerplate()
		b.add(body, 1)
		b.stripBoilerplate()
		return h, b
	}
	h1, b1 := toks()
	h2, b2 := toks()
	s1, s2 := make([]uint32, bins), make([]uint32, bins)
	ok1, ok2 := minhash(s1, k, h1, b1), minhashRef(s2, k, h2, b2)
	if ok1 != ok2 || !slices.Equal(s1, s2) || !slices.Equal(h1.hash, h2.hash) {
		t.Fatalf("k=%d bins=%d %q / %q:\nminhash    %v %v\nminhashRef %v %v", k, bins, headline, body, ok1, s1, ok2, s2)
	}
}

// TestMinhashSameAsReference: the rewritten signature equals the loop form
// on corpus stories, for several shingle sizes and bin counts (above 64
// bins the empty-bin test reads the signature instead of the bit mask).
func TestMinhashSameAsReference(t *testing.T) {
	items := corpus.Generate(corpus.Config{Stories: 40, Size: 3000, Seed: 11})
	for _, k := range []int{1, 2, 3, 4, 5, 16} {
		for _, bins := range []int{1, 32, 64, 65, 128} {
			for _, it := range items {
				sameAsRef(t, it.Story.Headline, it.Story.BodyText, k, bins)
			}
			sameAsRef(t, "", "one two", k, bins)
			sameAsRef(t, "Headline", "", k, bins)
			sameAsRef(t, "", "", k, bins)
		}
	}
}

func FuzzMinhashSameAsReference(f *testing.F) {
	f.Add("Oil rises", "LONDON (AP) — Oil rose 2% on Monday, traders said.", uint8(3), uint8(32))
	f.Add("", "a b c d e f g h i j k l m n o p", uint8(16), uint8(100))
	f.Add("x", "supercalifragilistic expialidocious 12345678 123456789", uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, headline, body string, k, bins uint8) {
		sameAsRef(t, headline, body, int(k%maxShingle)+1, int(bins)%200+1)
	})
}
