package dedupe

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Sentinel errors.
var (
	// ErrExists is returned by Store.Create when the key is already present.
	ErrExists = errors.New("dedupe: key exists")
	// ErrNotFound is returned by Store.Get for an absent (or expired) key.
	ErrNotFound = errors.New("dedupe: key not found")
	// ErrConflict is returned by Store.Update when the revision moved on.
	ErrConflict = errors.New("dedupe: revision conflict")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("dedupe: closed")
	// ErrInvalidConfig wraps every Config.Validate failure.
	ErrInvalidConfig = errors.New("dedupe: invalid config")
	// ErrInvalidStory is returned by Decide for a nil story or an empty uri.
	ErrInvalidStory = errors.New("dedupe: invalid story")
)

// Store is the shared, durable state that makes many Deduper instances
// decide as one. Implementations: NewMemoryStore (this package, for tests
// and the offline enrich command) and a JetStream KV bucket (package
// pipeline) whose MaxAge is the retention window.
//
// Keys are valid NATS KV keys: "u.<22 base64url chars>" for the record of a
// uri and "f.<22 base64url chars>" for the claim of a content fingerprint.
// Values are small binary blobs (about 40 and 60 bytes) that the
// implementation stores opaquely. Revisions are positive and increase with
// every write to a key (a JetStream KV revision is the stream sequence).
// An entry expires when it has not been written for the retention window.
//
// All methods must be safe for concurrent use.
type Store interface {
	// Create stores value under key only if key is absent (atomic
	// create-if-absent; JetStream KV Create). It returns the new revision,
	// or ErrExists (possibly wrapped) when key is present.
	Create(ctx context.Context, key string, value []byte) (rev uint64, err error)
	// Get returns the current value and revision of key, or ErrNotFound.
	Get(ctx context.Context, key string) (value []byte, rev uint64, err error)
	// Update replaces the value only if the current revision of key is rev
	// (compare-and-set; JetStream KV Update), else it returns ErrConflict.
	Update(ctx context.Context, key string, value []byte, rev uint64) (newRev uint64, err error)
}

// MemoryStore is an in-memory Store with the same semantics as the
// JetStream one, including expiry of entries not written for the window.
// Memory is bounded: entries live in a few generations of maps and a whole
// generation is dropped when it falls out of the window.
type MemoryStore struct {
	window time.Duration
	now    func() time.Time
	seed   maphash.Seed
	rev    atomic.Uint64
	shards [32]memShard
}

type memShard struct {
	mu   sync.Mutex
	gens []memGen // newest first
}

type memGen struct {
	start time.Time // first write
	last  time.Time // latest write: the generation is live while now-last <= window
	m     map[string]memEntry
}

type memEntry struct {
	val []byte
	rev uint64
}

// NewMemoryStore returns an empty in-memory Store whose entries expire once
// they have not been written for window (0 means DefaultWindow). now is the
// clock (nil means time.Now).
func NewMemoryStore(window time.Duration, now func() time.Time) *MemoryStore {
	if window <= 0 {
		window = DefaultWindow
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{window: window, now: now, seed: maphash.MakeSeed()}
}

// memGens is how many generations cover the window: an entry lives between
// window and window*(1+1/memGens) after its last write.
const memGens = 4

func (m *MemoryStore) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
}

// current returns the newest generation, starting a new one and dropping
// expired ones as time passes. Called with sh.mu held.
func (m *MemoryStore) current(sh *memShard) *memGen {
	now := m.now()
	span := m.window / memGens
	if len(sh.gens) == 0 || now.Sub(sh.gens[0].start) >= span {
		sh.gens = append([]memGen{{start: now, last: now, m: make(map[string]memEntry)}}, sh.gens...)
		// A generation goes once its latest write is older than window.
		for len(sh.gens) > 1 && now.Sub(sh.gens[len(sh.gens)-1].last) > m.window {
			sh.gens = sh.gens[:len(sh.gens)-1]
		}
	}
	return &sh.gens[0]
}

// find returns the generation holding key. Called with sh.mu held.
func (m *MemoryStore) find(sh *memShard, key string) (int, memEntry, bool) {
	now := m.now()
	for i := range sh.gens {
		if e, ok := sh.gens[i].m[key]; ok {
			// The generation's latest write bounds the entry's own.
			if now.Sub(sh.gens[i].last) <= m.window {
				return i, e, true
			}
			return i, memEntry{}, false
		}
	}
	return -1, memEntry{}, false
}

// Create implements Store.
func (m *MemoryStore) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur := m.current(sh)
	i, _, ok := m.find(sh, key)
	if ok {
		return 0, ErrExists
	}
	if i >= 0 {
		delete(sh.gens[i].m, key)
	}
	rev := m.rev.Add(1)
	cur.last = m.now()
	cur.m[key] = memEntry{val: append([]byte(nil), value...), rev: rev}
	return rev, nil
}

// Get implements Store.
func (m *MemoryStore) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	m.current(sh)
	_, e, ok := m.find(sh, key)
	if !ok {
		return nil, 0, ErrNotFound
	}
	return append([]byte(nil), e.val...), e.rev, nil
}

// peek is Get without its side effect of starting or dropping generations
// (the ordered state's readers outside the apply goroutine use it, so that
// generations turn at the same records on every instance).
func (m *MemoryStore) peek(key string) ([]byte, bool) {
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, e, ok := m.find(sh, key)
	if !ok {
		return nil, false
	}
	return append([]byte(nil), e.val...), true
}

// Update implements Store.
func (m *MemoryStore) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	sh := m.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur := m.current(sh)
	i, e, ok := m.find(sh, key)
	if !ok || e.rev != rev {
		return 0, ErrConflict
	}
	if i > 0 {
		delete(sh.gens[i].m, key)
	}
	nr := m.rev.Add(1)
	cur.last = m.now()
	cur.m[key] = memEntry{val: append(e.val[:0:0], value...), rev: nr}
	return nr, nil
}

// Len returns the number of live keys (for tests and memory reports). It
// also drops generations that fell out of the window.
func (m *MemoryStore) Len() int {
	n := 0
	now := m.now()
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		m.current(sh)
		for _, g := range sh.gens {
			if now.Sub(g.last) <= m.window {
				n += len(g.m)
			}
		}
		sh.mu.Unlock()
	}
	return n
}
