package dedupe

import "encoding/binary"

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
func minhash(sig []uint32, k int, ts ...*tokens) bool {
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
