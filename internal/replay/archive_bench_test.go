package replay

import (
	"context"
	"os"
	"testing"
)

// benchArchive reads 20,000 stories of about 1 KB (about 15 MB on disk over three
// files, one gzipped) with the memory bound given, sorting and merging them
// in versioncreated order; it reports stories/s and bytes/s (of the files
// on disk) and the spilled runs.
func benchArchive(b *testing.B, memory int64) {
	paths := writeArchive(b, b.TempDir(), 20000, 1000)
	var size int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	tmp := b.TempDir()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	runs := 0
	for range b.N {
		src, err := openArchives("bench", paths, 0, 0, memory, tmp, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		runs = len(src.runs)
		n := 0
		for {
			chunk, err := src.Next(context.Background(), replayChunk)
			if err != nil {
				b.Fatal(err)
			}
			if len(chunk) == 0 {
				break
			}
			n += len(chunk)
		}
		src.Close()
		if n != 20000 {
			b.Fatalf("read %d stories, want 20000", n)
		}
	}
	b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "stories/s")
	b.ReportMetric(float64(runs), "runs")
}

// BenchmarkArchiveInMemory: the bound holds the whole archive, one sort in
// memory, no spill.
func BenchmarkArchiveInMemory(b *testing.B) { benchArchive(b, 256<<20) }

// BenchmarkArchiveExternalSort: an 8 MiB bound, sorted runs spilled to disk
// and merged k-way.
func BenchmarkArchiveExternalSort(b *testing.B) { benchArchive(b, 8<<20) }
