package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// EnsureBucket creates a KV bucket, or opens the existing one after checking
// it as EnsureStreams checks streams: a bucket that exists with another TTL,
// history, replica count or storage is an error wrapping ErrIncompatible
// that names the fields and the command that fixes them. (A KV bucket is the
// stream KV_<bucket>; TTL is its max age and history its messages per
// subject.)
func EnsureBucket(ctx context.Context, js jetstream.JetStream, want jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if want.History == 0 {
		want.History = 1
	}
	if want.Replicas == 0 {
		want.Replicas = 1
	}
	kv, err := js.CreateKeyValue(ctx, want)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketExists) {
		return nil, fmt.Errorf("create bucket %s: %w", want.Bucket, err)
	}
	stream := "KV_" + want.Bucket
	s, serr := js.Stream(ctx, stream)
	if serr != nil {
		return nil, fmt.Errorf("create bucket %s: %w (and reading it: %v)", want.Bucket, err, serr)
	}
	have := s.CachedInfo().Config
	if diff, fix := bucketDiff(want, have); len(diff) > 0 {
		return nil, fmt.Errorf("%w: bucket %s exists with %s; run with matching settings, or %s",
			ErrIncompatible, want.Bucket, strings.Join(diff, ", "), fix)
	}
	return js.KeyValue(ctx, want.Bucket)
}

// bucketDiff lists how an existing bucket's stream differs from want, and
// the command that brings it in line: nats stream edit for what can change
// in place, deleting the bucket (its contents are lost) for storage.
func bucketDiff(want jetstream.KeyValueConfig, have jetstream.StreamConfig) (diff []string, fix string) {
	var edit []string
	if want.TTL != have.MaxAge {
		diff = append(diff, fmt.Sprintf("ttl %s (want %s)", have.MaxAge, want.TTL))
		edit = append(edit, "--max-age="+want.TTL.String())
	}
	if int64(want.History) != have.MaxMsgsPerSubject {
		diff = append(diff, fmt.Sprintf("history %d (want %d)", have.MaxMsgsPerSubject, want.History))
		edit = append(edit, fmt.Sprintf("--max-msgs-per-subject=%d", want.History))
	}
	if want.Replicas != have.Replicas {
		diff = append(diff, fmt.Sprintf("replicas %d (want %d)", have.Replicas, want.Replicas))
		edit = append(edit, fmt.Sprintf("--replicas=%d", want.Replicas))
	}
	stream := "KV_" + want.Bucket
	if want.Storage != have.Storage {
		diff = append(diff, fmt.Sprintf("storage %s (want %s)", have.Storage, want.Storage))
		return diff, fmt.Sprintf("delete it to have it made again (nats kv rm %s; what it holds is lost)", want.Bucket)
	}
	return diff, fmt.Sprintf("edit it in place (nats stream edit %s %s)", stream, strings.Join(edit, " "))
}
