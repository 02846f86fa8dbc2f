package dedupe

import (
	"encoding/binary"
	"slices"
)

// Near-duplicate signatures: word shingles of the normalised text, hashed
// into a one-permutation MinHash (OPH) with rotation densification. OPH costs
// one hash per shingle instead of one per shingle per permutation, which is
// what keeps a decision within a few microseconds.

const (
	mulA = 0x9E3779B97F4A7C15
	mulB = 0xBF58476D1CE4E5B9
	mulC = 0x94D049BB133111EB
)

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= mulB
	x ^= x >> 27
	x *= mulC
	x ^= x >> 31
	return x
}

// hashWord hashes a word of n <= 8 bytes held little-endian in w; it
// equals hashBytes of the same bytes.
func hashWord(w uint64, n int) uint64 {
	h := uint64(n) * mulA
	if n == 8 {
		return mix64(mix64(h^w) ^ mulB)
	}
	return mix64(h ^ w ^ mulB)
}

// hashBytes hashes a word, 8 bytes at a time.
func hashBytes(b []byte) uint64 {
	h := uint64(len(b)) * mulA
	for len(b) >= 8 {
		h = mix64(h ^ binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	var w uint64
	for i, c := range b {
		w |= uint64(c) << (8 * i)
	}
	return mix64(h ^ w ^ mulB)
}

// hashString is a fast, stable (across processes) 64-bit hash of s with a
// seed, reading 8 bytes at a time. Not cryptographic: used for the raw
// content check, where a collision only turns a near_duplicate of
// similarity 1 into a duplicate.
func hashString(seed uint64, s string) uint64 {
	h := mix64(seed ^ uint64(len(s))*mulA)
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ mix64(w)) * mulA
		h ^= h >> 29
		s = s[8:]
	}
	var w uint64
	for i := 0; i < len(s); i++ {
		w |= uint64(s[i]) << (8 * i)
	}
	h = (h ^ mix64(w^0xFF)) * mulA
	return mix64(h)
}

// minhash fills sig (len = number of bins) with the OPH signature of the
// concatenated tokens of ts using shingles of k words. It reports false when
// the text has no words.
//
// A shingle's hash is the polynomial k·A^k + x0·A^(k-1) + … + x(k-1) of its
// word hashes (A = mulA, arithmetic mod 2^64), computed from precomputed
// powers so that its multiplications are independent of each other; the
// bin update is a branch-free min. minhashRef (a test file) is the loop
// form it replaced; FuzzMinhashSameAsReference checks they agree.
func minhash(sig []uint32, k int, ts ...*tokens) bool {
	first := ts[0]
	total := 0
	for _, t := range ts {
		total += t.n()
	}
	hs := slices.Grow(first.hash[:0], total)[:total]
	first.hash = hs
	j := 0
	for _, t := range ts {
		if cap(t.buf)-len(t.buf) < 8 {
			t.buf = append(t.buf, make([]byte, 8)...)[:len(t.buf)]
		}
		buf := t.buf[:cap(t.buf)]
		end := t.end[:len(t.start)]
		for i, s32 := range t.start {
			s, e := int(s32), int(end[i])
			if n := e - s; n <= 8 {
				// Read 8 bytes (cap has room past the end) and keep the word's.
				w := binary.LittleEndian.Uint64(buf[s:])
				w &= ^uint64(0) >> (64 - 8*uint(n))
				hs[j] = hashWord(w, n)
			} else {
				hs[j] = hashBytes(buf[s:e])
			}
			j++
		}
	}
	if len(hs) == 0 {
		return false
	}
	for i := range sig {
		sig[i] = ^uint32(0)
	}
	nb := uint64(len(sig))
	var filled uint64 // bit b for bin b < 64 (a shift by 64 or more is 0)
	add := func(h uint64) {
		h = mix64(h)
		b := ((h >> 32) * nb) >> 32
		sig[b] = min(sig[b], uint32(h))
		filled |= 1 << b
	}
	if len(hs) < k {
		h := uint64(len(hs))
		for _, x := range hs {
			h = h*mulA + x
		}
		add(h)
	} else if k == 3 {
		a := uint64(mulA)
		a2 := a * a     // mod 2^64
		c := 3 * a * a2 // 3·A^3
		for i := 2; i < len(hs); i++ {
			add(c + hs[i-2]*a2 + hs[i-1]*a + hs[i])
		}
	} else {
		var pw [maxShingle]uint64 // pw[i] = A^(k-1-i)
		p := uint64(1)
		for i := k - 1; i >= 0; i-- {
			pw[i] = p
			p *= mulA
		}
		c := uint64(k) * p // k·A^k
		for i := 0; i+k <= len(hs); i++ {
			h := c
			for m, x := range hs[i : i+k] {
				h += x * pw[m]
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

// sig8 reduces a MinHash value to the 8 bits kept in memory (b-bit MinHash).
func sig8(v uint32) byte { return byte(mix64(uint64(v)) >> 56) }

// similarity estimates Jaccard similarity from two 8-bit signatures: the
// fraction of equal bins, corrected for the 1/256 chance of equal bytes.
func similarity(a, b []byte) float64 {
	eq := 0
	for i := range a {
		if a[i] == b[i] {
			eq++
		}
	}
	m := float64(eq) / float64(len(a))
	j := (m - 1.0/256) / (1 - 1.0/256)
	if j < 0 {
		return 0
	}
	return j
}

// bandKey is the LSH bucket of band b of a full signature.
func bandKey(sig []uint32, b, rows int) uint32 {
	h := uint64(b+1) * mulC
	for _, v := range sig[b*rows : (b+1)*rows] {
		h = mix64(h ^ uint64(v))
	}
	return uint32(h >> 32)
}
