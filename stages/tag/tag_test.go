package tag_test

import (
	"context"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag"
)

func TestHandleTagsAndKeepsProviderTags(t *testing.T) {
	st, err := tag.New()
	if err != nil {
		t.Fatal(err)
	}
	s := &proto.Story{URI: "u", Located: "NAIROBI, Kenya", Headline: "Kenya's central bank raises interest rates",
		BodyText: "NAIROBI, Kenya (AP) — Kenya's central bank raised its benchmark interest rate on Tuesday as inflation rose.",
		Place: []*proto.Place{
			{Scheme: "geonames", Code: "184745", Name: "Nairobi"},              // another scheme: kept
			{Scheme: proto.SchemeCountry, Code: "KE", Rel: proto.RelMentioned}, // ours too: not repeated
		},
		Subject: []*proto.Subject{{Scheme: "iptc-subject", Code: "04000000"}}, // another scheme: kept
	}
	out, err := st.Handle(context.Background(), s)
	if err != nil || len(out) != 1 {
		t.Fatalf("Handle: %v %v", out, err)
	}
	var ke, geonames, africa, kept int
	for _, p := range out[0].Place {
		switch {
		case p.Scheme == proto.SchemeCountry && p.Code == "KE":
			ke++
			if p.Rel != proto.RelLocated {
				t.Errorf("KE rel %q, want located (the tagger's entry comes first)", p.Rel)
			}
		case p.Scheme == "geonames":
			geonames++
		case p.Scheme == proto.SchemeM49 && p.Code == "002":
			africa++
		}
	}
	if ke != 1 || geonames != 1 || africa != 1 {
		t.Errorf("places %+v: want KE once, the geonames place kept, Africa rolled up", out[0].Place)
	}
	economy := false
	for _, sub := range out[0].Subject {
		if sub.Scheme == "iptc-subject" {
			kept++
		}
		if sub.Code == "medtop:04000000" {
			economy = true
		}
	}
	if kept != 1 || !economy {
		t.Errorf("subjects %+v: want the provider's kept and economy tagged", out[0].Subject)
	}
	e := st.Explain(s)
	if len(e.Places) == 0 || len(e.Topics) == 0 || len(e.Places[0].Evidence) == 0 || len(e.Topics[0].Terms) == 0 {
		t.Errorf("explanation without evidence: %+v", e)
	}
	if tok, _, ok := st.ResolveRegion("Kenya"); !ok || tok != "KE" {
		t.Errorf("ResolveRegion(Kenya) = %q %v", tok, ok)
	}
	if tok, _, ok := st.ResolveTopic("economy, business and finance"); !ok || tok != "04000000" {
		t.Errorf("ResolveTopic = %q %v", tok, ok)
	}
}
