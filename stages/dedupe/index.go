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
	// URI is the story's uri. The index keeps a 64-bit hash of it so that
	// versions of one uri never count as near duplicates of each other (a
	// newer version may reach the log before the first one).
	URI string

	// The fields below are set on a story record of the ordered log
	// (Config.Ordered): the record of a whole decision, encoded as version 2.
	Story bool
	// Inst and Nonce name the instance that appended the record and the
	// Decide waiting on it there.
	Inst, Nonce uint64
	// Version, VC (versioncreated, Unix ns), Raw (hash of the raw headline
	// and body), Content (Raw with ednote and pubstatus) and Killed are
	// what the uri decision needs; Words says Fingerprint and Sig are set
	// (a kill or a story without words carries none).
	Version      string
	VC           int64
	Raw, Content uint64
	Killed       bool
	Words        bool
	// Lean marks a story record sent without its text parts because the
	// sender's state showed a retransmission or a stale version; if the
	// state at apply time needs more, the record changes nothing and the
	// sender appends a full one.
	Lean bool
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

const (
	recordVersion      = 1
	storyRecordVersion = 2
)

// MarshalBinary encodes the record for the shared log.
func (r *Record) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1+10+10+16+1+4*len(r.Sig)+2+len(r.URI)+2)
	if r.Story {
		b = append(b, storyRecordVersion)
	} else {
		b = append(b, recordVersion)
	}
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
	if r.Story {
		b = binary.LittleEndian.AppendUint64(b, r.Inst)
		b = binary.AppendUvarint(b, r.Nonce)
		b = binary.AppendVarint(b, r.VC)
		b = binary.LittleEndian.AppendUint64(b, r.Raw)
		b = binary.LittleEndian.AppendUint64(b, r.Content)
		fl := byte(0)
		if r.Killed {
			fl |= 1
		}
		if r.Words {
			fl |= 2
		}
		if r.Lean {
			fl |= 4
		}
		b = append(b, fl)
		b = binary.AppendUvarint(b, uint64(len(r.Version)))
		b = append(b, r.Version...)
	}
	return b, nil
}

// ErrBadRecord is returned when a record cannot be decoded or does not fit
// the Deduper's signature shape.
var ErrBadRecord = errors.New("dedupe: bad signature record")

// UnmarshalBinary decodes a record written by MarshalBinary.
func (r *Record) UnmarshalBinary(b []byte) error {
	if len(b) < 1 || (b[0] != recordVersion && b[0] != storyRecordVersion) {
		return fmt.Errorf("%w: unknown version", ErrBadRecord)
	}
	*r = Record{Story: b[0] == storyRecordVersion}
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
	if n <= 0 || uint64(len(b)-n) < l || (!r.Story && uint64(len(b)-n) != l) {
		return fmt.Errorf("%w: uri", ErrBadRecord)
	}
	r.URI = string(b[n : n+int(l)])
	if !r.Story {
		return nil
	}
	b = b[n+int(l):]
	if len(b) < 8 {
		return fmt.Errorf("%w: instance", ErrBadRecord)
	}
	r.Inst = binary.LittleEndian.Uint64(b)
	b = b[8:]
	if r.Nonce, n = binary.Uvarint(b); n <= 0 {
		return fmt.Errorf("%w: nonce", ErrBadRecord)
	}
	b = b[n:]
	if r.VC, n = binary.Varint(b); n <= 0 {
		return fmt.Errorf("%w: versioncreated", ErrBadRecord)
	}
	b = b[n:]
	if len(b) < 17 {
		return fmt.Errorf("%w: short story record", ErrBadRecord)
	}
	r.Raw = binary.LittleEndian.Uint64(b)
	r.Content = binary.LittleEndian.Uint64(b[8:])
	r.Killed = b[16]&1 != 0
	r.Words = b[16]&2 != 0
	r.Lean = b[16]&4 != 0
	b = b[17:]
	vl, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) != vl {
		return fmt.Errorf("%w: version", ErrBadRecord)
	}
	r.Version = string(b[n:])
	return nil
}

