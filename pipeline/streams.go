package pipeline

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/proto"
)

// StreamsConfig sets the retention of the pipeline's streams.
type StreamsConfig struct {
	// Replicas of every stream: 1 on one server, 3 on a three-node cluster.
	Replicas int
	// HistoryMaxAge and HistoryMaxBytes bound the raw history (the input of
	// replay). Defaults 30 days and unlimited (-1).
	HistoryMaxAge   time.Duration
	HistoryMaxBytes int64
	// OutputMaxAge bounds the output stream subscribers read. Default 30 days.
	OutputMaxAge time.Duration
	// AuditMaxAge and DeadLetterMaxAge bound the audit and dead-letter
	// streams. Default 30 days each.
	AuditMaxAge      time.Duration
	DeadLetterMaxAge time.Duration
	// Duplicates is the Nats-Msg-Id window of every stream. Default 2 min,
	// longer than AckWait plus the retry backoff, so a redelivered input is
	// republished within it.
	Duplicates time.Duration
	// Memory uses memory storage instead of files (tests, benchmarks only).
	Memory bool
	// LiveNodes keeps only the full stories (Names.OutAll) in the output
	// stream: the per-node notifications (region and topic subjects) are
	// then core NATS messages for whoever is subscribed at that moment, not
	// stored. The publish stage and Subscribe read the mode from the
	// stream's subjects. It saves the server about one stored message per
	// node per story (~11), the largest part of its work per story (see
	// docs/performance.md); durable per-node consumers then read OutAll and
	// filter on the Ws-Nodes header.
	LiveNodes bool
	// ClaimCheck makes the node messages light notifications instead of
	// copies of the story: headers only, Ws-Story-Seq pointing at the full
	// story on Names.OutAll, fetched with a direct get (Subscribe does it).
	// For very high volume: it stores the body once instead of once per
	// node (see docs/subjects.md for the measured difference). Default: a
	// plain subscriber of a node receives the full ninjs JSON in the body.
	// The mode is kept in the output stream's metadata (NodeBodyKey), so
	// every publishing process follows the stream it writes to.
	ClaimCheck bool
}

// NodeBodyKey is the output stream's metadata key that says what node
// messages carry: NodeBodyFull or NodeBodyClaimCheck.
const (
	NodeBodyKey        = "wirestream.node-body"
	NodeBodyFull       = "full"
	NodeBodyClaimCheck = "claim-check"
)

func (c *StreamsConfig) setDefaults() {
	const month = 30 * 24 * time.Hour
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.HistoryMaxAge == 0 {
		c.HistoryMaxAge = month
	}
	if c.HistoryMaxBytes == 0 {
		c.HistoryMaxBytes = -1
	}
	if c.OutputMaxAge == 0 {
		c.OutputMaxAge = month
	}
	if c.AuditMaxAge == 0 {
		c.AuditMaxAge = month
	}
	if c.DeadLetterMaxAge == 0 {
		c.DeadLetterMaxAge = month
	}
	if c.Duplicates == 0 {
		c.Duplicates = 2 * time.Minute
	}
}

// Validate reports a configuration error naming the field.
func (c StreamsConfig) Validate() error {
	switch {
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("%w: StreamsConfig.Replicas %d must be 1 to 5", ErrConfig, c.Replicas)
	case c.HistoryMaxAge < 0 || c.OutputMaxAge < 0 || c.AuditMaxAge < 0 || c.DeadLetterMaxAge < 0:
		return fmt.Errorf("%w: StreamsConfig max ages must not be negative", ErrConfig)
	case c.Duplicates < time.Second:
		return fmt.Errorf("%w: StreamsConfig.Duplicates %s is under 1s", ErrConfig, c.Duplicates)
	}
	return nil
}

