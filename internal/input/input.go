// Package input opens outside input for reading, the one way every command
// and endpoint does: files and standard input (`wirestream ingest`,
// `ingest --watch`, `enrich`, `replay --from-files`) and HTTP request
// bodies. gzip and zstd are inflated (recognised by their magic numbers, or
// named by Content-Encoding), and what a compressed input inflates to is
// bounded (proto.Limits.InflatedBytes, or the HTTP body limit): a small
// file that inflates to gigabytes stops at the bound with an error naming
// it, and memory stays that of the decompressor's window, never of the
// inflated size.
package input

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// Errors of an input's content (as opposed to the caller's): corrupt
// compressed data, or more than the bound once inflated. Both come as an
// *Error naming the input.
var (
	ErrCorrupt  = errors.New("input: corrupt compressed data")
	ErrInflated = errors.New("input: inflates beyond the limit")
)

// Error is a failure of one input's content.
type Error struct {
	Name  string // the file, "-" for standard input, or what the caller named it
	Limit int64  // the bound, for ErrInflated
	Err   error  // wraps ErrCorrupt or ErrInflated
}

func (e *Error) Error() string {
	if errors.Is(e.Err, ErrInflated) {
		return fmt.Sprintf("%s: inflates to more than %d bytes (the limit of one compressed input)", e.Name, e.Limit)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Encodings, as in HTTP's Content-Encoding.
const (
	Identity = "identity"
	Gzip     = "gzip"
	Zstd     = "zstd"
)

// zstdMaxWindow bounds a zstd frame's window, the memory its decoder holds
// (zstd levels up to 19 use at most 8 MiB; --long and --ultra frames are
// refused as corrupt).
const zstdMaxWindow = 8 << 20

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Open opens the named file ("-": stdin) for reading, inflated when it
// is compressed, as NewReader.
func Open(name string, stdin io.Reader, max int64) (io.ReadCloser, error) {
	if name == "-" {
		return NewReader(stdin, name, max), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return &reader{name: name, src: f, closeSrc: f.Close, max: max}, nil
}

// NewReader reads r, inflated when it starts with the gzip or zstd magic
// number, and fails with an *Error naming the input once more than max
// inflated bytes come (an uncompressed input is not bounded: it costs no
// more to read than its size). Nothing is read from r before the first
// Read, so opening never fails on content.
func NewReader(r io.Reader, name string, max int64) io.ReadCloser {
	return &reader{name: name, src: r, max: max}
}

// Decode reads an HTTP body in the given Content-Encoding ("" or
// identity, gzip, zstd), failing with an *Error once more than max bytes
// come, inflated or not. An unknown encoding is an error wrapping
// ErrUnsupported.
func Decode(r io.Reader, encoding string, max int64) (io.ReadCloser, error) {
	switch encoding {
	case "", Identity, Gzip, Zstd:
	default:
		return nil, fmt.Errorf("%w: Content-Encoding %q (use gzip, zstd or identity)", ErrUnsupported, encoding)
	}
	return &reader{name: "body", src: r, max: max, encoding: encoding, bounded: true}, nil
}

// ErrUnsupported is an encoding Decode does not know.
var ErrUnsupported = errors.New("input: unsupported encoding")

// reader inflates src on first Read and bounds what it yields.
type reader struct {
	name     string
	src      io.Reader
	closeSrc func() error
	max      int64
	encoding string // "" detects from the magic number
	bounded  bool   // bound identity too

	r       io.Reader // the decompressor, or src buffered
	closeR  func()
	n       int64 // bytes yielded so far
	limited bool
	err     error
}

func (x *reader) open() error {
	br := bufio.NewReaderSize(source{x.src}, 32<<10)
	enc := x.encoding
	if enc == "" {
		enc = Identity
		if magic, _ := br.Peek(4); len(magic) >= 2 && string(magic[:2]) == string(gzipMagic) {
			enc = Gzip
		} else if string(magic) == string(zstdMagic) {
			enc = Zstd
		}
	}
	switch enc {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return x.wrap(fmt.Errorf("gzip: %w", err))
		}
		x.r, x.closeR, x.limited = zr, func() { zr.Close() }, true
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecodeBuffersBelow(0))
		if err != nil {
			return x.wrap(fmt.Errorf("zstd: %w", err))
		}
		x.r, x.closeR, x.limited = zr, zr.Close, true
	default:
		x.r, x.limited = br, x.bounded
	}
	return nil
}

func (x *reader) corrupt(err error) error {
	return &Error{Name: x.name, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
}

func (x *reader) Read(p []byte) (int, error) {
	if x.err != nil {
		return 0, x.err
	}
	if x.r == nil {
		if x.err = x.open(); x.err != nil {
			return 0, x.err
		}
	}
	if !x.limited {
		n, err := x.r.Read(p)
		if err != nil && err != io.EOF {
			x.err = x.wrap(err)
			return n, x.err
		}
		return n, err
	}
	if x.n >= x.max {
		// At the bound: one more byte means too much.
		var one [1]byte
		n, err := io.ReadFull(x.r, one[:])
		switch {
		case n > 0:
			x.err = &Error{Name: x.name, Limit: x.max, Err: ErrInflated}
		case err == io.EOF:
			x.err = io.EOF
		default:
			x.err = x.wrap(err)
		}
		return 0, x.err
	}
	if rest := x.max - x.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := x.r.Read(p)
	x.n += int64(n)
	if err != nil && err != io.EOF {
		x.err = x.wrap(err)
		return n, x.err
	}
	return n, err
}

// wrap makes a decompressor's error an *Error naming the input; an error
// of the source itself (a file, a connection, http.MaxBytesReader) is
// passed on as it is.
func (x *reader) wrap(err error) error {
	var se sourceError
	if errors.As(err, &se) {
		return se.err
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return x.corrupt(err)
}

// source tags the errors of the reader beneath the decompressor.
type source struct{ r io.Reader }

func (s source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = sourceError{err}
	}
	return n, err
}

type sourceError struct{ err error }

func (e sourceError) Error() string { return e.err.Error() }
func (e sourceError) Unwrap() error { return e.err }

func (x *reader) Close() error {
	if x.closeR != nil {
		x.closeR()
	}
	if x.closeSrc != nil {
		return x.closeSrc()
	}
	return nil
}
