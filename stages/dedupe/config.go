package dedupe

import (
	"fmt"
	"time"
)

// Defaults.
const (
	// DefaultWindow is how long what was seen is remembered.
	DefaultWindow = 7 * 24 * time.Hour
	// DefaultThreshold is the estimated Jaccard similarity of word 3-shingles
	// at or above which another uri's story is a near duplicate. Chosen from
	// the precision/recall curve in docs/dedupe.md.
	DefaultThreshold = 0.55
	// DefaultBands and DefaultRows shape the LSH: 8 bands of 4 MinHash
	// values (32 values per signature).
	DefaultBands = 8
	DefaultRows  = 4
	// DefaultShingle is the number of words per shingle.
	DefaultShingle = 3
	// maxShingle bounds Config.Shingle.
	maxShingle = 16
	// DefaultGenerations is how many index generations cover the window.
	DefaultGenerations = 7
	// DefaultCacheSize is how many uri records the in-process cache holds.
	DefaultCacheSize = 1 << 16
	// DefaultRetries bounds compare-and-set retries on one uri record.
	DefaultRetries = 16
)

// Config configures a Deduper. The zero value gives the defaults.
type Config struct {
	// Window is the retention window (default DefaultWindow, 7 days). The
	// Store's entries must expire after the same window (the JetStream
	// bucket's MaxAge).
	Window time.Duration
	// Threshold is the near-duplicate similarity threshold in (0, 1]
	// (default DefaultThreshold).
	Threshold float64
	// Bands and Rows shape the LSH index (defaults 8 and 4); Bands*Rows
	// MinHash values per story, at most 64 bands. All instances sharing a
	// log must use the same Bands, Rows and Shingle.
	Bands, Rows int
	// Shingle is the number of words per shingle (default 3).
	Shingle int
	// Generations is how many index generations cover Window (default 7:
	// one per day). More generations drop expired stories more promptly.
	Generations int
	// CacheSize bounds the in-process cache of uri records (default 65536;
	// negative disables the cache).
	CacheSize int
	// Retries bounds compare-and-set retries on one uri record (default 16).
	Retries int
	// Log, when set, is the shared log of signature records that keeps the
	// near-duplicate indexes of all instances in step (see Log). When nil
	// the index is local: right for one instance or the offline command.
	Log Log
	// Ordered (with Log set) puts the whole decision of every story
	// through the Log: one record per story carries everything the
	// decision needs, every instance applies the log in order to its own
	// in-memory state (uri records, content claims, index) and decides a
	// story against exactly the records before it. The Store is then not
	// used (New accepts nil). See docs/dedupe.md, "Ordered log".
	Ordered bool
}

func (c *Config) setDefaults() {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.Bands == 0 {
		c.Bands = DefaultBands
	}
	if c.Rows == 0 {
		c.Rows = DefaultRows
	}
	if c.Shingle == 0 {
		c.Shingle = DefaultShingle
	}
	if c.Generations == 0 {
		c.Generations = DefaultGenerations
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	}
}

// Validate reports a configuration that cannot work (after defaults).
func (c *Config) Validate() error {
	switch {
	case c.Window < time.Second:
		return fmt.Errorf("%w: window %v is under a second", ErrInvalidConfig, c.Window)
	case !(c.Threshold > 0 && c.Threshold <= 1):
		return fmt.Errorf("%w: threshold %v outside (0, 1]", ErrInvalidConfig, c.Threshold)
	case c.Bands < 1 || c.Bands > 64:
		return fmt.Errorf("%w: bands %d outside 1-64", ErrInvalidConfig, c.Bands)
	case c.Rows < 1 || c.Bands*c.Rows > 1024:
		return fmt.Errorf("%w: rows %d (bands*rows must be 1-1024)", ErrInvalidConfig, c.Rows)
	case c.Shingle < 1 || c.Shingle > maxShingle:
		return fmt.Errorf("%w: shingle %d outside 1-%d", ErrInvalidConfig, c.Shingle, maxShingle)
	case c.Generations < 1 || c.Generations > 1000:
		return fmt.Errorf("%w: generations %d outside 1-1000", ErrInvalidConfig, c.Generations)
	case c.Retries < 1:
		return fmt.Errorf("%w: retries %d", ErrInvalidConfig, c.Retries)
	}
	return nil
}