// StreamConfigs returns the stream configurations of a namespace.
func StreamConfigs(n proto.Names, cfg StreamsConfig) ([]jetstream.StreamConfig, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	storage := jetstream.FileStorage
	if cfg.Memory {
		storage = jetstream.MemoryStorage
	}
	base := func(name, desc string, subjects []string, maxAge time.Duration) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name:        name,
			Description: desc,
			Subjects:    subjects,
			Retention:   jetstream.LimitsPolicy,
			Storage:     storage,
			Replicas:    cfg.Replicas,
			MaxAge:      maxAge,
			MaxBytes:    -1,
			MaxMsgs:     -1,
			Discard:     jetstream.DiscardOld,
			Duplicates:  cfg.Duplicates,
		}
	}
	raw := base(n.RawStream(), "wirestream raw input history", []string{n.RawAll()}, cfg.HistoryMaxAge)
	raw.MaxBytes = cfg.HistoryMaxBytes
	var works []jetstream.StreamConfig
	for k, name := range n.WorkStreams() {
		desc := "wirestream stage-to-stage work queue"
		if n.Partitioned() {
			desc = fmt.Sprintf("wirestream stage-to-stage work queue, partition %d of %d", k, n.Partitions)
		}
		w := base(name, desc, []string{n.WorkAllOf(k)}, 0)
		w.Retention = jetstream.WorkQueuePolicy
		w.Metadata = map[string]string{PartitionsKey: strconv.Itoa(n.PartitionCount()), PartitionKey: strconv.Itoa(k)}
		works = append(works, w)
	}
	out := base(n.OutStream(), "wirestream enriched output", []string{n.OutAny()}, cfg.OutputMaxAge)
	if cfg.LiveNodes {
		out.Subjects = []string{n.OutAll()}
	}
	out.AllowDirect = true
	out.Metadata = map[string]string{NodeBodyKey: NodeBodyFull}
	if cfg.ClaimCheck {
		out.Metadata[NodeBodyKey] = NodeBodyClaimCheck
	}
	audit := base(n.AuditStream(), "wirestream dedupe audit", []string{n.AuditAll()}, cfg.AuditMaxAge)
	dlq := base(n.DLQStream(), "wirestream dead letters", []string{n.DLQAll()}, cfg.DeadLetterMaxAge)
	return slices.Concat([]jetstream.StreamConfig{raw}, works, []jetstream.StreamConfig{out, audit, dlq}), nil
}

// PartitionsKey and PartitionKey are a work stream's metadata: how many
// partitions the namespace's work subjects have, and which one it holds.
const (
	PartitionsKey = "wirestream.partitions"
	PartitionKey  = "wirestream.partition"
)

// ErrPartitions is returned when a namespace's work streams exist with
// another partition count than the one asked for.
var ErrPartitions = errors.New("pipeline: partition count differs from the namespace's")

// Partitions reads how many work partitions a namespace has on the server:
// 1 when its one work stream (<S>_WORK) exists, P when its partitioned
// streams do (<S>_WORK_0 says P in its metadata), 0 when neither exists yet.
func Partitions(ctx context.Context, js jetstream.JetStream, n proto.Names) (int, error) {
	n.Partitions = 0
	if _, err := js.Stream(ctx, n.WorkStream()); err == nil {
		return 1, nil
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, fmt.Errorf("read stream %s: %w", n.WorkStream(), err)
	}
	s, err := js.Stream(ctx, n.StreamPrefix+"_WORK_0")
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read stream %s_WORK_0: %w", n.StreamPrefix, err)
	}
	p, err := strconv.Atoi(s.CachedInfo().Config.Metadata[PartitionsKey])
	if err != nil || p < 2 {
		return 0, fmt.Errorf("stream %s_WORK_0 has no valid %s metadata (%q)", n.StreamPrefix, PartitionsKey, s.CachedInfo().Config.Metadata[PartitionsKey])
	}
	return p, nil
}

// ResolvePartitions is the partition count a process of namespace n uses:
// the namespace's own when its work streams exist (want, when not 0, must
// then be the same: changing it is a migration, docs/scaling.md), else want,
// else 1.
func ResolvePartitions(ctx context.Context, js jetstream.JetStream, n proto.Names, want int) (int, error) {
	if want < 0 || want > proto.MaxPartitions {
		return 0, fmt.Errorf("%w: %d partitions: must be 1 to %d", ErrConfig, want, proto.MaxPartitions)
	}
	have, err := Partitions(ctx, js, n)
	if err != nil {
		return 0, err
	}
	switch {
	case have == 0 && want == 0:
		return 1, nil
	case have == 0:
		return want, nil
	case want == 0 || want == have:
		return have, nil
	}
	return 0, fmt.Errorf("%w: the work streams of %s have %d partition(s), %d asked for; run with --partitions %d, "+
		"or repartition while the pipeline is stopped and its work queues are empty (wirestream repartition --partitions %d, docs/scaling.md)",
		ErrPartitions, n.StreamPrefix, have, want, have, want)
}

