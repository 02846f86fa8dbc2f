package topic

// table is an open-addressing hash table from non-zero uint64 keys to int32
// values, built once and then only read. Keys are already well-mixed hashes
// (word hashes, edgeKey), so their low bits index the slots directly; linear
// probing over interleaved key/value slots keeps a lookup to one
// cache line. It is several times faster than a Go map for the
// one-lookup-per-word workload of Tag.
type table struct {
	slots []slot
	mask  uint64
}

type slot struct {
	key uint64
	val int32
}

func newTable(n int) *table {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return &table{slots: make([]slot, size), mask: uint64(size - 1)}
}

// get returns the value stored for key, or -1.
func (t *table) get(key uint64) int32 {
	i := key & t.mask
	for {
		sl := &t.slots[i]
		if sl.key == key {
			return sl.val
		}
		if sl.key == 0 {
			return -1
		}
		i = (i + 1) & t.mask
	}
}

// put stores v for key, replacing any earlier value. The table must not be
// more than half full; newTable sizes it for that.
func (t *table) put(key uint64, v int32) {
	i := key & t.mask
	for t.slots[i].key != 0 && t.slots[i].key != key {
		i = (i + 1) & t.mask
	}
	t.slots[i] = slot{key, v}
}

// edgeKey is the key of the trie edge from node on word, mixed so that its
// low bits can index the table directly.
func edgeKey(node, word int32) uint64 {
	k := uint64(uint32(node))<<32 | uint64(uint32(word))
	k = (k ^ k>>31) * 0xbf58476d1ce4e5b9
	return nonZero(k ^ k>>29)
}

// bloom is a one-hash Bloom filter over word hashes: 64 Kbit (8 KB, it stays
// in L1 cache) rejects most words that are not in the lexicon before the
// word table is touched.
type bloom [1 << 10]uint64

func (b *bloom) add(h uint64)      { i := h >> 48; b[i>>6] |= 1 << (i & 63) }
func (b *bloom) has(h uint64) bool { i := h >> 48; return b[i>>6]&(1<<(i&63)) != 0 }