// index is the in-memory LSH index.
//
// Stories get consecutive slot numbers in apply order and their data
// (fingerprint 16 B, Seq 8 B, uri hash 8 B, one byte per MinHash value) lives in
// generations: a new generation starts when the newest record time enters a
// new period of window/Generations, and a generation is dropped whole once
// the newest record time in it is older than the window (measured from the
// newest record time seen), so memory is bounded by the stories in the
// window and expiry is a function of the log, identical on every instance.
//
// The band buckets of all generations share one open-addressing table of
// 8-byte entries (band key << 32 | slot+1; equal keys may repeat, a
// multimap), so a lookup costs one probe run per band whatever the number
// of generations. Entries of dropped stories stay in the table as garbage:
// lookups skip them, inserts reuse them, and when live and garbage entries
// fill 80% of the table it is rebuilt from the live ones.
type index struct {
	mu        sync.Mutex
	bands     int
	rows      int
	threshold float64
	genSpan   int64
	window    int64
	maxTime   int64
	gens      []*generation // ascending slots
	next      uint64        // next slot number
	live      uint64        // first live slot number
	table     []uint64
	used      int // occupied table entries, live or garbage
	scratch   []uint32
	sig8s     []byte
}

type generation struct {
	period  int64  // record time / genSpan when it started
	maxTime int64  // newest record time in it
	first   uint64 // slot number of fps[0]
	fps     []Fingerprint
	seqs    []uint64
	uris    []uint64 // hash of the uri: versions of one uri never match
	sigs    []byte   // len(fps) * bins
}

func newIndex(cfg *Config) *index {
	window := int64(cfg.Window.Seconds())
	span := window / int64(cfg.Generations)
	if span < 1 {
		span = 1
	}
	return &index{
		bands:     cfg.Bands,
		rows:      cfg.Rows,
		threshold: cfg.Threshold,
		genSpan:   span,
		window:    window,
		table:     make([]uint64, 1024),
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
	for b := 0; b < x.bands; b++ {
		keys[b] = bandKey(rec.Sig, b, x.rows)
	}
	var v Verdict
	uh := uriHash(rec.URI)
	self := false   // rec itself is indexed already: a replay
	backed := false // an update whose uri has an original (or backed update) here
	{
		x.scratch = x.scratch[:0]
		for b := 0; b < x.bands; b++ {
			x.scratch = x.lookup(keys[b], x.scratch)
		}
		for i, slot := range x.scratch {
			dup := false
			for _, p := range x.scratch[:i] {
				if p == slot {
					dup = true
					break
				}
			}
			if dup {
				continue
			}
			g, j := x.locate(slot)
			if g == nil {
				continue
			}
			if g.seqs[j] == rec.Seq && g.fps[j] == rec.Fingerprint {
				self = true
				continue
			}
			if uh != 0 && g.uris[j]&^1 == uh {
				// Versions of one uri never match each other; an update
				// found its uri's original (or a backed update).
				if g.uris[j]&1 != 0 {
					backed = true
				}
				continue
			}
			if rec.Update || g.uris[j]&1 == 0 {
				// An unbacked update: its uri has no original here (its
				// first version was a near duplicate or duplicate of
				// another story, or was not applied yet); matching it could
				// make two stories each other's near duplicate.
				continue
			}
			sim := similarity(x.sig8s, g.sigs[j*bins:(j+1)*bins])
			if sim < x.threshold {
				continue
			}
			seq := g.seqs[j]
			if !v.Near || seq < v.OfSeq || seq == v.OfSeq && sim > v.Similarity {
				v = Verdict{Near: true, Of: g.fps[j], OfSeq: seq, Similarity: sim}
			}
		}
	}
	if self {
		return Verdict{}, nil
	}
	if !v.Near {
		x.insert(rec, t, keys[:x.bands], !rec.Update || backed)
	}
	return v, nil
}

// uriHash identifies a uri in the index; 0 (no uri) matches nothing. Bit 0
// is left clear: in the index it marks stories that may be matched (originals
// and backed updates).
func uriHash(uri string) uint64 {
	if uri == "" {
		return 0
	}
	return hashString(0x0e1, uri)&^1 | 2
}

// isLive reports whether the 32-bit slot number of a table entry is live.
func (x *index) isLive(slot uint32) bool {
	return slot-uint32(x.live) < uint32(x.next-x.live)
}

// locate returns the generation and offset of a live slot.
func (x *index) locate(slot uint32) (*generation, int) {
	if !x.isLive(slot) {
		return nil, 0
	}
	full := x.live + uint64(slot-uint32(x.live))
	i := sort.Search(len(x.gens), func(i int) bool { return x.gens[i].first > full }) - 1
	if i < 0 {
		return nil, 0
	}
	g := x.gens[i]
	return g, int(full - g.first)
}

// insert indexes rec; matchable is false for an unbacked update.
func (x *index) insert(rec *Record, t int64, keys []uint32, matchable bool) {
	period := t / x.genSpan
	var g *generation
	if n := len(x.gens); n > 0 && x.gens[n-1].period >= period {
		g = x.gens[n-1]
	} else {
		g = &generation{period: period, first: x.next}
		if n := len(x.gens); n > 0 {
			// Size for about as many stories as the last generation, so
			// that slices do not grow by doubling.
			c := len(x.gens[n-1].fps) + len(x.gens[n-1].fps)/8
			g.fps = make([]Fingerprint, 0, c)
			g.seqs = make([]uint64, 0, c)
			g.uris = make([]uint64, 0, c)
			g.sigs = make([]byte, 0, c*len(x.sig8s))
		}
		x.gens = append(x.gens, g)
	}
	if t > g.maxTime {
		g.maxTime = t
	}
	slot := uint32(x.next)
	x.next++
	g.fps = append(g.fps, rec.Fingerprint)
	g.seqs = append(g.seqs, rec.Seq)
	uh := uriHash(rec.URI)
	if matchable {
		uh |= 1
	}
	g.uris = append(g.uris, uh)
	g.sigs = append(g.sigs, x.sig8s...)
	if (x.used+len(keys))*5 > len(x.table)*4 {
		x.rebuild(len(keys))
	}
	for _, k := range keys {
		x.put(uint64(k)<<32 | uint64(slot+1))
	}
}

// expire drops the generations whose newest record is out of the window.
func (x *index) expire() {
	n := 0
	for n < len(x.gens)-1 && x.gens[n].maxTime < x.maxTime-x.window {
		n++
	}
	if n == len(x.gens)-1 && len(x.gens) > 0 && x.gens[n].maxTime < x.maxTime-x.window {
		n++
	}
	if n == 0 {
		return
	}
	x.gens = append(x.gens[:0], x.gens[n:]...)
	if len(x.gens) > 0 {
		x.live = x.gens[0].first
	} else {
		x.live = x.next
	}
}

// len is the number of indexed stories.
func (x *index) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return int(x.next - x.live)
}

