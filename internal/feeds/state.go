package feeds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
)

// Bucket is the JetStream KV bucket of feed state and leases: key
// state.<feed> holds a State, lease.<feed> a Lease.
const Bucket = "WS_FEEDS"

// DefaultSeenCap bounds the item versions a feed's state remembers beyond
// those its latest poll saw.
const DefaultSeenCap = 20000

// EnsureBucket creates the feeds bucket or opens it (checked as
// pipeline.EnsureBucket checks).
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	return pipeline.EnsureBucket(ctx, js, jetstream.KeyValueConfig{Bucket: Bucket, Replicas: replicas,
		Description: "wirestream feed pollers: per-feed state and leases"})
}

// State is what a feed's pollers share, in KV key state.<feed>.
type State struct {
	Feed         string `json:"feed"`
	Cursor       string `json:"cursor,omitempty"`        // cursor-json: the next page to fetch
	ETag         string `json:"etag,omitempty"`          // validators of the last 200 answer
	LastModified string `json:"last_modified,omitempty"` //
	// Seen holds a key per item version already published (itemKey), those
	// the latest poll saw first, then older ones up to the cap.
	Seen        []string  `json:"seen,omitempty"`
	LastPoll    time.Time `json:"last_poll,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastItem    time.Time `json:"last_item,omitzero"` // when an item was last published
	LastItemID  string    `json:"last_item_id,omitempty"`
	Error       string    `json:"error,omitempty"` // the last poll's error, "" when it succeeded
	ErrorKind   string    `json:"error_kind,omitempty"`
	Failures    int       `json:"failures,omitempty"`  // transient failures in a row
	NotBefore   time.Time `json:"not_before,omitzero"` // backoff: no poll before this, whoever holds the feed
	Holder      string    `json:"holder,omitempty"`    // the process that wrote this state
	Polls       uint64    `json:"polls"`
	Items       uint64    `json:"items"` // items published, all time
}

// itemKey identifies one version of one item of a feed: a hash of both, so
// long ids cost the state nothing more.
func itemKey(id, version string) string {
	h := sha256.New()
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write([]byte(version))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// MsgID is the Nats-Msg-Id of an item's publish: the feed, the item and its
// version, so the same version is stored once even when two pollers (a
// holder taken over mid-poll) publish it, and a new version is stored again.
func MsgID(feed, id, version string) string {
	return "feed:" + feed + ":" + itemKey(id, version) + itemKey(version, id)[:8]
}

func stateKey(feed string) string { return "state." + feed }
func leaseKey(feed string) string { return "lease." + feed }

// loadState reads a feed's state and its revision (0: none yet).
func loadState(ctx context.Context, kv jetstream.KeyValue, feed string) (*State, uint64, error) {
	e, err := kv.Get(ctx, stateKey(feed))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return &State{Feed: feed}, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read feed state %s: %w", feed, err)
	}
	var s State
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return nil, 0, fmt.Errorf("feed state %s is not readable (%v): delete it with nats kv del %s %s", feed, err, Bucket, stateKey(feed))
	}
	return &s, e.Revision(), nil
}

// errStateMoved is a state written by another process since it was read:
// this process no longer holds the feed.
var errStateMoved = errors.New("feed state changed under this process (another holds the feed)")

// saveState writes s if the state is still at rev; it returns the new
// revision.
func saveState(ctx context.Context, kv jetstream.KeyValue, s *State, rev uint64) (uint64, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	var nrev uint64
	if rev == 0 {
		nrev, err = kv.Create(ctx, stateKey(s.Feed), b)
	} else {
		nrev, err = kv.Update(ctx, stateKey(s.Feed), b, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || isWrongSeq(err) {
		return 0, errStateMoved
	}
	if err != nil {
		return 0, fmt.Errorf("write feed state %s: %w", s.Feed, err)
	}
	return nrev, nil
}

func isWrongSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Lease is a feed's lease, in KV key lease.<feed>.
type Lease struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
}

// lease is this process's hold on one feed.
type lease struct {
	kv     jetstream.KeyValue
	feed   string
	holder string
	ttl    time.Duration
	rev    uint64 // revision of our lease entry; 0: not held
}

// acquire takes the lease when it is free or expired, renews it when held:
// a create or an update at the revision read, so of processes racing for
// it exactly one wins. It reports whether this process holds the feed.
func (l *lease) acquire(ctx context.Context) (bool, error) {
	val, _ := json.Marshal(Lease{Holder: l.holder, Expires: time.Now().Add(l.ttl)})
	if l.rev != 0 {
		rev, err := l.kv.Update(ctx, leaseKey(l.feed), val, l.rev)
		if err == nil {
			l.rev = rev
			return true, nil
		}
		l.rev = 0
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSeq(err) {
			return false, fmt.Errorf("renew lease %s: %w", l.feed, err)
		}
		// Someone else wrote it: read it again below.
	}
	e, err := l.kv.Get(ctx, leaseKey(l.feed))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		rev, err := l.kv.Create(ctx, leaseKey(l.feed), val)
		if err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) || isWrongSeq(err) {
				return false, nil
			}
			return false, fmt.Errorf("take lease %s: %w", l.feed, err)
		}
		l.rev = rev
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read lease %s: %w", l.feed, err)
	}
	var cur Lease
	if json.Unmarshal(e.Value(), &cur) == nil && cur.Holder != l.holder && time.Now().Before(cur.Expires) {
		return false, nil // held by another, and alive
	}
	rev, err := l.kv.Update(ctx, leaseKey(l.feed), val, e.Revision())
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSeq(err) {
			return false, nil
		}
		return false, fmt.Errorf("take lease %s: %w", l.feed, err)
	}
	l.rev = rev
	return true, nil
}

// release gives the lease up (on shutdown), if still ours.
func (l *lease) release(ctx context.Context) {
	if l.rev == 0 {
		return
	}
	_ = l.kv.Delete(ctx, leaseKey(l.feed), jetstream.LastRevision(l.rev))
	l.rev = 0
}

// ReadAll reads every feed's state and lease, for `wirestream feeds`.
func ReadAll(ctx context.Context, kv jetstream.KeyValue) (map[string]*State, map[string]Lease, error) {
	states, leases := map[string]*State{}, map[string]Lease{}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	for k := range lister.Keys() {
		e, err := kv.Get(ctx, k)
		if err != nil {
			continue // deleted since listed
		}
		switch {
		case len(k) > 6 && k[:6] == "state.":
			var s State
			if json.Unmarshal(e.Value(), &s) == nil {
				states[k[6:]] = &s
			}
		case len(k) > 6 && k[:6] == "lease.":
			var l Lease
			if json.Unmarshal(e.Value(), &l) == nil {
				leases[k[6:]] = l
			}
		}
	}
	return states, leases, nil
}
