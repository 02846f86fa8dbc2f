package dedupe

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wirestream/wirestream/proto"
)

// Deduper decides, for each story, whether it is new, an update, a kill, a
// duplicate, a near duplicate or stale (see Decide). It is safe for
// concurrent use; many Dedupers in many processes that share one Store and
// one Log decide as one.
type Deduper struct {
	cfg   Config
	store Store
	index *index
	cache *uriCache

	mu      sync.Mutex
	pending map[Fingerprint][]chan Verdict // Decides waiting for their record
	closed  atomic.Bool
	done    chan struct{}

	ord *ordered // Config.Ordered: the state derived from the log
}

// New returns a Deduper over store. When cfg.Log is set, the caller must
// also feed every log record to Apply (the MemoryLog does it through
// Subscribe), replaying the retained log before the first Decide.
func New(cfg Config, store Store) (*Deduper, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Ordered {
		if cfg.Log == nil {
			return nil, fmt.Errorf("%w: ordered without a log", ErrInvalidConfig)
		}
		return newOrdered(cfg)
	}
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidConfig)
	}
	return &Deduper{
		cfg:     cfg,
		store:   store,
		index:   newIndex(&cfg),
		cache:   newURICache(cfg.CacheSize),
		pending: make(map[Fingerprint][]chan Verdict),
		done:    make(chan struct{}),
	}, nil
}

// Close stops the Deduper: Decide then returns ErrClosed, and a Decide
// waiting for its record to come back through the Log returns ErrClosed.
// The Store and the Log are not closed. Close is idempotent.
func (d *Deduper) Close() error {
	if d.closed.CompareAndSwap(false, true) {
		close(d.done)
		if d.ord != nil {
			d.ord.inner.Close()
		}
	}
	return nil
}

// features is what Decide computes from a story, each part at most once:
// the raw hashes always (cheap), the normalised words and fingerprint only
// when the decision needs them (text).
type features struct {
	s       *proto.Story
	raw     uint64 // raw headline and body
	content uint64 // raw headline, body, ednote and pubstatus
	fp      Fingerprint
	words   int
	h, b    *tokens // nil until text
	rec     *Record // the signature record, when computed ahead (Prepare)
	given   bool    // fp and words come from an ordered-log record: no text
}

const (
	seedRaw     = 0x5eed_0001
	seedContent = 0x5eed_0002
)

func (d *Deduper) features(s *proto.Story) *features {
	f := &features{s: s}
	f.raw = hashString(seedRaw, s.BodyText) ^ mix64(hashString(seedRaw+1, s.Headline))
	f.content = f.raw ^ mix64(hashString(seedContent, s.EdNote)) ^ mix64(hashString(seedContent+1, s.PubStatus)+1)
	return f
}

// text normalises headline and body and computes the fingerprint.
func (f *features) text() {
	if f.h != nil || f.given {
		return
	}
	f.h, f.b = tokPool.Get().(*tokens), tokPool.Get().(*tokens)
	f.h.reset()
	f.b.reset()
	f.h.add(f.s.Headline, 1)
	f.h.stripBoilerplate()
	f.b.add(f.s.BodyText, 1)
	f.b.stripBoilerplate()
	f.words = f.h.n() + f.b.n()
	f.fp = fingerprintOf(f.h, f.b)
}

func (f *features) release() {
	if f.h != nil {
		tokPool.Put(f.h)
		tokPool.Put(f.b)
		f.h, f.b = nil, nil
	}
}

// storyTime is the record time in Unix seconds: received, else versioncreated.
func storyTime(s *proto.Story) int64 {
	if s.Received != 0 {
		return int64(s.Received) / 1e9
	}
	return int64(s.VersionCreated) / 1e9
}

// Record returns the near-duplicate signature record of s, or false when s
// has no words to compare. Decide computes it itself; Record is for tools
// and for implementations that want to publish records out of band.
func (d *Deduper) Record(s *proto.Story) (*Record, bool) {
	f := d.features(s)
	defer f.release()
	return d.record(s, f)
}

