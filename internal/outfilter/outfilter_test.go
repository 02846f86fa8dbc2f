package outfilter_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

func TestParse(t *testing.T) {
	data := new(wiring.Data)
	cases := []struct {
		name    string
		given   outfilter.Spec
		regions []string
		topics  []string
		urgency int
		wantErr string
	}{
		{"codes and names", outfilter.Spec{Regions: []string{"uz", "143", "central-asia", "Kenya"}}, []string{"UZ", "143", "143", "KE"}, nil, 0, ""},
		{"topics", outfilter.Spec{Topics: []string{"medtop:11000000", "11000000", "politics"}}, nil, []string{"medtop:11000000", "medtop:11000000", "medtop:11000000"}, 0, ""},
		{"urgency", outfilter.Spec{Urgency: "3"}, nil, nil, 3, ""},
		{"bad region", outfilter.Spec{Regions: []string{"atlantis"}}, nil, nil, 0, "region: unknown region \"atlantis\""},
		{"bad topic", outfilter.Spec{Topics: []string{"medtop:1"}}, nil, nil, 0, "topic:"},
		{"urgency 0", outfilter.Spec{Urgency: "0"}, nil, nil, 0, "urgency \"0\""},
		{"urgency text", outfilter.Spec{Urgency: "high"}, nil, nil, 0, "urgency \"high\""},
		{"bad status", outfilter.Spec{Statuses: []string{"duplicate"}}, nil, nil, 0, "status \"duplicate\""},
		{"empty language", outfilter.Spec{Languages: []string{" "}}, nil, nil, 0, "language"},
		{"bad language", outfilter.Spec{Languages: []string{"en gb"}}, nil, nil, 0, "language \"en gb\": a BCP 47 tag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := outfilter.Parse(data, proto.Live(), c.given)
			if c.wantErr != "" {
				if err == nil || !errors.Is(err, outfilter.ErrFilter) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(f.Regions, c.regions) || !slices.Equal(f.Topics, c.topics) || f.MaxUrgency != c.urgency {
				t.Fatalf("filter %+v, %v", f, err)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	if e := outfilter.Event(&proto.Story{PubStatus: proto.PubStatusCanceled}); e != outfilter.EventKill {
		t.Fatalf("canceled story: %s", e)
	}
	if e := outfilter.Event(&proto.Story{Dedupe: &proto.Dedupe{Status: proto.DedupeUpdate}}); e != outfilter.EventStory {
		t.Fatalf("update: %s", e)
	}
	if got := outfilter.SplitList("a, b", "", ",c,"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("SplitList: %v", got)
	}
}
