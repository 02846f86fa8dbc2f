package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"
)

// Input is one input of a stage: a stream and the filter subject its
// consumer reads.
type Input struct {
	Stream, Subject string
}

// Partition leases. A partitioned stage's processes share its partitions
// through a KV bucket whose entries expire LeaseTTL after their last write:
//
//	<stage>.members.<id>   one per process of the stage, rewritten every LeaseTTL/4
//	<stage>.p.<k>          the lease of partition k: the id of the process consuming it
//
// Every LeaseTTL/4 a process renews its member entry and its leases
// (compare-and-set on the revision it holds: a lease it no longer holds is
// given up at once), counts the members N, and aims at ceil(P/N)
// partitions: it takes free ones (create: only when nobody holds it) while
// it has fewer, and hands back the extra ones while it has more (it stops
// fetching them, finishes what it had in flight, then deletes the lease, so
// the next holder starts after the last input the previous one handled).
// A process that dies without handing back (SIGKILL, a lost node) stops
// renewing: its leases expire after LeaseTTL and the others take them over;
// what it had in flight is redelivered after AckWait, as without partitions.
// On shutdown a process drains its partitions and deletes its leases at
// once, so the others take over without waiting for the TTL.
const (
	leaseMembers = ".members."
	leasePart    = ".p."
)

type heldLease struct {
	rev      uint64
	cancel   context.CancelFunc
	done     chan error // the partition's consume result
	handing  bool       // being handed back: draining, lease still renewed
	lost     bool       // its renewal was refused: another process may hold it now
	consumed bool       // done has been read
}

// runPartitions consumes the partitions this process holds, rebalancing
// every LeaseTTL/4, until ctx ends or a partition stops consuming on its own.
func (st *Stage) runPartitions(ctx context.Context) error {
	cfg := st.cfg
	kv, err := ensureLeaseBucket(ctx, st.js, cfg.LeaseBucket, cfg.LeaseTTL, cfg.Partitions[0].Stream)
	if err != nil {
		return err
	}
	id := nuid.Next()
	log := st.log.With(zap.String("process", id))
	memberKey := cfg.Name + leaseMembers + id
	leaseKey := func(k int) string { return cfg.Name + leasePart + strconv.Itoa(k) }
	p := len(cfg.Partitions)
	// Each process tries the free partitions from its own starting point,
	// so that processes starting together do not all race for partition 0.
	h := fnv.New32a()
	h.Write([]byte(id))
	first := int(h.Sum32() % uint32(p))

	held := map[int]*heldLease{}
	stopped := make(chan int, p) // a partition's consume returned
	var failed error
	start := func(k int, rev uint64) {
		pctx, cancel := context.WithCancel(ctx)
		l := &heldLease{rev: rev, cancel: cancel, done: make(chan error, 1)}
		held[k] = l
		st.active.Add(1)
		log.Info("partition taken", zap.Int("partition", k), zap.String("stream", cfg.Partitions[k].Stream))
		go func() {
			err := st.consume(pctx, cfg.Partitions[k], func() {})
			st.active.Add(-1)
			l.done <- err
			stopped <- k
		}()
	}
	release := func(k int, l *heldLease) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if l.lost {
			delete(held, k)
			return
		}
		if err := kv.Delete(dctx, leaseKey(k), jetstream.LastRevision(l.rev)); err != nil {
			log.Warn("partition lease not deleted (it expires)", zap.Int("partition", k), zap.Error(err))
		}
		delete(held, k)
	}

	pass := func() {
		octx, cancel := context.WithTimeout(ctx, cfg.LeaseTTL/2)
		defer cancel()
		if _, err := kv.Put(octx, memberKey, nil); err != nil {
			log.Warn("partition lease bucket: member entry not renewed", zap.Error(err))
			return
		}
		for k, l := range held {
			if l.lost {
				continue
			}
			rev, err := kv.Update(octx, leaseKey(k), []byte(id), l.rev)
			if err != nil {
				if octx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
					continue // try again next time; the lease is still ours until it expires
				}
				log.Warn("partition lease lost: stopping it", zap.Int("partition", k), zap.Error(err))
				l.cancel()
				l.handing, l.lost = true, true
				continue
			}
			l.rev = rev
		}
		members, err := countKeys(octx, kv, cfg.Name+leaseMembers+"*")
		if err != nil {
			log.Warn("partition lease bucket: members not read", zap.Error(err))
			return
		}
		want := (p + max(members, 1) - 1) / max(members, 1)
		var keep []int
		for k, l := range held {
			if !l.handing {
				keep = append(keep, k)
			}
		}
		slices.Sort(keep)
		for len(keep) > want {
			k := keep[len(keep)-1]
			keep = keep[:len(keep)-1]
			log.Info("partition handed back (rebalancing)", zap.Int("partition", k), zap.Int("members", members), zap.Int("share", want))
			held[k].handing = true
			held[k].cancel()
		}
		for i := 0; i < p && len(keep) < want; i++ {
			k := (first + i) % p
			if held[k] != nil {
				continue
			}
			rev, err := kv.Create(octx, leaseKey(k), []byte(id))
			if err != nil {
				continue // held by another process (or the bucket is unreachable: next time)
			}
			start(k, rev)
			keep = append(keep, k)
		}
	}

	pass()
	close(st.ready)
	tick := time.NewTicker(cfg.LeaseTTL / 4)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case k := <-stopped:
			l := held[k]
			err := <-l.done
			l.consumed = true
			if err != nil && ctx.Err() == nil && !l.handing {
				failed = fmt.Errorf("partition %d: %w", k, err)
				break loop
			}
			release(k, l)
		case <-tick.C:
			pass()
		}
	}
	// Shutdown (or a partition failed): drain every partition, then hand
	// the leases back at once.
	for _, l := range held {
		l.cancel()
	}
	for len(held) > 0 {
		k := <-stopped
		l := held[k]
		if !l.consumed {
			if err := <-l.done; err != nil && failed == nil && ctx.Err() == nil {
				failed = fmt.Errorf("partition %d: %w", k, err)
			}
		}
		release(k, l)
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = kv.Delete(dctx, memberKey)
	return failed
}

