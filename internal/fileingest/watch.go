package fileingest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// WatchConfig configures a directory watcher for wires that deliver by
// file drop.
type WatchConfig struct {
	Ingest Config
	// Dir is watched for new files (not subdirectories, not dot files).
	Dir string
	// Done is where processed files are moved (default Dir/processed);
	// files with rejected stories go to Dir/rejected (their valid stories
	// are stored, the invalid ones dead-lettered: the file is kept for the
	// operator).
	Done, Rejected string
	// Poll is the scan interval (default 1 s). A file is taken once its size
	// is unchanged over one interval, so half-written files are left alone.
	Poll time.Duration
}

// Watch ingests files dropped into a directory until ctx ends. Each file
// is moved aside once JetStream acknowledged its stories.
func Watch(ctx context.Context, js jetstream.JetStream, cfg WatchConfig, report io.Writer, log *zap.Logger) error {
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.Done == "" {
		cfg.Done = filepath.Join(cfg.Dir, "processed")
	}
	if cfg.Rejected == "" {
		cfg.Rejected = filepath.Join(cfg.Dir, "rejected")
	}
	if log == nil {
		log = zap.NewNop()
	}
	for _, d := range []string{cfg.Done, cfg.Rejected} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	sizes := map[string]int64{}
	for {
		entries, err := os.ReadDir(cfg.Dir)
		if err != nil {
			return err
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		seen := map[string]bool{}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
				continue
			}
			path := filepath.Join(cfg.Dir, name)
			info, err := e.Info()
			if err != nil {
				continue
			}
			seen[path] = true
			if prev, ok := sizes[path]; !ok || prev != info.Size() {
				sizes[path] = info.Size() // not settled yet: look again next time
				continue
			}
			if err := watchFile(ctx, js, cfg, path, report, log); err != nil {
				return err
			}
			delete(sizes, path)
		}
		for p := range sizes {
			if !seen[p] {
				delete(sizes, p)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(cfg.Poll):
		}
	}
}

func watchFile(ctx context.Context, js jetstream.JetStream, cfg WatchConfig, path string, report io.Writer, log *zap.Logger) error {
	inputs, closeInputs, err := OpenInputs([]string{path}, nil, cfg.Ingest.Limits.InflatedBytes)
	if err != nil {
		return err
	}
	res, err := Files(ctx, js, cfg.Ingest, inputs, report)
	closeInputs()
	if err != nil {
		// Not stored: leave the file where it is, to be tried again.
		log.Warn("watch: file not ingested, will retry", zap.String("file", path), zap.Error(err))
		return nil
	}
	dest := cfg.Done
	if res.Rejected > 0 || res.Failed > 0 {
		dest = cfg.Rejected
	}
	target := filepath.Join(dest, filepath.Base(path))
	if _, err := os.Stat(target); err == nil {
		target = filepath.Join(dest, fmt.Sprintf("%s.%d", filepath.Base(path), time.Now().UnixNano()))
	}
	if err := os.Rename(path, target); err != nil {
		return fmt.Errorf("watch: move %s: %w", path, err)
	}
	log.Info("watch: file ingested", zap.String("file", path), zap.Int("accepted", res.Accepted), zap.Int("rejected", res.Rejected),
		zap.String("moved_to", target))
	return nil
}
