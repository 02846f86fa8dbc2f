package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrDirInUse is returned when another process holds a data directory.
var ErrDirInUse = errors.New("pipeline: data directory in use")

// lockName is the lock file a process holds in its data directory while an
// embedded server runs on it.
const lockName = "wirestream.lock"

// held maps the directories this process's servers hold to a function
// telling whether that server still runs, so
// that a start on a directory whose server is shutting down waits for it,
// while one whose server runs is refused at once.
var held sync.Map // dir -> *heldDir

// heldDir is a data directory this process holds: running reports whether
// its server still runs.
type heldDir struct{ running func() bool }

// lockDir takes the lock of dir for this process: an advisory lock on
// dir/wirestream.lock (flock on Unix, LockFileEx on Windows), which the
// operating system releases when the process ends, however it ends, so a
// lock left by a killed process never blocks the next start. The file holds
// the holder's pid, for the error message. unlock releases it.
func lockDir(dir string, running func() bool) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, lockName)
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		err = tryLock(f)
		if err == nil {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			entry := &heldDir{running: running}
			held.Store(dir, entry)
			// The file first, the entry after (only if still ours): a start
			// in between would find neither the entry to wait on nor the
			// lock free.
			return func() { _ = unlockFile(f); f.Close(); held.CompareAndDelete(dir, entry) }, nil
		}
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		pid := strings.TrimSpace(string(b[:n]))
		// A server of this process shutting down releases its lock a moment
		// after its Shutdown returns: wait for it (a restart in place).
		if r, ok := held.Load(dir); ok && !r.(*heldDir).running() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if pid == "" {
			pid = "unknown"
		}
		return nil, fmt.Errorf("%w: data directory %s is in use (pid %s)", ErrDirInUse, dir, pid)
	}
}
