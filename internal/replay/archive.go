package replay

import (
	"bufio"
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/input"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// DefaultMemory bounds what a replay from files holds of its archives at
// once (Config.Memory).
const DefaultMemory = 256 << 20

// itemOverhead is what one buffered story costs beyond its bytes (the
// replayItem, its strings' headers, the slice slot), counted against the
// memory bound.
const itemOverhead = 192

// chunkBytes bounds the bytes of one chunk handed to the sender, so that a
// chunk of large stories does not outgrow the memory bound.
const chunkBytes = 8 << 20

// ArchiveProgress is where the reading phase of a replay from files stands:
// every archive is read once, in runs sorted by versioncreated that are
// spilled to disk when they outgrow the memory bound, before the merge
// sends the stories in order.
type ArchiveProgress struct {
	Files, FilesDone int
	Bytes, BytesDone int64 // on disk (compressed, for compressed archives)
	Stories          int   // read so far
	Runs             int   // sorted runs spilled so far (0: all in memory)
}

// archiveSource yields the stories of archives in versioncreated order
// (ties in reading order; stories without one first, in reading order)
// with memory bounded by its budget: read once, sorted in runs, spilled,
// merged.
type archiveSource struct {
	total int
	key   string
	dir   string        // spill directory ("" until the first spill)
	mem   []replayItem  // everything, when it fitted (no spill)
	pos   int           // into mem
	runs  []*runReader  // spilled runs, merged through heap
	heap  mergeHeap     // heads of runs
	chunk int           // bytes of a chunk handed to the sender, at most
	probe func(n int)   // tests: called after each story read and each chunk sent
	files []archiveFile // what was read
}

type archiveFile struct {
	name string
	size int64
}

// sortedItem is a replayItem with its reading order, the tie-breaker that
// keeps the order of the old stable sort.
type sortedItem struct {
	replayItem
	idx int
}

func sortItems(items []sortedItem) {
	sort.Slice(items, func(i, j int) bool { return lessItem(&items[i], &items[j]) })
}

func lessItem(a, b *sortedItem) bool {
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.idx < b.idx
}

// openArchives reads the archives under paths (files, directories, globs)
// and prepares the merge. memory bounds the buffered stories (0:
// DefaultMemory); spill runs go to a temporary directory under tmp ("":
// the system's), removed by Close.
func openArchives(paths []string, maxBytes int, maxInflated, memory int64, tmp string, progress func(ArchiveProgress), probe func(int)) (*archiveSource, error) {
	if maxInflated <= 0 {
		maxInflated = proto.DefaultLimits.InflatedBytes
	}
	if memory <= 0 {
		memory = DefaultMemory
	}
	st, err := ingest.New(ingest.Config{MaxBytes: maxBytes})
	if err != nil {
		return nil, err
	}
	if maxBytes == 0 {
		maxBytes = ingest.DefaultMaxBytes
	}
	src := &archiveSource{probe: probe, chunk: int(min(chunkBytes, memory/8))}
	if src.files, err = archiveFiles(paths); err != nil {
		return nil, err
	}
	var p ArchiveProgress
	p.Files = len(src.files)
	for _, f := range src.files {
		p.Bytes += f.size
	}
	report := func() {
		if progress != nil {
			progress(p)
		}
	}
	report()
	// Half the budget buffers a run; the rest is the merge's read buffers,
	// the chunk being sent and the publisher's window.
	budget := memory / 2
	var (
		buf      []sortedItem
		bufBytes int64
		keys     = sha256.New()
		lastRep  time.Time
	)
	spill := func() error {
		if len(buf) == 0 {
			return nil
		}
		sortItems(buf)
		if src.dir == "" {
			if src.dir, err = os.MkdirTemp(tmp, "wirestream-replay-"); err != nil {
				return fmt.Errorf("replay: spill directory: %w", err)
			}
		}
		r, err := writeRun(filepath.Join(src.dir, "run-"+strconv.Itoa(len(src.runs))), buf)
		if err != nil {
			return err
		}
		src.runs = append(src.runs, r)
		clear(buf)
		buf, bufBytes = buf[:0], 0
		p.Runs = len(src.runs)
		return nil
	}
	fail := func(err error) (*archiveSource, error) {
		src.Close()
		return nil, err
	}
	for _, f := range src.files {
		r, err := input.Open(f.name, nil, maxInflated)
		if err != nil {
			return fail(err)
		}
		var splitErr error
		err = fileingest.Records([]fileingest.Input{{Name: f.name, R: r}}, maxBytes, func(origin string, rec ingest.Record) error {
			var at time.Time
			if s, err := st.ParseAll(rec.Data, rec.Format); err == nil && len(s) > 0 {
				at = s[0].VersionCreated.Time()
			}
			sum := sha256.Sum256(rec.Data)
			it := sortedItem{idx: src.total, replayItem: replayItem{data: rec.Data, meta: proto.RawMeta{Format: rec.Format, Origin: origin, Source: "archive"},
				at: at, key: hex.EncodeToString(sum[:12]) + ":" + strconv.Itoa(src.total)}}
			keys.Write([]byte(it.key))
			keys.Write([]byte{0})
			src.total++
			p.Stories = src.total
			size := int64(len(it.data)+len(it.meta.Origin)+len(it.meta.Format)+len(it.key)) + itemOverhead
			if bufBytes+size > budget && len(buf) > 0 {
				if err := spill(); err != nil {
					return err
				}
			}
			buf = append(buf, it)
			bufBytes += size
			if src.probe != nil {
				src.probe(src.total)
			}
			if now := time.Now(); now.Sub(lastRep) > 200*time.Millisecond {
				lastRep = now
				report()
			}
			return nil
		}, func(_ string, err error) { splitErr = err })
		r.Close()
		if err == nil {
			err = splitErr
		}
		var ie *input.Error
		if err != nil && !errors.As(err, &ie) { // an *input.Error names the file
			err = fmt.Errorf("%s: %w", f.name, err)
		}
		if err != nil {
			return fail(err)
		}
		p.FilesDone++
		p.BytesDone += f.size
	}
	src.key = hex.EncodeToString(keys.Sum(nil)[:12])
	if len(src.runs) == 0 {
		sortItems(buf)
		src.mem = make([]replayItem, len(buf))
		for i := range buf {
			src.mem[i] = buf[i].replayItem
		}
		report()
		return src, nil
	}
	if err := spill(); err != nil {
		return fail(err)
	}
	buf = nil
	report()
	for _, r := range src.runs {
		if err := r.open(); err != nil {
			return fail(err)
		}
		it, ok, err := r.next()
		if err != nil {
			return fail(err)
		}
		if ok {
			src.heap = append(src.heap, mergeHead{item: it, run: r})
		}
	}
	heap.Init(&src.heap)
	return src, nil
}

// archiveFiles expands paths: a glob's matches, a directory's files (in
// lexical order, as filepath.WalkDir gives them), a file.
func archiveFiles(paths []string) ([]archiveFile, error) {
	var files []archiveFile
	for _, p := range paths {
		matches := []string{p}
		if _, err := os.Stat(p); err != nil && hasMeta(p) {
			if matches, err = filepath.Glob(p); err != nil {
				return nil, fmt.Errorf("replay: %q: %w", p, err)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("replay: %q matches no file", p)
			}
		}
		for _, m := range matches {
			err := filepath.WalkDir(m, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					return nil
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				files = append(files, archiveFile{name: path, size: info.Size()})
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

func hasMeta(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?', '[':
			return true
		}
	}
	return false
}

func (s *archiveSource) Total() int  { return s.total }
func (s *archiveSource) Key() string { return s.key }

// Next returns the next stories in order: at most max, and about
// min(chunkBytes, memory/8) bytes of them at most.
func (s *archiveSource) Next(_ context.Context, max int) ([]replayItem, error) {
	var (
		chunk []replayItem
		bytes int
	)
	defer func() {
		if s.probe != nil {
			s.probe(-1)
		}
	}()
	if s.runs == nil {
		for s.pos < len(s.mem) && len(chunk) < max && bytes < s.chunk {
			chunk = append(chunk, s.mem[s.pos])
			bytes += len(s.mem[s.pos].data)
			s.mem[s.pos] = replayItem{} // sent: let it go
			s.pos++
		}
		return chunk, nil
	}
	for len(s.heap) > 0 && len(chunk) < max && bytes < s.chunk {
		h := &s.heap[0]
		chunk = append(chunk, h.item.replayItem)
		bytes += len(h.item.data)
		it, ok, err := h.run.next()
		if err != nil {
			return nil, err
		}
		if ok {
			h.item = it
			heap.Fix(&s.heap, 0)
		} else {
			heap.Pop(&s.heap)
		}
	}
	return chunk, nil
}

// Close removes the spill directory.
func (s *archiveSource) Close() error {
	for _, r := range s.runs {
		r.close()
	}
	if s.dir != "" {
		return os.RemoveAll(s.dir)
	}
	return nil
}

// A run is a file of stories sorted by (at, idx), each as
// uvarint idx, varint at (Unix nanoseconds; 0 for none), then
// uvarint-length-prefixed format, origin, key and data.
type runReader struct {
	path string
	f    *os.File
	br   *bufio.Reader
}

func writeRun(path string, items []sortedItem) (*runReader, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("replay: spill: %w", err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	var tmp [binary.MaxVarintLen64]byte
	putU := func(v uint64) { bw.Write(tmp[:binary.PutUvarint(tmp[:], v)]) }
	putB := func(b []byte) { putU(uint64(len(b))); bw.Write(b) }
	putS := func(s string) { putU(uint64(len(s))); bw.WriteString(s) }
	for i := range items {
		it := &items[i]
		putU(uint64(it.idx))
		var at int64
		if !it.at.IsZero() {
			at = it.at.UnixNano()
		}
		bw.Write(tmp[:binary.PutVarint(tmp[:], at)])
		putS(it.meta.Format)
		putS(it.meta.Origin)
		putS(it.key)
		putB(it.data)
	}
	err = bw.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("replay: spill: %w", err)
	}
	return &runReader{path: path}, nil
}

func (r *runReader) open() error {
	f, err := os.Open(r.path)
	if err != nil {
		return fmt.Errorf("replay: spill: %w", err)
	}
	r.f, r.br = f, bufio.NewReaderSize(f, 64<<10)
	return nil
}

func (r *runReader) close() {
	if r.f != nil {
		r.f.Close()
	}
}

func (r *runReader) next() (sortedItem, bool, error) {
	var it sortedItem
	idx, err := binary.ReadUvarint(r.br)
	if err == io.EOF {
		return it, false, nil
	}
	bad := func(err error) (sortedItem, bool, error) {
		return it, false, fmt.Errorf("replay: spill %s: %w", r.path, err)
	}
	if err != nil {
		return bad(err)
	}
	at, err := binary.ReadVarint(r.br)
	if err != nil {
		return bad(err)
	}
	readB := func() ([]byte, error) {
		n, err := binary.ReadUvarint(r.br)
		if err != nil {
			return nil, err
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r.br, b)
		return b, err
	}
	var parts [4][]byte
	for i := range parts {
		if parts[i], err = readB(); err != nil {
			return bad(err)
		}
	}
	it.idx = int(idx)
	if at != 0 {
		it.at = time.Unix(0, at)
	}
	it.meta = proto.RawMeta{Format: string(parts[0]), Origin: string(parts[1]), Source: "archive"}
	it.key = string(parts[2])
	it.data = parts[3]
	return it, true, nil
}

type mergeHead struct {
	item sortedItem
	run  *runReader
}

type mergeHeap []mergeHead

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return lessItem(&h[i].item, &h[j].item) }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(mergeHead)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
