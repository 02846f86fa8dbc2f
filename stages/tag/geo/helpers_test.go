package geo_test

import (
	"sync"
	"testing"

	"github.com/wirestream/wirestream/stages/tag/geo"
)

var (
	gazOnce sync.Once
	gaz     *geo.Gazetteer
	gazErr  error
)

// loadGazetteer loads the embedded gazetteer once per test binary.
func loadGazetteer(t testing.TB) *geo.Gazetteer {
	t.Helper()
	gazOnce.Do(func() { gaz, gazErr = geo.Load() })
	if gazErr != nil {
		t.Fatalf("Load: %v", gazErr)
	}
	return gaz
}
