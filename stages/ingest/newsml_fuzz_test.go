package ingest_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// FuzzParseNewsML checks that any input is either a list of stories that
// hold the schema contract or an error wrapping ErrInvalidNewsML, and never
// panics. Seeds: every document in testdata/newsml.
func FuzzParseNewsML(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(newsmlDir, "*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed documents in %s: %v", newsmlDir, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, seed := range []string{"", "<", "<newsItem guid='g'/>", "<newsMessage><itemSet><packageItem/></itemSet></newsMessage>",
		"<newsItem guid='g'><contentSet><inlineData encoding='base64'>QQ==</inlineData></contentSet></newsItem>"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		stories, err := ingest.ParseNewsML(data)
		if err != nil {
			if !errors.Is(err, ingest.ErrInvalidNewsML) {
				t.Fatalf("error without ErrInvalidNewsML: %v", err)
			}
			if stories != nil {
				t.Fatal("stories returned with an error")
			}
			return
		}
		if len(stories) == 0 {
			t.Fatal("no stories and no error")
		}
		for i, s := range stories {
			if s == nil {
				t.Fatalf("story %d is nil", i)
			}
			if s.URI == "" || s.Type != "text" {
				t.Fatalf("story %d: uri %q type %q", i, s.URI, s.Type)
			}
			for _, f := range []string{s.URI, s.Version, s.Headline, s.Slugline, s.Byline, s.Located, s.Language, s.EdNote, s.BodyText} {
				if !utf8.ValidString(f) {
					t.Fatalf("story %d: invalid UTF-8 in %q", i, f)
				}
			}
			for _, sub := range s.Subject {
				if !strings.HasPrefix(sub.Code, "medtop:") || sub.Scheme != proto.SchemeMedTop || !utf8.ValidString(sub.Name) {
					t.Fatalf("story %d: bad subject %+v", i, sub)
				}
			}
			if s.BodyText == "" && !s.Canceled() {
				t.Fatalf("story %d: empty body on a story that is not a kill", i)
			}
			if s.BodyText != ingest.NormalizeText(s.BodyText) {
				t.Fatalf("story %d: body not normalised: %q", i, s.BodyText)
			}
			if strings.Contains(s.Headline, "\n") {
				t.Fatalf("story %d: headline has a line break", i)
			}
			c := s.Clone()
			if c.PubStatus == "" {
				c.PubStatus = proto.PubStatusUsable
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("story %d: %v", i, err)
			}
		}
	})
}

// newsmlBenchItem builds a NITF newsItem of about 6 KB.
func newsmlBenchItem() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:example:bench:1" version="2" standard="NewsML-G2" standardversion="2.33" xml:lang="en">
  <itemMeta>
    <itemClass qcode="ninat:text"/>
    <provider qcode="nprov:EXAMPLE"/>
    <versionCreated>2026-11-27T09:15:00Z</versionCreated>
    <firstCreated>2026-11-27T08:00:00Z</firstCreated>
    <pubStatus qcode="stat:usable"/>
  </itemMeta>
  <contentMeta>
    <urgency>4</urgency>
    <located><name>Aberdeen</name></located>
    <subject qcode="medtop:04000000"><name>economy, business and finance</name></subject>
    <subject qcode="medtop:20000546"><name>labour dispute</name></subject>
    <slugline>BENCH-STORY</slugline>
    <headline>Harbour pilots agree a new pay deal</headline>
    <by>By A. Writer</by>
  </contentMeta>
  <contentSet>
    <inlineXML contenttype="application/nitf+xml">
      <nitf xmlns="http://iptc.org/std/NITF/2006-10-18/"><body><body.content>
`)
	for i := 0; b.Len() < 6000; i++ {
		fmt.Fprintf(&b, "        <p>Paragraph %d: the pilots&#8217; union said the <em>offer</em> was fair &amp; would be put to members, who meet on the quay at noon.</p>\n", i)
	}
	b.WriteString(`      </body.content></body></nitf>
    </inlineXML>
  </contentSet>
</newsItem>
`)
	return []byte(b.String())
}

func BenchmarkParseNewsML(b *testing.B) {
	doc := newsmlBenchItem()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		stories, err := ingest.ParseNewsML(doc)
		if err != nil || len(stories) != 1 {
			b.Fatal(err)
		}
	}
}
