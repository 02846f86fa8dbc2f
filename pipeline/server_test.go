package pipeline_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/wirestream/wirestream/pipeline"
)

// Two servers on one store corrupt it: the second start is refused at
// once, naming the holder; after the first shuts down the directory is free.
func TestServerRefusesHeldDataDir(t *testing.T) {
	dir := t.TempDir()
	first, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: dir, ReadyTimeout: time.Second}, nil)
	if !errors.Is(err, pipeline.ErrDirInUse) || !strings.Contains(err.Error(), fmt.Sprintf("data directory %s is in use (pid %d)", dir, os.Getpid())) {
		t.Fatalf("second server on the same store: %v", err)
	}
	first.Shutdown()
	first.WaitForShutdown()
	again, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: dir}, nil)
	if err != nil {
		t.Fatalf("after the first shut down: %v", err)
	}
	again.Shutdown()
	again.WaitForShutdown()
}

// A lock left by a process killed with SIGKILL does not block the next
// start: the operating system released it with the process.
func TestServerStartsAfterKilledHolder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldDataDir$")
	cmd.Env = append(os.Environ(), "WS_HOLD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf) // "held" once the child has the lock
	if !strings.Contains(string(buf[:n]), "held") {
		t.Fatalf("child: %q", buf[:n])
	}
	_, err = pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: dir}, nil)
	if !errors.Is(err, pipeline.ErrDirInUse) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("while the child holds it: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: dir}, nil)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	s.Shutdown()
	s.WaitForShutdown()
}

// TestHoldDataDir is the child of TestServerStartsAfterKilledHolder: it
// runs a server on WS_HOLD_DIR until it is killed.
func TestHoldDataDir(t *testing.T) {
	dir := os.Getenv("WS_HOLD_DIR")
	if dir == "" {
		t.Skip("helper process")
	}
	if _, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: dir}, nil); err != nil {
		t.Fatal(err)
	}
	fmt.Println("held")
	time.Sleep(time.Minute)
}

// A port in use is said at once, not as a server that never got ready.
func TestServerPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = pipeline.StartServer(pipeline.ServerConfig{Listen: ln.Addr().String(), StoreDir: t.TempDir()}, nil)
	want := "listen " + ln.Addr().String() + ": address already in use (another wirestream run or nats-server?)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// With a user and password the embedded server refuses clients without
// them; listening beyond loopback without them is warned about at start.
func TestServerAuth(t *testing.T) {
	s, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(), User: "desk", Password: "s3cret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if nc, err := pipeline.Connect(pipeline.ConnConfig{URL: s.ClientURL()}, nil); err == nil {
		nc.Close()
		t.Fatal("a client without credentials was let in")
	}
	if nc, err := pipeline.Connect(pipeline.ConnConfig{URL: s.ClientURL(), User: "desk", Password: "wrong"}, nil); err == nil {
		nc.Close()
		t.Fatal("a wrong password was let in")
	}
	nc, err := pipeline.Connect(pipeline.ConnConfig{URL: s.ClientURL(), User: "desk", Password: "s3cret"}, nil)
	if err != nil {
		t.Fatalf("with the credentials: %v", err)
	}
	nc.Close()

	core, logs := observer.New(zap.WarnLevel)
	open, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "0.0.0.0:-1", StoreDir: t.TempDir()}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { open.Shutdown(); open.WaitForShutdown() }()
	if logs.FilterMessageSnippet("without authentication").Len() != 1 {
		t.Errorf("no warning for a server open beyond loopback: %v", logs.All())
	}
	for _, l := range logs.All() {
		if strings.Contains(fmt.Sprint(l.ContextMap()), "s3cret") {
			t.Errorf("a password was logged: %v", l)
		}
	}
}