// countKeys counts the live keys of kv matching filter.
func countKeys(ctx context.Context, kv jetstream.KeyValue, filter string) (int, error) {
	l, err := kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	for range l.Keys() {
		n++
	}
	_ = l.Stop() // the lister has ended: Stop only releases it
	return n, nil
}

// ensureLeaseBucket opens the lease bucket, creating it (with the replicas
// of the stream the leases are for) when it does not exist.
func ensureLeaseBucket(ctx context.Context, js jetstream.JetStream, bucket string, ttl time.Duration, stream string) (jetstream.KeyValue, error) {
	if kv, err := js.KeyValue(ctx, bucket); err == nil {
		return kv, nil
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("partition lease bucket %s: %w", bucket, err)
	}
	replicas := 1
	if s, err := js.Stream(ctx, stream); err == nil {
		replicas = s.CachedInfo().Config.Replicas
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "wirestream partition leases",
		History:     1,
		TTL:         ttl,
		Replicas:    replicas,
		Storage:     jetstream.FileStorage,
	})
	if errors.Is(err, jetstream.ErrBucketExists) || (err != nil && strings.Contains(err.Error(), "already in use")) {
		return js.KeyValue(ctx, bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("create partition lease bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// PartitionLease is who holds one partition of a stage.
type PartitionLease struct {
	Stage     string
	Partition int
	Holder    string // the holding process's id, "" when free
}

// Leases reads the partition leases of a namespace's lease bucket: which
// process consumes which partition of each stage, and the members of each
// stage. A missing bucket is no leases.
func Leases(ctx context.Context, js jetstream.JetStream, bucket string) (leases []PartitionLease, members map[string]int, err error) {
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	l, err := kv.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	members = map[string]int{}
	for key := range l.Keys() {
		if stage, _, ok := strings.Cut(key, leaseMembers); ok {
			members[stage]++
			continue
		}
		stage, part, ok := strings.Cut(key, leasePart)
		if !ok {
			continue
		}
		k, err := strconv.Atoi(part)
		if err != nil {
			continue
		}
		e, err := kv.Get(ctx, key)
		if err != nil {
			continue
		}
		leases = append(leases, PartitionLease{Stage: stage, Partition: k, Holder: string(e.Value())})
	}
	slices.SortFunc(leases, func(a, b PartitionLease) int {
		if c := strings.Compare(a.Stage, b.Stage); c != 0 {
			return c
		}
		return a.Partition - b.Partition
	})
	_ = l.Stop()
	return leases, members, nil
}
