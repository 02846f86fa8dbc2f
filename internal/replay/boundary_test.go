package replay_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/internal/input"
	"github.com/wirestream/wirestream/internal/input/inputtest"
	"github.com/wirestream/wirestream/internal/replay"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// replay --from-files reads zstd archives as it reads gzip ones, and stops
// at an archive that inflates beyond proto.Limits.InflatedBytes with an
// error naming it, having allocated a few megabytes (it used to inflate
// gzip archives whole into memory: about 2.6 GB for this one).
func TestReplayArchiveBounds(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	dir := t.TempDir()
	items := corpus.Generate(corpus.Config{Stories: 2, Size: 600, Seed: 5})
	b, err := corpus.JSONLines(items)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "archive.jsonl.zst"), inputtest.Zstd(t, b), 0o644))
	ctx := pipelinetest.Context(t, 120*time.Second)
	t.Run("zstd", func(t *testing.T) {
		res, err := replay.Run(ctx, js, replay.Config{Live: proto.Live(), Into: "zst", Files: []string{dir}}, nil)
		if err != nil || res.Total != 2 || res.DeadLettered != 0 || res.Published != 2 {
			t.Fatalf("zstd archive: %+v %v", res, err)
		}
	})
	t.Run("bomb", func(t *testing.T) {
		// A bound of 64 MiB keeps the test quick under -race; the default
		// (1 GiB) takes the same path.
		const bound = 64 << 20
		bomb := inputtest.GzipBomb(t, "bomb.txt.gz", bound+1<<20, 'a')
		var err error
		alloc := inputtest.Allocated(func() {
			_, err = replay.Run(ctx, js, replay.Config{Live: proto.Live(), Into: "bomb", Files: []string{bomb}, MaxInflated: bound}, nil)
		})
		if alloc > 64<<20 {
			t.Errorf("replaying a bomb allocated %d MiB", alloc>>20)
		}
		if !errors.Is(err, input.ErrInflated) || !strings.Contains(err.Error(), bomb+": inflates to more than 67108864 bytes") {
			t.Fatalf("bomb: %v", err)
		}
		t.Logf("bomb: %v; %d KiB allocated", err, alloc>>10)
	})
}
