package geo_test

import (
	"sync"
	"testing"

	"github.com/wirestream/wirestream/proto"
	textkit "github.com/wirestream/wirestream/stages/internal/text"
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

// ingested does to a story built by hand what the ingest stage does before
// the tagger sees it: it records the body's dateline (Story.Dateline) and
// takes located from it when the story has none. It returns s.
func ingested(s *proto.Story) *proto.Story {
	textkit.Locate(s)
	return s
}
