package pipeline

// TEMPORARY SHIM (untracked): replaced by the delivery branch's filter.go.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wirestream/wirestream/proto"
)

type Filter struct {
	Regions, Topics []string
	MaxUrgency      int
	Languages       []string
	Statuses        []string
}

func (f Filter) Validate() error {
	for _, r := range f.Regions {
		if _, err := proto.RegionToken(r); err != nil {
			return err
		}
	}
	for _, r := range f.Topics {
		if _, err := proto.TopicToken(r); err != nil {
			return err
		}
	}
	for _, s := range f.Statuses {
		switch s {
		case "new", "update", "kill":
		default:
			return fmt.Errorf("status %q", s)
		}
	}
	if f.MaxUrgency < 0 || f.MaxUrgency > 9 {
		return fmt.Errorf("urgency %d", f.MaxUrgency)
	}
	return nil
}

func (f Filter) Match(s *proto.Story, nodes string) bool {
	list := strings.Fields(nodes)
	has := func(suffix string) bool {
		for _, n := range list {
			if strings.HasSuffix(n, suffix) {
				return true
			}
		}
		return false
	}
	if len(f.Regions) > 0 && !slices.ContainsFunc(f.Regions, func(r string) bool { t, _ := proto.RegionToken(r); return has(".region." + t) }) {
		return false
	}
	if len(f.Topics) > 0 && !slices.ContainsFunc(f.Topics, func(r string) bool { t, _ := proto.TopicToken(r); return has(".topic." + t) }) {
		return false
	}
	if f.MaxUrgency > 0 && (s.Urgency == 0 || int(s.Urgency) > f.MaxUrgency) {
		return false
	}
	if len(f.Languages) > 0 && !slices.Contains(f.Languages, s.Language) {
		return false
	}
	if len(f.Statuses) > 0 {
		st := "new"
		if s.Dedupe != nil {
			st = s.Dedupe.Status
		}
		if s.Canceled() {
			st = "kill"
		}
		if !slices.Contains(f.Statuses, st) {
			return false
		}
	}
	return true
}

func (f Filter) Subjects(n proto.Names) []string { return []string{n.OutAll()} }