func (d *Deduper) record(s *proto.Story, f *features) (*Record, bool) {
	if f.rec != nil {
		r := f.rec
		f.rec = nil
		return r, true
	}
	f.text()
	if f.words == 0 {
		return nil, false
	}
	r := &Record{Seq: s.IngestSeq, Time: storyTime(s), Fingerprint: f.fp, URI: s.URI,
		Sig: make([]uint32, d.cfg.Bands*d.cfg.Rows)}
	minhash(r.Sig, d.cfg.Shingle, f.h, f.b)
	return r, true
}

// Apply applies a signature record from the Log to the in-memory index and
// returns its verdict. Every instance must Apply every record, in log order;
// the verdict of a record this instance appended is handed to the waiting
// Decide.
func (d *Deduper) Apply(rec *Record) (Verdict, error) {
	if d.ord != nil {
		return d.ord.apply(d, rec)
	}
	v, err := d.index.apply(rec)
	if err != nil {
		return v, err
	}
	d.mu.Lock()
	chs := d.pending[rec.Fingerprint]
	delete(d.pending, rec.Fingerprint)
	d.mu.Unlock()
	for _, ch := range chs {
		ch <- v // buffered, one value each
	}
	return v, nil
}

// Indexed is the number of stories in the near-duplicate index.
func (d *Deduper) Indexed() int {
	if d.ord != nil {
		return d.ord.inner.index.len()
	}
	return d.index.len()
}

// Decide returns the dedupe decision for s and records what it saw. The
// decision is one of:
//
//   - kill: pubstatus canceled for a uri not already killed. Of is the uri
//     when it was known, "" when not; either way the uri is tombstoned so a
//     late original is stale, and the kill is republished.
//   - stale: a version of a known uri older than or equal to the newest
//     seen, with different content (or any version at or below a kill).
//   - duplicate: an identical retransmission (same uri, version and
//     content; Of is the uri), a newer version with unchanged content, a
//     repeated kill, or another uri carrying byte-identical headline and body
//     (Of is the first uri).
//   - update: a newer version (or, versions equal, later versioncreated) of
//     a known uri with changed headline, body, ednote or pubstatus. Of is the
//     uri.
//   - near_duplicate: a uri seen for the first time whose text equals an
//     earlier story's after normalisation (Similarity 1) or is at least
//     Config.Threshold similar to it. Of is the earlier story's uri.
//   - new: anything else.
//
// new, update and kill are to be republished; duplicate, near_duplicate and
// stale go to the audit subject. Decide does not modify s.
//
// Store round trips: a first-time uri costs one Create of its uri record and
// one Create of its content claim; a known uri costs a Get (skipped when the
// record is cached) and a compare-and-set when the record changes. An error
// from the Store is returned as is (wrapped); the story should be retried.
func (d *Deduper) Decide(ctx context.Context, s *proto.Story) (*proto.Dedupe, error) {
	if s == nil || s.URI == "" {
		return nil, fmt.Errorf("%w: nil story or empty uri", ErrInvalidStory)
	}
	if d.ord != nil {
		return d.ord.decide(ctx, d, s)
	}
	return d.decide(ctx, s, d.features(s))
}

// Prepared is the part of a decision that depends on the story alone: its
// hashes, normalised words, fingerprint and MinHash signature (most of the
// CPU of deciding a new story). See Prepare.
type Prepared struct{ f *features }

// Prepare computes ahead, for DecidePrepared, what Decide would compute
// from s alone. It touches no shared state, so a caller can prepare many
// stories in parallel and decide them in order on one goroutine (the
// offline enrich command does). s must not change until it is decided.
func (d *Deduper) Prepare(s *proto.Story) *Prepared {
	if s == nil || s.URI == "" {
		return nil
	}
	f := d.features(s)
	if !s.Canceled() {
		f.rec, _ = d.record(s, f)
	}
	return &Prepared{f: f}
}

