package topic

// table is an open-addressing hash table from non-zero uint64 keys to int32
// values, built once and then only read. Keys are already well-mixed hashes,
// so the slot is taken from the key directly; linear probing keeps lookups to
// one or two cache lines. It is several times faster than a Go map for the
// one-lookup-per-word workload of Tag.
type table struct {
	keys []uint64
	vals []int32
	mask uint64
}

func newTable(n int) *table {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return &table{keys: make([]uint64, size), vals: make([]int32, size), mask: uint64(size - 1)}
}

// get returns the value stored for key, or -1.
func (t *table) get(key uint64) int32 {
	i := mix(key) & t.mask
	for {
		k := t.keys[i]
		if k == key {
			return t.vals[i]
		}
		if k == 0 {
			return -1
		}
		i = (i + 1) & t.mask
	}
}

// put stores v for key, replacing any earlier value. The table must not be
// more than half full; newTable sizes it for that.
func (t *table) put(key uint64, v int32) {
	i := mix(key) & t.mask
	for t.keys[i] != 0 && t.keys[i] != key {
		i = (i + 1) & t.mask
	}
	t.keys[i], t.vals[i] = key, v
}

// mix spreads the bits of k (the low bits of FNV-1a are weak).
func mix(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	return k
}

// edgeKey is the key of the trie edge from node on word.
func edgeKey(node, word int32) uint64 {
	return nonZero(uint64(uint32(node))<<32 | uint64(uint32(word)) + 0x9e3779b97f4a7c15)
}
