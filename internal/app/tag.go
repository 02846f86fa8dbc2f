package app

import (
	"sync"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/stages/tag"
)

// The tag stage's data (gazetteer, taxonomy) is loaded once per process and
// shared by the tag stage and the CLI's region and topic look-ups.
var (
	tagOnce  sync.Once
	tagStage *tag.Stage
	tagErr   error
)

// Tagger returns the process's tag stage, loading it on first use.
func Tagger() (*tag.Stage, error) {
	tagOnce.Do(func() { tagStage, tagErr = tag.New() })
	return tagStage, tagErr
}

var _ pipeline.Handler = (*tag.Stage)(nil)

func regionName(token string) string {
	if t, err := Tagger(); err == nil {
		if _, name, ok := t.ResolveRegion(token); ok {
			return name
		}
	}
	return ""
}

func topicLabel(token string) string {
	if t, err := Tagger(); err == nil {
		if _, label, ok := t.ResolveTopic(token); ok {
			return label
		}
	}
	return ""
}
