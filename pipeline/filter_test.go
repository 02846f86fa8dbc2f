package pipeline_test

import (
	"slices"
	"testing"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

func TestFilterMatch(t *testing.T) {
	n := proto.Live()
	ns, _ := proto.Namespace("out") // a namespace named like a subject token
	uz := &proto.Story{URI: "u", Urgency: 3, Language: "en-GB", Dedupe: &proto.Dedupe{Status: proto.DedupeUpdate},
		Place:   []*proto.Place{{Scheme: proto.SchemeCountry, Code: "UZ"}, {Scheme: proto.SchemeM49, Code: "143"}},
		Subject: []*proto.Subject{{Scheme: proto.SchemeMedTop, Code: "medtop:11000000"}}}
	nodes := n.Region("143") + " " + n.Region("UZ") + " " + n.Topic("11000000")
	killed := *uz
	killed.PubStatus = proto.PubStatusCanceled
	for _, c := range []struct {
		name  string
		f     pipeline.Filter
		s     *proto.Story
		nodes string
		want  bool
	}{
		{"zero filter", pipeline.Filter{}, uz, nodes, true},
		{"region and topic", pipeline.Filter{Regions: []string{"143"}, Topics: []string{"medtop:11000000"}}, uz, nodes, true},
		{"region matches, topic does not", pipeline.Filter{Regions: []string{"143"}, Topics: []string{"medtop:04000000"}}, uz, nodes, false},
		{"M49 code unpadded", pipeline.Filter{Regions: []string{"143"}}, uz, nodes, true},
		{"suffix is not a match", pipeline.Filter{Regions: []string{"43"}}, uz, nodes, false},
		{"suffix topic is not a match", pipeline.Filter{Topics: []string{"01000000"}}, uz, n.Topic("11000000"), false},
		{"lower-case country", pipeline.Filter{Regions: []string{"uz"}}, uz, nodes, true},
		{"any of the regions", pipeline.Filter{Regions: []string{"KE", "UZ"}}, uz, nodes, true},
		{"region from the story when no header", pipeline.Filter{Regions: []string{"UZ"}}, uz, "", true},
		{"namespace called out", pipeline.Filter{Regions: []string{"UZ"}}, uz, ns.Region("UZ"), true},
		{"urgency at most", pipeline.Filter{MaxUrgency: 3}, uz, nodes, true},
		{"urgency too low", pipeline.Filter{MaxUrgency: 2}, uz, nodes, false},
		{"no urgency does not pass", pipeline.Filter{MaxUrgency: 9}, &proto.Story{}, "", false},
		{"language primary subtag", pipeline.Filter{Languages: []string{"en"}}, uz, nodes, true},
		{"language case", pipeline.Filter{Languages: []string{"EN-gb"}}, uz, nodes, true},
		{"language other region", pipeline.Filter{Languages: []string{"en-US"}}, uz, nodes, false},
		{"language prefix is not a subtag", pipeline.Filter{Languages: []string{"e"}}, uz, nodes, false},
		{"status update", pipeline.Filter{Statuses: []string{"update"}}, uz, nodes, true},
		{"status new", pipeline.Filter{Statuses: []string{"new"}}, uz, nodes, false},
		{"canceled is a kill", pipeline.Filter{Statuses: []string{"kill"}}, &killed, nodes, true},
		{"no dedupe is new", pipeline.Filter{Statuses: []string{"new"}}, &proto.Story{}, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.f.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := c.f.Match(c.s, c.nodes); got != c.want {
				t.Errorf("Match = %v, want %v", got, c.want)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	for _, f := range []pipeline.Filter{
		{Regions: []string{"Uzbekistan"}}, {Topics: []string{"politics"}}, {MaxUrgency: 10}, {MaxUrgency: -1},
		{Languages: []string{"e n"}}, {Languages: []string{""}}, {Languages: []string{"1en"}}, {Statuses: []string{"duplicate"}},
	} {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", f)
		}
	}
}

func TestFilterSubjects(t *testing.T) {
	n := proto.Live()
	for _, c := range []struct {
		f    pipeline.Filter
		want string
	}{
		{pipeline.Filter{}, n.OutAll()},
		{pipeline.Filter{Regions: []string{"143"}, Topics: []string{"medtop:11000000"}, MaxUrgency: 3}, n.Region("143")},
		{pipeline.Filter{Topics: []string{"11000000"}, Languages: []string{"en"}}, n.Topic("11000000")},
		{pipeline.Filter{Regions: []string{"UZ", "KZ"}, Topics: []string{"medtop:11000000"}}, n.Topic("11000000")},
		{pipeline.Filter{Regions: []string{"UZ", "KZ"}}, n.OutAll()},
		{pipeline.Filter{Statuses: []string{"kill"}}, n.OutAll()},
	} {
		if got := c.f.Subjects(n); !slices.Equal(got, []string{c.want}) {
			t.Errorf("Subjects(%+v) = %v, want [%s]", c.f, got, c.want)
		}
	}
}
