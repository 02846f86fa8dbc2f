package topic_test

import (
	"sync"
	"testing"

	"github.com/wirestream/wirestream/stages/tag/topic"
)

var (
	loadOnce sync.Once
	loaded   *topic.Classifier
	loadErr  error
)

func mustLoad(t testing.TB) *topic.Classifier {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = topic.Load() })
	if loadErr != nil {
		t.Fatalf("Load: %v", loadErr)
	}
	return loaded
}