// DecidePrepared is Decide with the story-only work done by Prepare(s).
// The decision is the same as Decide's. p is consumed.
func (d *Deduper) DecidePrepared(ctx context.Context, s *proto.Story, p *Prepared) (*proto.Dedupe, error) {
	if s == nil || s.URI == "" || p == nil || p.f == nil || p.f.s != s {
		return nil, fmt.Errorf("%w: nil story, empty uri or not the prepared story", ErrInvalidStory)
	}
	if d.ord != nil {
		p.f.release()
		p.f = nil
		return d.ord.decide(ctx, d, s)
	}
	f := p.f
	p.f = nil
	return d.decide(ctx, s, f)
}

func (d *Deduper) decide(ctx context.Context, s *proto.Story, f *features) (*proto.Dedupe, error) {
	defer f.release()
	if d.closed.Load() {
		return nil, ErrClosed
	}

	key := URIKey(s.URI)
	cur := uriRecord{Version: s.Version, VC: int64(s.VersionCreated), Seq: s.IngestSeq, Content: f.content, Killed: s.Canceled()}
	var buf [96]byte
	for attempt := 0; attempt < d.cfg.Retries; attempt++ {
		rec, rev, ok := d.cache.get(key)
		if !ok {
			r, err := d.store.Create(ctx, key, cur.marshal(buf[:0]))
			if err == nil {
				d.cache.put(key, cur, r)
				return d.firstSeen(ctx, s, f, false)
			}
			if !errors.Is(err, ErrExists) {
				return nil, fmt.Errorf("dedupe: create uri record: %w", err)
			}
			val, r2, err := d.store.Get(ctx, key)
			if errors.Is(err, ErrNotFound) {
				continue // expired between Create and Get
			}
			if err != nil {
				return nil, fmt.Errorf("dedupe: get uri record: %w", err)
			}
			if err := rec.unmarshal(val); err != nil {
				return nil, err
			}
			rev = r2
			d.cache.put(key, rec, rev)
		}
		if s.IngestSeq != 0 && rec.Seq == s.IngestSeq && rec.Content == cur.Content {
			// A redelivery of the story that last wrote the record (the
			// consumer did not see our ack, or our earlier attempt failed
			// after the write): decide it the same way again.
			return d.replay(ctx, s, f, &rec)
		}
		status, write := judge(s, &cur, &rec)
		if write {
			next := cur
			switch status {
			case proto.DedupeUpdate:
				next.Wrote = wroteUpdate
			case proto.DedupeKill:
				next.Wrote = wroteKill
			default:
				next.Wrote = wroteDuplicate
			}
			if next.Killed && compareStory(&next, &rec) < 0 {
				// A kill keeps the newest version seen so that older
				// versions arriving later are stale.
				next.Version, next.VC = rec.Version, rec.VC
			}
			r, err := d.store.Update(ctx, key, next.marshal(buf[:0]), rev)
			if errors.Is(err, ErrConflict) {
				d.cache.drop(key)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("dedupe: update uri record: %w", err)
			}
			d.cache.put(key, next, r)
		}
		out := &proto.Dedupe{Status: status, Of: s.URI}
		if status == proto.DedupeUpdate {
			if err := d.claimUpdate(ctx, s, f); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("dedupe: uri record of %q: %w after %d attempts", s.URI, ErrConflict, d.cfg.Retries)
}

// replay decides again a story whose own write is the uri record's latest.
func (d *Deduper) replay(ctx context.Context, s *proto.Story, f *features, rec *uriRecord) (*proto.Dedupe, error) {
	switch rec.Wrote {
	case wroteFirst:
		return d.firstSeen(ctx, s, f, true)
	case wroteUpdate:
		if err := d.claimUpdate(ctx, s, f); err != nil {
			return nil, err
		}
		return &proto.Dedupe{Status: proto.DedupeUpdate, Of: s.URI}, nil
	case wroteKill:
		return &proto.Dedupe{Status: proto.DedupeKill, Of: s.URI}, nil
	}
	return &proto.Dedupe{Status: proto.DedupeDuplicate, Of: s.URI}, nil
}

// compareStory orders two versions of one uri:
//
//   - by version when both versions are numeric (proto.CompareVersions:
//     "10" after "9", "1.10" after "1.9");
//   - the same version: by versioncreated (a re-sent version with a later
//     time is newer; same time, the same story);
//   - versions that are not both numeric ("v2", "2024-03-01", or "v2" then
//     "3") say nothing about order: by versioncreated, then by arrival (the
//     raw history's sequence), so a provider's later copy is never stale
//     just because its version string sorts lower.
func compareStory(a, b *uriRecord) int {
	c, numeric := proto.CompareVersions(a.Version, b.Version)
	if numeric && c != 0 {
		return c
	}
	switch {
	case a.VC > b.VC:
		return 1
	case a.VC < b.VC:
		return -1
	case a.Version == b.Version || numeric:
		return 0
	case a.Seq > b.Seq:
		return 1
	case a.Seq < b.Seq:
		return -1
	}
	return 0
}

// judge decides a story of a known uri against its record and reports
// whether the record must be rewritten.
func judge(s *proto.Story, cur, rec *uriRecord) (status string, write bool) {
	c := compareStory(cur, rec)
	switch {
	case cur.Killed && rec.Killed:
		if c > 0 {
			return proto.DedupeDuplicate, true // newer repeat of the kill: remember its version
		}
		return proto.DedupeDuplicate, false
	case cur.Killed:
		return proto.DedupeKill, true
	case c <= 0 && c == 0 && cur.Content == rec.Content && !rec.Killed:
		return proto.DedupeDuplicate, false
	case c <= 0:
		return proto.DedupeStale, false
	case cur.Content == rec.Content:
		return proto.DedupeDuplicate, true // version bumped, nothing changed
	}
	return proto.DedupeUpdate, true
}

// firstSeen decides a story whose uri this call has just recorded (or, on a
// redelivery, an earlier attempt for the same story recorded).
func (d *Deduper) firstSeen(ctx context.Context, s *proto.Story, f *features, redelivered bool) (*proto.Dedupe, error) {
	if s.Canceled() {
		return &proto.Dedupe{Status: proto.DedupeKill}, nil
	}
	f.text()
	if f.words == 0 {
		return &proto.Dedupe{Status: proto.DedupeNew}, nil
	}
	var buf [128]byte
	c := claim{Raw: f.raw, Seq: s.IngestSeq, URI: s.URI}
	_, err := d.store.Create(ctx, ClaimKey(f.fp), c.marshal(buf[:0]))
	switch {
	case errors.Is(err, ErrExists):
		prev, gerr := d.getClaim(ctx, f.fp)
		switch {
		case gerr != nil:
			return nil, gerr
		case redelivered && prev.Seq == s.IngestSeq && prev.URI == s.URI:
			// our own claim from the earlier attempt: decide on
		case prev.Raw == f.raw:
			return &proto.Dedupe{Status: proto.DedupeDuplicate, Of: prev.URI}, nil
		default:
			return &proto.Dedupe{Status: proto.DedupeNearDuplicate, Of: prev.URI, Similarity: 1}, nil
		}
	case err != nil:
		return nil, fmt.Errorf("dedupe: create claim: %w", err)
	}
	rec, _ := d.record(s, f)
	v, err := d.near(ctx, rec)
	if err != nil {
		return nil, err
	}
	if !v.Near {
		return &proto.Dedupe{Status: proto.DedupeNew}, nil
	}
	out := &proto.Dedupe{Status: proto.DedupeNearDuplicate, Similarity: v.Similarity}
	if prev, err := d.getClaim(ctx, v.Of); err == nil {
		out.Of = prev.URI
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return out, nil
}

func (d *Deduper) getClaim(ctx context.Context, fp Fingerprint) (claim, error) {
	var c claim
	val, _, err := d.store.Get(ctx, ClaimKey(fp))
	if err != nil {
		return c, fmt.Errorf("dedupe: get claim: %w", err)
	}
	return c, c.unmarshal(val)
}

// claimUpdate registers the content of an update so that later copies of
// it under other uris are recognised, and indexes it unconditionally. When
// the content was claimed before (by another uri, or by this story on an
// earlier attempt) it is indexed already or covered by the claim.
func (d *Deduper) claimUpdate(ctx context.Context, s *proto.Story, f *features) error {
	f.text()
	if f.words == 0 {
		return nil
	}
	var buf [128]byte
	c := claim{Raw: f.raw, Seq: s.IngestSeq, URI: s.URI}
	_, err := d.store.Create(ctx, ClaimKey(f.fp), c.marshal(buf[:0]))
	if errors.Is(err, ErrExists) {
		prev, gerr := d.getClaim(ctx, f.fp)
		if gerr != nil || prev.Seq != s.IngestSeq || prev.URI != s.URI {
			return nil
		}
	} else if err != nil {
		return fmt.Errorf("dedupe: create claim: %w", err)
	}
	rec, _ := d.record(s, f)
	rec.Update = true
	_, err = d.near(ctx, rec)
	return err
}

// near runs rec through the index: locally, or through the Log and back.
func (d *Deduper) near(ctx context.Context, rec *Record) (Verdict, error) {
	if d.cfg.Log == nil {
		return d.Apply(rec)
	}
	ch := make(chan Verdict, 1)
	d.mu.Lock()
	d.pending[rec.Fingerprint] = append(d.pending[rec.Fingerprint], ch)
	d.mu.Unlock()
	forget := func() {
		d.mu.Lock()
		chs := d.pending[rec.Fingerprint]
		for i, c := range chs {
			if c == ch {
				chs = append(chs[:i:i], chs[i+1:]...)
				break
			}
		}
		if len(chs) == 0 {
			delete(d.pending, rec.Fingerprint)
		} else {
			d.pending[rec.Fingerprint] = chs
		}
		d.mu.Unlock()
	}
	if err := d.cfg.Log.Append(ctx, rec); err != nil {
		forget()
		return Verdict{}, fmt.Errorf("dedupe: append record: %w", err)
	}
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		forget()
		return Verdict{}, ctx.Err()
	case <-d.done:
		forget()
		return Verdict{}, ErrClosed
	}
}

// uriCache is the bounded in-process cache of uri records in front of the
// Store: two generations of maps per shard; when the young one is full the
// old one is dropped. A cached record may be behind the Store (another
// instance wrote since); that is safe because every write is a
// compare-and-set on the cached revision (a conflict refreshes it), and a
// decision taken without a write (duplicate, stale) only ever sees an older
// version than the Store holds, so it never suppresses a real update.
type uriCache struct {
	seed   maphash.Seed
	limit  int
	shards [16]cacheShard
}

type cacheShard struct {
	mu       sync.Mutex
	young    map[string]cached
	old      map[string]cached
	disabled bool
}

type cached struct {
	rec uriRecord
	rev uint64
}

func newURICache(size int) *uriCache {
	c := &uriCache{seed: maphash.MakeSeed(), limit: size / 32}
	for i := range c.shards {
		c.shards[i].young = make(map[string]cached)
		c.shards[i].disabled = size < 0
	}
	if c.limit < 1 {
		c.limit = 1
	}
	return c
}

func (c *uriCache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

func (c *uriCache) get(key string) (uriRecord, uint64, bool) {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.young[key]; ok {
		return e.rec, e.rev, true
	}
	if e, ok := sh.old[key]; ok {
		return e.rec, e.rev, true
	}
	return uriRecord{}, 0, false
}

func (c *uriCache) put(key string, rec uriRecord, rev uint64) {
	// The version may be a view into a whole message (the stage runtime
	// decodes without copying): keep a copy of its own, not the message.
	rec.Version = strings.Clone(rec.Version)
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.disabled {
		return
	}
	if len(sh.young) >= c.limit {
		sh.old, sh.young = sh.young, make(map[string]cached, c.limit)
	}
	sh.young[key] = cached{rec, rev}
}

func (c *uriCache) drop(key string) {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.young, key)
	delete(sh.old, key)
}
