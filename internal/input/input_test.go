package input_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/internal/input"
	"github.com/wirestream/wirestream/internal/input/inputtest"
)

const story = `{"uri":"urn:i:1","body_text":"LIMA, Peru (AP) — Rain flooded roads."}` + "\n"

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipped(t *testing.T, s string) []byte { return inputtest.Gzip(t, []byte(s)) }

func zstded(t *testing.T, s string) []byte { return inputtest.Zstd(t, []byte(s)) }

func readAll(t *testing.T, r io.ReadCloser) ([]byte, error) {
	t.Helper()
	defer r.Close()
	return io.ReadAll(r)
}

// Plain, gzip and zstd files read the same, recognised by their magic
// numbers whatever their names; so does standard input.
func TestOpenInflates(t *testing.T) {
	for name, data := range map[string][]byte{"plain.jsonl": []byte(story), "a.jsonl.gz": gzipped(t, story),
		"no-suffix": gzipped(t, story), "a.jsonl.zst": zstded(t, story), "empty": nil} {
		r, err := input.Open(write(t, name, data), nil, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, r)
		if want := story; name == "empty" {
			want = ""
			if err != nil || len(got) != 0 {
				t.Errorf("%s: %q %v", name, got, err)
			}
		} else if err != nil || string(got) != want {
			t.Errorf("%s: %q %v", name, got, err)
		}
	}
	r, err := input.Open("-", bytes.NewReader(gzipped(t, story)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t, r); err != nil || string(got) != story {
		t.Errorf("stdin: %q %v", got, err)
	}
}

// The bomb: about a megabyte of gzip (and of zstd) that inflates to just
// over 1 GiB of one byte. Read with the default bound, it stops at
// proto.Limits.InflatedBytes with an error naming the file, and the reader
// allocates what its window needs, not what the file inflates to.
func TestBombStopsAtTheBound(t *testing.T) {
	// The bound is the reader's argument: 128 MiB here keeps the test quick
	// under -race (the default, 1 GiB, is the same code path).
	const bound = 128 << 20
	size := int64(bound + 1<<20)
	for _, path := range []string{inputtest.GzipBomb(t, "bomb.txt.gz", size, 'a'), inputtest.ZstdBomb(t, "bomb.txt.zst", size, 'a')} {
		st, _ := os.Stat(path)
		var n int64
		var err error
		alloc := inputtest.Allocated(func() {
			r, oerr := input.Open(path, nil, bound)
			if oerr != nil {
				t.Fatal(oerr)
			}
			defer r.Close()
			n, err = io.Copy(io.Discard, r)
		})
		var ie *input.Error
		if !errors.As(err, &ie) || !errors.Is(err, input.ErrInflated) || ie.Name != path ||
			!strings.Contains(err.Error(), path+": inflates to more than 134217728 bytes") {
			t.Fatalf("%s: err = %v", path, err)
		}
		if n != bound {
			t.Errorf("%s: read %d bytes before stopping, want the bound %d", path, n, bound)
		}
		if alloc > 32<<20 {
			t.Errorf("%s (%d bytes inflating to %d): allocated %d MB", path, st.Size(), size, alloc>>20)
		}
		t.Logf("%s: %d KB on disk, %d MB inflated when stopped, %d KB allocated", filepath.Base(path), st.Size()>>10, n>>20, alloc>>10)
	}
}

// An input at exactly the bound is read whole.
func TestBoundIsInclusive(t *testing.T) {
	r, _ := input.Open(write(t, "x.gz", gzipped(t, strings.Repeat("x", 1000))), nil, 1000)
	if got, err := readAll(t, r); err != nil || len(got) != 1000 {
		t.Fatalf("%d %v", len(got), err)
	}
	r, _ = input.Open(write(t, "y.gz", gzipped(t, strings.Repeat("x", 1001))), nil, 1000)
	if _, err := readAll(t, r); !errors.Is(err, input.ErrInflated) {
		t.Fatalf("1001 bytes under a bound of 1000: %v", err)
	}
	// Uncompressed files are not bounded: reading them costs no more than their size.
	r, _ = input.Open(write(t, "z.txt", []byte(strings.Repeat("x", 1001))), nil, 1000)
	if got, err := readAll(t, r); err != nil || len(got) != 1001 {
		t.Fatalf("plain: %d %v", len(got), err)
	}
}

// Corrupt or truncated compressed data is an *Error naming the input,
// found when reading (opening a file never fails on its content, so a
// watcher is not stopped by one bad file).
func TestCorrupt(t *testing.T) {
	good := gzipped(t, strings.Repeat(story, 100))
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0xff
	z := zstded(t, strings.Repeat(story, 100))
	for name, data := range map[string][]byte{
		"truncated.gz": good[:len(good)/2], "flipped.gz": flipped, "header-only.gz": good[:5],
		"truncated.zst": z[:len(z)/2], "bad-frame.zst": append([]byte{0x28, 0xb5, 0x2f, 0xfd}, bytes.Repeat([]byte{0xff}, 64)...),
	} {
		path := write(t, name, data)
		r, err := input.Open(path, nil, 1<<30)
		if err != nil {
			t.Fatalf("%s: open failed on content: %v", name, err)
		}
		_, err = readAll(t, r)
		var ie *input.Error
		if !errors.As(err, &ie) || !errors.Is(err, input.ErrCorrupt) || ie.Name != path || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// HTTP bodies: Content-Encoding names the coding; the bound holds for
// identity bodies too; an error of the body itself (the client went away,
// http.MaxBytesReader) comes through unchanged.
func TestDecode(t *testing.T) {
	for enc, body := range map[string][]byte{"": []byte(story), "identity": []byte(story), "gzip": gzipped(t, story), "zstd": zstded(t, story)} {
		r, err := input.Decode(bytes.NewReader(body), enc, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := readAll(t, r); err != nil || string(got) != story {
			t.Errorf("%q: %q %v", enc, got, err)
		}
	}
	if _, err := input.Decode(strings.NewReader(story), "br", 1<<20); !errors.Is(err, input.ErrUnsupported) {
		t.Errorf("br: %v", err)
	}
	r, _ := input.Decode(strings.NewReader(story), "", 10)
	if _, err := readAll(t, r); !errors.Is(err, input.ErrInflated) {
		t.Errorf("identity over the bound: %v", err)
	}
	boom := errors.New("connection reset")
	r, _ = input.Decode(io.MultiReader(bytes.NewReader(gzipped(t, story)[:10]), errReader{boom}), "gzip", 1<<20)
	if _, err := readAll(t, r); err != boom {
		t.Errorf("source error: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
