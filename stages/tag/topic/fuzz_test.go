package topic_test

import (
	"testing"

	"github.com/wirestream/wirestream/proto"
)

// FuzzTag checks Tag's invariants on arbitrary input: no panic, every code
// in the taxonomy, parents present before their subtopics, relevance in
// 1..100 and non-increasing, and Explain agreeing with Tag.
func FuzzTag(f *testing.F) {
	for _, l := range readLabelled(f)[:20] {
		f.Add(l.Headline, "", l.Body)
	}
	f.Add("", "", "")
	f.Add("U.S.", "X", "U.S. officials’s war. WHO who's... cease-fire\u2028trade war")
	f.Add("\xff\xfe", "\x00", "Putin’s war ’s 's ’")
	f.Add("WAR", "war-war-war", "war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war war")
	c := mustLoad(f)
	f.Fuzz(func(t *testing.T, headline, slugline, body string) {
		s := &proto.Story{Headline: headline, Slugline: slugline, BodyText: body}
		subs := c.Tag(s)
		checkInvariants(t, c, subs)
		exp := c.Explain(s)
		if len(exp) != len(subs) {
			t.Fatalf("Explain gave %d topics, Tag %d", len(exp), len(subs))
		}
		for i := range exp {
			if *exp[i].Subject != *subs[i] {
				t.Fatalf("#%d: Explain %+v, Tag %+v", i, *exp[i].Subject, *subs[i])
			}
		}
		if err := (&proto.Story{URI: "u", Subject: subs}).Validate(); err != nil {
			t.Fatal(err)
		}
	})
}
