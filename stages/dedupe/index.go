package dedupe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Record is the near-duplicate signature record of one story: what an
// instance shares with the others so that every in-memory index holds the
// same stories. It is a pure function of the story (see Deduper.Record);
// instances exchange it over the shared log (see Log) in its binary form
// (MarshalBinary, about 160 bytes).
type Record struct {
	// Seq is the story's IngestSeq; among several earlier stories that a
	// story nearly duplicates, the one with the lowest Seq is reported.
	Seq uint64
	// Time is the story time in Unix seconds (ws_received, else
	// versioncreated). It places the record in the retention window, so
	// expiry is a function of the log and not of a wall clock.
	Time int64
	// Fingerprint is the story's exact-content fingerprint; a near
	// duplicate's "of" uri is read from the claim stored under it.
	Fingerprint Fingerprint
	// Sig is the full MinHash signature (Config.Bands*Config.Rows values).
	Sig []uint32
	// Update marks a new version of a known uri: it is indexed
	// unconditionally and gets no near-duplicate verdict.
	Update bool
	// URI is carried for audit and debugging; the index does not keep it.
	URI string
}

// Verdict is what applying a Record to the index concluded.
type Verdict struct {
	// Near is true when an earlier indexed story is at least
	// Config.Threshold similar. Near records are not indexed themselves.
	Near bool
	// Of is the fingerprint of that story (the one with the lowest Seq
	// among the matches), OfSeq its Seq.
	Of    Fingerprint
	OfSeq uint64
	// Similarity is the estimated Jaccard similarity of word shingles.
	Similarity float64
}

const recordVersion = 1

// MarshalBinary encodes the record for the shared log.
func (r *Record) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1+10+10+16+1+4*len(r.Sig)+2+len(r.URI)+2)
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, r.Seq)
	b = binary.AppendVarint(b, r.Time)
	b = append(b, r.Fingerprint[:]...)
	flags := byte(0)
	if r.Update {
		flags = 1
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(r.Sig)))
	for _, v := range r.Sig {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(r.URI)))
	b = append(b, r.URI...)
	return b, nil
}

// ErrBadRecord is returned when a record cannot be decoded or does not fit
// the Deduper's signature shape.
var ErrBadRecord = errors.New("dedupe: bad signature record")

