package publish_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/publish"
)

func TestNodes(t *testing.T) {
	p := publish.New(proto.Live())
	s := &proto.Story{URI: "u", Place: []*proto.Place{
		{Scheme: proto.SchemeCountry, Code: "UZ", Rel: proto.RelLocated},
		{Scheme: proto.SchemeM49, Code: "143"},
		{Scheme: proto.SchemeM49, Code: "142"},
		{Scheme: proto.SchemeCountry, Code: "ru"},
		{Scheme: proto.SchemeCountry, Code: "UZ", Rel: proto.RelMentioned}, // listed twice: one node
		{Scheme: proto.SchemeGeoNames, Code: "1216265"},                    // a city: its own node, not a region
		nil,
	}, Subject: []*proto.Subject{
		{Scheme: proto.SchemeMedTop, Code: "medtop:16000000"},
		{Scheme: proto.SchemeMedTop, Code: "medtop:11000000"},
		{Scheme: "iptc-subject", Code: "11000000"}, // another scheme
		{Scheme: proto.SchemeMedTop, Code: "medtop:11000000"},
	}}
	want := []string{"ws.out.region.142", "ws.out.region.143", "ws.out.region.RU", "ws.out.region.UZ",
		"ws.out.city.1216265", "ws.out.topic.11000000", "ws.out.topic.16000000"}
	if got := p.Nodes(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("Nodes = %v\nwant    %v", got, want)
	}
	if got := p.Nodes(&proto.Story{URI: "u"}); len(got) != 0 {
		t.Fatalf("untagged story has nodes %v", got)
	}
}

// The city nodes are bounded: the located city and the first
// MaxMentionedCityNodes mentioned cities; a city listed twice is one node.
func TestCityNodesBounded(t *testing.T) {
	p := publish.New(proto.Live())
	s := &proto.Story{URI: "u"}
	for i, id := range []string{"5", "1", "2", "2", "3", "4", "6"} {
		rel := proto.RelMentioned
		if i == 0 {
			rel = proto.RelLocated
		}
		s.Place = append(s.Place, &proto.Place{Scheme: proto.SchemeGeoNames, Code: id, Rel: rel})
	}
	s.Place = append(s.Place, &proto.Place{Scheme: proto.SchemeGeoNames, Code: "x1"}) // not an id: no node
	want := []string{"ws.out.city.1", "ws.out.city.2", "ws.out.city.3", "ws.out.city.5"}
	if got := p.Nodes(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("Nodes = %v\nwant    %v", got, want)
	}
}

func TestHandleRejectsInvalid(t *testing.T) {
	p := publish.New(proto.Live())
	_, err := p.Handle(context.Background(), &proto.Story{URI: ""})
	if !proto.IsPermanent(err) || !errors.Is(err, proto.ErrInvalidStory) {
		t.Fatalf("err = %v, want a permanent invalid-story error", err)
	}
	out, err := p.Handle(context.Background(), &proto.Story{URI: "u", BodyText: "b"})
	if err != nil || len(out) != 1 {
		t.Fatalf("valid story: %v %v", out, err)
	}
}

func BenchmarkNodes(b *testing.B) {
	p := publish.New(proto.Live())
	s := &proto.Story{URI: "u"}
	for _, c := range []string{"UZ", "RU", "CN", "143", "142", "150", "151"} {
		sch := proto.SchemeCountry
		if c[0] >= '0' && c[0] <= '9' {
			sch = proto.SchemeM49
		}
		s.Place = append(s.Place, &proto.Place{Scheme: sch, Code: c})
	}
	for _, c := range []string{"11000000", "16000000", "04000000", "11000001"} {
		s.Subject = append(s.Subject, &proto.Subject{Scheme: proto.SchemeMedTop, Code: "medtop:" + c})
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Nodes(s)
	}
}