func (x *index) lookup(key uint32, out []uint32) []uint32 {
	n := uint64(len(x.table))
	for i := home(key, n); ; i = next(i, n) {
		e := x.table[i]
		if e == 0 {
			return out
		}
		if uint32(e>>32) == key && x.isLive(uint32(e)-1) {
			out = append(out, uint32(e)-1)
		}
	}
}

// put inserts an entry, reusing the first garbage entry on its probe run.
func (x *index) put(e uint64) {
	n := uint64(len(x.table))
	for i := home(uint32(e>>32), n); ; i = next(i, n) {
		old := x.table[i]
		if old == 0 {
			x.table[i] = e
			x.used++
			return
		}
		if !x.isLive(uint32(old) - 1) {
			x.table[i] = e
			return
		}
	}
}

// rebuild makes room for extra more entries: it drops garbage and sizes the
// table for the live entries at a load of 0.6 (the table is rebuilt again
// when live and garbage entries reach 0.8, so the load stays in 0.6-0.8).
func (x *index) rebuild(extra int) {
	live := extra
	for _, e := range x.table {
		if e != 0 && x.isLive(uint32(e)-1) {
			live++
		}
	}
	size := max(1024, live*5/3)
	old := x.table
	x.table = make([]uint64, size)
	x.used = 0
	for _, e := range old {
		if e != 0 && x.isLive(uint32(e)-1) {
			x.put(e)
		}
	}
}

// home is the first table position of a band key: the key, mixed, mapped
// onto [0, n) by multiplication (n need not be a power of two).
func home(key uint32, n uint64) uint64 { return (uint64(key) * mulA >> 32) * n >> 32 }

func next(i, n uint64) uint64 {
	if i++; i == n {
		return 0
	}
	return i
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
