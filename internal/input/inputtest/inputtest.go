// Package inputtest makes hostile inputs for tests: decompression bombs
// written through the real compressors into temporary files.
package inputtest

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// GzipBomb writes a gzip file (one member, through gzip.Writer) that
// inflates to size bytes of b: 1 GiB of one byte is about 1.3 MB.
func GzipBomb(t testing.TB, name string, size int64, b byte) string {
	return bomb(t, name, size, b, func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriterLevel(w, gzip.BestSpeed) })
}

// ZstdBomb is GzipBomb in zstd (one frame, through zstd.Encoder).
func ZstdBomb(t testing.TB, name string, size int64, b byte) string {
	return bomb(t, name, size, b, func(w io.Writer) (io.WriteCloser, error) {
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	})
}

func bomb(t testing.TB, name string, size int64, b byte, compress func(io.Writer) (io.WriteCloser, error)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, err := compress(f)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{b}, 1<<20)
	for size > 0 {
		n := min(size, int64(len(chunk)))
		if _, err := zw.Write(chunk[:n]); err != nil {
			t.Fatal(err)
		}
		size -= n
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Repeated reads n bytes of b, without holding them: an input of any
// size for tests of memory bounds.
func Repeated(b byte, n int64) io.Reader { return io.LimitReader(repeated(b), n) }

type repeated byte

func (r repeated) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// Gzip compresses b.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Zstd compresses b.
func Zstd(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return zw.EncodeAll(b, nil)
}

// Allocated runs fn and returns the bytes it allocated on the heap
// (runtime.MemStats.TotalAlloc before and after; other goroutines count
// too, so bounds should be generous).
func Allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