// EnsureStreams creates the streams of a namespace. Creating them again with
// the same configuration is a no-op; a stream that exists with a different
// configuration is an error wrapping ErrIncompatible that names the fields.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, n proto.Names, cfg StreamsConfig) error {
	cfgs, err := StreamConfigs(n, cfg)
	if err != nil {
		return err
	}
	for _, sc := range cfgs {
		if err := ensureStream(ctx, js, sc); err != nil {
			return err
		}
	}
	return nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) error {
	_, err := js.CreateStream(ctx, want)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("create stream %s: %w", want.Name, err)
	}
	s, ierr := js.Stream(ctx, want.Name)
	if ierr != nil {
		return fmt.Errorf("create stream %s: %w (and reading it: %v)", want.Name, err, ierr)
	}
	have := s.CachedInfo().Config
	if diff := streamDiff(want, have); diff != "" {
		return fmt.Errorf("%w: stream %s exists with %s; delete it (nats stream rm %s) or run with matching settings",
			ErrIncompatible, want.Name, diff, want.Name)
	}
	// The node body mode is only metadata (subscribers read both forms):
	// a stream made before it existed, or in the other mode, is updated
	// in place and keeps its messages.
	for k, v := range want.Metadata {
		if have.Metadata[k] == v {
			continue
		}
		upd := have
		upd.Metadata = maps.Clone(have.Metadata)
		if upd.Metadata == nil {
			upd.Metadata = map[string]string{}
		}
		maps.Copy(upd.Metadata, want.Metadata)
		if _, err := js.UpdateStream(ctx, upd); err != nil {
			return fmt.Errorf("update stream %s metadata: %w", want.Name, err)
		}
		break
	}
	return nil
}

func streamDiff(want, have jetstream.StreamConfig) string {
	var d []string
	add := func(field string, w, h any) { d = append(d, fmt.Sprintf("%s %v (want %v)", field, h, w)) }
	if !slices.Equal(want.Subjects, have.Subjects) {
		add("subjects", want.Subjects, have.Subjects)
	}
	if want.Retention != have.Retention {
		add("retention", want.Retention, have.Retention)
	}
	if want.Storage != have.Storage {
		add("storage", want.Storage, have.Storage)
	}
	if want.Replicas != have.Replicas {
		add("replicas", want.Replicas, have.Replicas)
	}
	if want.MaxAge != have.MaxAge {
		add("max age", want.MaxAge, have.MaxAge)
	}
	if want.MaxBytes != have.MaxBytes {
		add("max bytes", want.MaxBytes, have.MaxBytes)
	}
	if want.Duplicates != have.Duplicates {
		add("duplicate window", want.Duplicates, have.Duplicates)
	}
	if want.AllowDirect != have.AllowDirect {
		add("allow direct", want.AllowDirect, have.AllowDirect)
	}
	return strings.Join(d, ", ")
}

// ensureConsumer creates a durable consumer, or checks that the existing
// one is compatible.
func ensureConsumer(ctx context.Context, js jetstream.JetStream, stream string, want jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	c, err := js.CreateConsumer(ctx, stream, want)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerExists) {
		return nil, fmt.Errorf("create consumer %q on %s: %w", want.Durable, stream, err)
	}
	c, ierr := js.Consumer(ctx, stream, want.Durable)
	if ierr != nil {
		return nil, fmt.Errorf("create consumer %q on %s: %w (and reading it: %v)", want.Durable, stream, err, ierr)
	}
	have := c.CachedInfo().Config
	var d []string
	if want.FilterSubject != have.FilterSubject {
		d = append(d, fmt.Sprintf("filter %q (want %q)", have.FilterSubject, want.FilterSubject))
	}
	if want.AckPolicy != have.AckPolicy {
		d = append(d, fmt.Sprintf("ack policy %v (want %v)", have.AckPolicy, want.AckPolicy))
	}
	if want.AckWait != have.AckWait {
		d = append(d, fmt.Sprintf("ack wait %s (want %s)", have.AckWait, want.AckWait))
	}
	if want.MaxAckPending != have.MaxAckPending {
		d = append(d, fmt.Sprintf("max ack pending %d (want %d)", have.MaxAckPending, want.MaxAckPending))
	}
	if want.MaxDeliver != have.MaxDeliver {
		d = append(d, fmt.Sprintf("max deliver %d (want %d)", have.MaxDeliver, want.MaxDeliver))
	}
	if len(d) == 0 {
		return c, nil
	}
	// The advice: ack wait, max ack pending and max deliver can be edited
	// in place, which keeps the consumer's position. Deleting it makes the
	// next start create a new consumer at the beginning of the stream: on
	// a work queue that is only what is still unprocessed, but on the raw
	// history (ws-ingest) it would ingest every retained story again.
	return nil, fmt.Errorf("%w: consumer %q on %s exists with %s; run with matching settings, or edit it in place "+
		"(nats consumer edit %s %s --wait=%s --max-pending=%d --max-deliver=%d); deleting it makes a new one start at the beginning of %s",
		ErrIncompatible, want.Durable, stream, strings.Join(d, ", "), stream, want.Durable,
		want.AckWait, want.MaxAckPending, want.MaxDeliver, stream)
}
