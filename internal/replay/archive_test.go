package replay

import (
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// writeArchive writes n ninjs stories of about size bytes in shuffled
// versioncreated order (every tenth shares its time with another, to check
// ties keep reading order) over three files under dir, the last gzipped.
// It returns the files and, per story uri, its versioncreated.
func writeArchive(t testing.TB, dir string, n, size int) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	order := rng.Perm(n)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	filler := strings.Repeat("The minister said the talks would resume on Monday. ", size/52+1)[:size]
	names := []string{filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "c.jsonl.gz")}
	var files []*os.File
	for _, name := range names {
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	gz := gzip.NewWriter(files[2])
	for i, k := range order {
		at := base.Add(time.Duration(k) * time.Second)
		if k%10 == 1 {
			at = base.Add(time.Duration(k-1) * time.Second) // a tie with story k-1
		}
		line := fmt.Sprintf(`{"uri":"urn:test:%06d","versioncreated":%q,"headline":"Story %d","body_text":%q}`+"\n", k, at.Format(time.RFC3339), k, filler)
		var err error
		switch i % 3 {
		case 0, 1:
			_, err = files[i%3].WriteString(line)
		default:
			_, err = gz.Write([]byte(line))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// liveHeap is the heap the live objects occupy, measured after a GC.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// readAll opens the archives with the memory bound and reads every story
// back, measuring the live heap above what it was before as it goes (every
// 200 stories read and after each chunk).
func readAll(t *testing.T, paths []string, memory int64) (keys []string, ats []time.Time, peak uint64, runs int) {
	t.Helper()
	base := liveHeap()
	probe := func(n int) {
		if n%200 != 0 && n >= 0 {
			return
		}
		if h := liveHeap(); h > base && h-base > peak {
			peak = h - base
		}
	}
	src, err := openArchives("test", paths, 0, 0, memory, t.TempDir(), nil, probe)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	runs = len(src.runs)
	for {
		chunk, err := src.Next(context.Background(), replayChunk)
		if err != nil {
			t.Fatal(err)
		}
		if len(chunk) == 0 {
			break
		}
		for _, it := range chunk {
			uri := it.data[len(`{"uri":"`) : len(`{"uri":"`)+len("urn:test:000000")]
			keys = append(keys, string(uri))
			ats = append(ats, it.at)
		}
	}
	if len(keys) != src.Total() {
		t.Fatalf("read %d stories, Total says %d", len(keys), src.Total())
	}
	return keys, ats, peak, runs
}

// TestArchiveReplayBoundedMemory reads an archive five times larger than
// the memory bound: the live heap stays under the bound, every story comes
// once, in versioncreated order, ties in reading order, and the order is
// the one an in-memory sort gives.
func TestArchiveReplayBoundedMemory(t *testing.T) {
	const (
		n      = 6000
		size   = 3000
		memory = 4 << 20
	)
	dir := t.TempDir()
	paths := writeArchive(t, dir, n, size)
	var total int64
	for _, p := range paths {
		fi, _ := os.Stat(p)
		total += fi.Size()
	}
	keys, ats, peak, runs := readAll(t, []string{filepath.Join(dir, "*.jsonl*")}, memory)
	t.Logf("%d stories, %.1f MB of stories (%.1f MB on disk), bound %d MB: %d sorted runs spilled, peak live heap %.2f MB above the start",
		len(keys), float64(n*size)/1e6, float64(total)/1e6, memory>>20, runs, float64(peak)/1e6)
	if n*size < 4*memory {
		t.Fatalf("the archive (%d bytes of stories) is not 4x the bound", n*size)
	}
	if peak > memory {
		t.Errorf("peak live heap %d bytes above the start, over the bound of %d", peak, memory)
	}
	if runs < 2 {
		t.Fatalf("%d runs: the archive was not sorted externally", runs)
	}
	if len(keys) != n {
		t.Fatalf("%d stories, want %d", len(keys), n)
	}
	seen := make(map[string]int, n)
	for i, k := range keys {
		seen[k]++
		if i > 0 && ats[i].Before(ats[i-1]) {
			t.Fatalf("story %d (%s, %s) before story %d (%s)", i, k, ats[i], i-1, ats[i-1])
		}
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("%s came %d times", k, c)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct stories, want %d", len(seen), n)
	}
	// The same archive sorted in memory (no spill) gives the same order,
	// ties included.
	mem, _, _, memRuns := readAll(t, paths, 1<<30)
	if memRuns != 0 {
		t.Fatalf("%d runs under a 1 GiB bound", memRuns)
	}
	for i := range mem {
		if mem[i] != keys[i] {
			t.Fatalf("story %d: %s merged, %s sorted in memory", i, keys[i], mem[i])
		}
	}
}