// UnmarshalBinary decodes a record written by MarshalBinary.
func (r *Record) UnmarshalBinary(b []byte) error {
	if len(b) < 1 || b[0] != recordVersion {
		return fmt.Errorf("%w: unknown version", ErrBadRecord)
	}
	b = b[1:]
	var n int
	if r.Seq, n = binary.Uvarint(b); n <= 0 {
		return fmt.Errorf("%w: seq", ErrBadRecord)
	}
	b = b[n:]
	if r.Time, n = binary.Varint(b); n <= 0 {
		return fmt.Errorf("%w: time", ErrBadRecord)
	}
	b = b[n:]
	if len(b) < 17 {
		return fmt.Errorf("%w: short", ErrBadRecord)
	}
	copy(r.Fingerprint[:], b)
	r.Update = b[16]&1 != 0
	b = b[17:]
	k, n := binary.Uvarint(b)
	if n <= 0 || k > 1024 || uint64(len(b)-n) < 4*k {
		return fmt.Errorf("%w: signature", ErrBadRecord)
	}
	b = b[n:]
	r.Sig = make([]uint32, k)
	for i := range r.Sig {
		r.Sig[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	b = b[4*k:]
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) != l {
		return fmt.Errorf("%w: uri", ErrBadRecord)
	}
	r.URI = string(b[n:])
	return nil
}

// index is the in-memory LSH index. Stories live in generations of
// genSpan seconds; a generation is dropped whole once it is older than the
// retention window measured from the newest record time seen, so memory is
// bounded by the number of stories in the window. Per story it keeps the
// fingerprint (16 B), the Seq (8 B), an 8-bit-per-bin signature and one
// 8-byte entry per band in an open-addressing table.
type index struct {
	mu        sync.Mutex
	bands     int
	rows      int
	threshold float64
	genSpan   int64
	keep      int64 // generations kept: ceil(window/genSpan)+1
	maxTime   int64
	gens      []*generation // ascending id
	scratch   []uint32      // candidate slots (under mu)
	sig8s     []byte
}

type generation struct {
	id    int64
	fps   []Fingerprint
	seqs  []uint64
	sigs  []byte // len(fps) * bins
	table []uint64
	used  int
}

func newIndex(cfg *Config) *index {
	span := int64(cfg.Window.Seconds()) / int64(cfg.Generations)
	if span < 1 {
		span = 1
	}
	return &index{
		bands:     cfg.Bands,
		rows:      cfg.Rows,
		threshold: cfg.Threshold,
		genSpan:   span,
		keep:      int64(cfg.Generations) + 1,
		sig8s:     make([]byte, cfg.Bands*cfg.Rows),
	}
}

// apply matches rec against the stories indexed so far and indexes it
// unless it is a near duplicate. Applying the same records in the same order
// gives the same verdicts on every instance.
func (x *index) apply(rec *Record) (Verdict, error) {
	bins := x.bands * x.rows
	if len(rec.Sig) != bins {
		return Verdict{}, fmt.Errorf("%w: %d signature values, want %d", ErrBadRecord, len(rec.Sig), bins)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	t := rec.Time
	if t == 0 {
		t = x.maxTime
	}
	if t > x.maxTime {
		x.maxTime = t
		x.expire()
	}
	for i, v := range rec.Sig {
		x.sig8s[i] = sig8(v)
	}
	var keys [64]uint32
	for b := 0; b < x.bands && b < len(keys); b++ {
		keys[b] = bandKey(rec.Sig, b, x.rows)
	}
	var v Verdict
	if !rec.Update {
		for _, g := range x.gens {
			x.scratch = x.scratch[:0]
			for b := 0; b < x.bands; b++ {
				x.scratch = g.lookup(keys[b], x.scratch)
			}
			for i, s := range x.scratch {
				dup := false
				for _, p := range x.scratch[:i] {
					if p == s {
						dup = true
						break
					}
				}
				if dup {
					continue
				}
				sim := similarity(x.sig8s, g.sigs[int(s)*bins:int(s+1)*bins])
				if sim < x.threshold {
					continue
				}
				seq := g.seqs[s]
				if !v.Near || seq < v.OfSeq || seq == v.OfSeq && sim > v.Similarity {
					v = Verdict{Near: true, Of: g.fps[s], OfSeq: seq, Similarity: sim}
				}
			}
		}
	}
	if !v.Near {
		id := t / x.genSpan
		if g := x.gen(id); g != nil {
			g.insert(rec.Fingerprint, rec.Seq, x.sig8s, keys[:x.bands])
		}
	}
	return v, nil
}

// gen returns generation id, creating it, or nil when id is already expired.
func (x *index) gen(id int64) *generation {
	i := sort.Search(len(x.gens), func(i int) bool { return x.gens[i].id >= id })
	if i < len(x.gens) && x.gens[i].id == id {
		return x.gens[i]
	}
	if id <= x.maxTime/x.genSpan-x.keep {
		return nil
	}
	g := &generation{id: id, table: make([]uint64, 1024)}
	x.gens = append(x.gens, nil)
	copy(x.gens[i+1:], x.gens[i:])
	x.gens[i] = g
	return g
}

func (x *index) expire() {
	oldest := x.maxTime/x.genSpan - x.keep
	n := 0
	for n < len(x.gens) && x.gens[n].id <= oldest {
		n++
	}
	if n > 0 {
		x.gens = append(x.gens[:0], x.gens[n:]...)
	}
}

// len is the number of indexed stories.
func (x *index) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for _, g := range x.gens {
		n += len(g.fps)
	}
	return n
}

// Table entries pack key<<32 | slot+1; 0 is empty. Equal keys may repeat
// (a multimap): lookup walks the probe run to the first empty entry.
func (g *generation) lookup(key uint32, out []uint32) []uint32 {
	mask := uint64(len(g.table) - 1)
	for i := uint64(key) * mulA >> 32 & mask; ; i = (i + 1) & mask {
		e := g.table[i]
		if e == 0 {
			return out
		}
		if uint32(e>>32) == key {
			out = append(out, uint32(e)-1)
		}
	}
}

func (g *generation) insert(fp Fingerprint, seq uint64, sig []byte, keys []uint32) {
	slot := uint32(len(g.fps))
	g.fps = append(g.fps, fp)
	g.seqs = append(g.seqs, seq)
	g.sigs = append(g.sigs, sig...)
	if (g.used+len(keys))*5 > len(g.table)*4 {
		g.grow()
	}
	for _, k := range keys {
		g.put(uint64(k)<<32 | uint64(slot+1))
	}
	g.used += len(keys)
}

func (g *generation) put(e uint64) {
	mask := uint64(len(g.table) - 1)
	for i := (e >> 32) * mulA >> 32 & mask; ; i = (i + 1) & mask {
		if g.table[i] == 0 {
			g.table[i] = e
			return
		}
	}
}

func (g *generation) grow() {
	old := g.table
	g.table = make([]uint64, 2*len(old))
	for _, e := range old {
		if e != 0 {
			g.put(e)
		}
	}
}

// Similarity is the estimated Jaccard similarity of the word shingles of
// the stories of two records, as the index estimates it (from the 8 bits
// per value it keeps). Records of different shapes have similarity 0.
func (r *Record) Similarity(o *Record) float64 {
	if len(r.Sig) != len(o.Sig) || len(r.Sig) == 0 {
		return 0
	}
	a, b := make([]byte, len(r.Sig)), make([]byte, len(o.Sig))
	for i := range a {
		a[i], b[i] = sig8(r.Sig[i]), sig8(o.Sig[i])
	}
	return similarity(a, b)
}
