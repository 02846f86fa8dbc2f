package pipeline_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

// A bucket is checked like a stream: the same settings again are accepted;
// an existing bucket with a shorter TTL, another history or replica count is
// an error naming each field and the command that fixes it in place, and
// after that fix (applied here through the API, as nats stream edit does) it
// is accepted.
func TestEnsureBucketChecksExisting(t *testing.T) {
	s := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, s)
	ctx := pipelinetest.Context(t, 20*time.Second)
	want := jetstream.KeyValueConfig{Bucket: "WS_DEDUPE", History: 1, TTL: 7 * 24 * time.Hour, Storage: jetstream.FileStorage}
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "WS_DEDUPE", History: 2, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	_, err := pipeline.EnsureBucket(ctx, js, want)
	if !errors.Is(err, pipeline.ErrIncompatible) {
		t.Fatalf("err = %v, want ErrIncompatible", err)
	}
	for _, part := range []string{"ttl 1h0m0s (want 168h0m0s)", "history 2 (want 1)", "nats stream edit KV_WS_DEDUPE --max-age=168h0m0s --max-msgs-per-subject=1"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
	st, err := js.Stream(ctx, "KV_WS_DEDUPE")
	if err != nil {
		t.Fatal(err)
	}
	sc := st.CachedInfo().Config
	sc.MaxAge, sc.MaxMsgsPerSubject = want.TTL, 1
	if _, err := js.UpdateStream(ctx, sc); err != nil {
		t.Fatal(err)
	}
	kv, err := pipeline.EnsureBucket(ctx, js, want)
	if err != nil {
		t.Fatalf("after the advised edit: %v", err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.EnsureBucket(ctx, js, want); err != nil {
		t.Fatalf("the same settings again: %v", err)
	}
}

// Storage cannot be edited in place: the advice is to delete the bucket.
func TestEnsureBucketStorage(t *testing.T) {
	s := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, s)
	ctx := pipelinetest.Context(t, 20*time.Second)
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "B", Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	_, err := pipeline.EnsureBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "B", Storage: jetstream.FileStorage})
	if !errors.Is(err, pipeline.ErrIncompatible) || !strings.Contains(err.Error(), "storage Memory (want File)") || !strings.Contains(err.Error(), "nats kv rm B") {
		t.Fatalf("err = %v", err)
	}
}
