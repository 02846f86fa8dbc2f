// Package pipelinetest starts real NATS servers for tests: an embedded
// nats-server with JetStream on a free port and a temporary store, shut down
// when the test ends. There are no mocks of NATS in wirestream's tests.
package pipelinetest

import (
	"bytes"
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
)

// StartServer runs an embedded nats-server (JetStream, port -1, store in
// t.TempDir()) until the test ends.
func StartServer(t testing.TB) *server.Server {
	t.Helper()
	return StartServerAt(t, "127.0.0.1:-1", t.TempDir())
}

// StartServerAt runs an embedded server on listen with its store in dir, so
// that a test can stop it and start it again on the same port and files.
func StartServerAt(t testing.TB, listen, dir string) *server.Server {
	t.Helper()
	s, err := pipeline.StartServer(pipeline.ServerConfig{Listen: listen, StoreDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// Connect opens a client connection and a JetStream context, closed when the
// test ends.
func Connect(t testing.TB, s *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := pipeline.Connect(pipeline.ConnConfig{URL: s.ClientURL(), Name: t.Name()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// Context returns a context cancelled when the test ends or after d.
func Context(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Eventually polls cond every 10 ms until it is true or d has passed, then
// fails the test with msg. An argument that is a function without
// parameters and with one result is called at failure time, so the message
// shows the value then, not when Eventually was called.
func Eventually(t testing.TB, d time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			for i, a := range args {
				if v := reflect.ValueOf(a); v.Kind() == reflect.Func && v.Type().NumIn() == 0 && v.Type().NumOut() == 1 {
					args[i] = v.Call(nil)[0].Interface()
				}
			}
			t.Fatalf("condition not met after "+d.String()+": "+msg, args...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StreamMsgs returns the number of messages in a stream on one subject
// ("" for all); it fails the test if the server does not answer.
func StreamMsgs(t testing.TB, js jetstream.JetStream, stream, subject string) uint64 {
	t.Helper()
	n, err := CountMsgs(js, stream, subject)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// CountMsgs is StreamMsgs returning the error, for polling while a cluster
// elects a new leader (its API may time out meanwhile).
func CountMsgs(js jetstream.JetStream, stream, subject string) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return pipeline.CountMsgs(ctx, js, stream, subject)
}

// Run starts st and waits until it consumes; the returned stop drains it
// (also called when the test ends).
func Run(t testing.TB, st *pipeline.Stage) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	select {
	case <-st.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("stage %s did not start: %v", st.Name(), err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("stage %s: %v", st.Name(), err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// SyncBuffer is a bytes.Buffer safe to write from one goroutine (a process's
// stderr, a logger) and read from another (the test).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
