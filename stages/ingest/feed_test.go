package ingest_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

func readFeed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stories parses every item record of a page through the ingest stage.
func stories(t *testing.T, p *ingest.FeedPage) []*proto.Story {
	t.Helper()
	st, err := ingest.New(ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*proto.Story
	for _, it := range p.Items {
		ss, err := st.ParseAll(it.Record, it.Format)
		if err != nil {
			t.Fatalf("item %s: %v\n%s", it.ID, err, it.Record)
		}
		out = append(out, ss...)
	}
	return out
}

func TestParseFeedRSS(t *testing.T) {
	data := readFeed(t, "rss.xml")
	if got := ingest.DetectFeed(data); got != ingest.FeedRSS {
		t.Fatalf("detected %q", got)
	}
	p, err := ingest.ParseFeed(data, ingest.FeedAuto, ingest.FeedOptions{Feed: "example-world"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 {
		t.Fatalf("%d items", len(p.Items))
	}
	if p.Items[0].ID != "https://news.example.org/world/flood-barriers" || p.Items[1].ID != "tram-2026-12-01" {
		t.Errorf("ids %q %q", p.Items[0].ID, p.Items[1].ID)
	}
	ss := stories(t, p)
	s := ss[0]
	if s.URI != "https://news.example.org/world/flood-barriers" || s.Headline != "Flood barriers hold as river peaks in Riverton" || s.Byline != "Ana Example" {
		t.Errorf("story %+v", s)
	}
	if !strings.HasPrefix(s.BodyText, "RIVERTON (Example) — The river crested") || strings.Contains(s.BodyText, "track()") || !strings.Contains(s.BodyText, "\n\nOfficials said") {
		t.Errorf("body %q", s.BodyText)
	}
	if s.VersionCreated.String() != "2026-12-01T09:30:00Z" {
		t.Errorf("versioncreated %s", s.VersionCreated)
	}
	if len(s.Subject) != 2 || s.Subject[0].Scheme != "feed:example-world" || s.Subject[0].Name != "Weather" {
		t.Errorf("subjects %+v", s.Subject)
	}
	if ss[1].URI != "https://news.example.org/world/tram-line" || !strings.Contains(ss[1].BodyText, "31 to 12") || ss[1].Byline != "desk@news.example.org (City Desk)" {
		t.Errorf("second story %+v", ss[1])
	}
	// An edited item is a new version; the same item again is the same.
	edited := strings.Replace(string(data), "no homes were flooded", "two homes were flooded", 1)
	p2, err := ingest.ParseFeed([]byte(edited), ingest.FeedRSS, ingest.FeedOptions{Feed: "example-world"})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Items[0].Version == p.Items[0].Version || p2.Items[1].Version != p.Items[1].Version {
		t.Errorf("versions %s→%s, %s→%s", p.Items[0].Version, p2.Items[0].Version, p.Items[1].Version, p2.Items[1].Version)
	}
}

func TestParseFeedAtom(t *testing.T) {
	data := readFeed(t, "atom.xml")
	p, err := ingest.ParseFeed(data, ingest.FeedAuto, ingest.FeedOptions{Feed: "science"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != ingest.FeedAtom || len(p.Items) != 3 {
		t.Fatalf("format %s, %d items", p.Format, len(p.Items))
	}
	ss := stories(t, p)
	if ss[0].URI != "tag:news.example.org,2026:science/telescope" || p.Items[0].Link != "https://news.example.org/science/telescope" {
		t.Errorf("uri %s link %s", ss[0].URI, p.Items[0].Link)
	}
	if ss[0].BodyText != "The observatory's new telescope took its first images on Monday night.\n\nAstronomers called them remarkable." {
		t.Errorf("html body %q", ss[0].BodyText)
	}
	if ss[0].VersionCreated.String() != "2026-12-01T09:45:00Z" || ss[0].FirstCreated.String() != "2026-12-01T07:00:00Z" || ss[0].Byline != "Bo Example" {
		t.Errorf("dates/byline %s %s %q", ss[0].VersionCreated, ss[0].FirstCreated, ss[0].Byline)
	}
	if ss[0].Subject[0].Name != "Astronomy" || ss[1].Subject[0].Name != "climate" {
		t.Errorf("subjects %+v %+v", ss[0].Subject, ss[1].Subject)
	}
	if ss[1].Headline != "Glacier retreat & what it means" || ss[1].BodyText != "The glacier lost 40 metres of length this year.\n\nResearchers measured it from the air." || ss[1].Byline != "Science Desk" {
		t.Errorf("xhtml story %q %q %q", ss[1].Headline, ss[1].BodyText, ss[1].Byline)
	}
	if ss[2].BodyText != "A plain-text summary stands in for the content." {
		t.Errorf("summary body %q", ss[2].BodyText)
	}
}

func TestParseFeedJSONFeed(t *testing.T) {
	p, err := ingest.ParseFeed(readFeed(t, "jsonfeed.json"), ingest.FeedAuto, ingest.FeedOptions{Feed: "biz"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != ingest.FeedJSONFeed || len(p.Items) != 2 {
		t.Fatalf("format %s, %d items", p.Format, len(p.Items))
	}
	ss := stories(t, p)
	if ss[0].URI != "https://news.example.org/business/harbour-port" || p.Items[0].ID != "biz-1001" || ss[0].Byline != "Cy Example" ||
		ss[0].VersionCreated.String() != "2026-12-01T07:15:00Z" || len(ss[0].Subject) != 2 || ss[0].Subject[1].Name != "Economy" {
		t.Errorf("first %+v", ss[0])
	}
	if ss[1].URI != "biz-1002" || ss[1].Byline != "Business Desk" || ss[1].BodyText != "The bakery chain opened its tenth shop on the high street." {
		t.Errorf("second %+v", ss[1])
	}
}

func TestParseFeedCursor(t *testing.T) {
	p, err := ingest.ParseFeed(readFeed(t, "cursor.json"), ingest.FeedAuto, ingest.FeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != ingest.FeedCursorJSON || p.Next != "/feed?cursor=c2" || len(p.Items) != 2 {
		t.Fatalf("%+v", p)
	}
	a, b := p.Items[0], p.Items[1]
	if a.ID != "urn:example:wire:2026:0001" || a.Version != "2" || a.Rendition == nil || a.Rendition.Format != ingest.FormatNinjs || a.Rendition.Href != "/content/0001.json" {
		t.Errorf("first %+v %+v", a, a.Rendition)
	}
	if b.Rendition == nil || b.Rendition.Format != ingest.FormatNITF {
		t.Errorf("second %+v", b.Rendition)
	}
	p, _ = ingest.ParseFeed(readFeed(t, "cursor.json"), ingest.FeedCursorJSON, ingest.FeedOptions{Rendition: ingest.FormatNewsML})
	if p.Items[0].Rendition.Format != ingest.FormatNewsML {
		t.Errorf("preferred newsml: %+v", p.Items[0].Rendition)
	}
	// Published as it is (no rendition could be fetched), the item is
	// rejected with the reason.
	st, _ := ingest.New(ingest.Config{})
	_, err = st.ParseAll([]byte(`{"id":"x-1","links":[],"ws_fetch_error":"GET /content/x-1.json: HTTP 404"}`), ingest.FeedCursorJSON)
	if !errors.Is(err, ingest.ErrInvalidFeed) || !proto.IsPermanent(err) || !strings.Contains(err.Error(), `"x-1": GET /content/x-1.json: HTTP 404`) {
		t.Errorf("err %v", err)
	}
	_, err = st.ParseAll([]byte(`{"id":"x-2","links":[{"type":"text/html","href":"/x"}]}`), ingest.FeedCursorJSON)
	if err == nil || !strings.Contains(err.Error(), "no rendition") {
		t.Errorf("err %v", err)
	}
}

func TestParseFeedBad(t *testing.T) {
	rss := string(readFeed(t, "rss.xml"))
	for _, tc := range []struct{ name, format, data, want string }{
		{"truncated RSS", ingest.FeedRSS, rss[:len(rss)/2], "XML syntax error"},
		{"malformed XML", ingest.FeedAuto, `<rss><channel><item><title>a</item></channel></rss>`, "XML syntax error"},
		{"not a feed", ingest.FeedAuto, `<html><body>hi</body></html>`, "not RSS"},
		{"empty", ingest.FeedAuto, ``, "empty"},
		{"JSON garbage", ingest.FeedJSONFeed, `{"version":"https://jsonfeed.org/version/1.1","items":[{]}`, "invalid feed"},
		{"JSON feed without items", ingest.FeedJSONFeed, `{"version":"https://jsonfeed.org/version/1.1"}`, "without items"},
		{"cursor without items", ingest.FeedCursorJSON, `{"next_page":"x"}`, "without items"},
		{"deep JSON", ingest.FeedCursorJSON, strings.Repeat("[", 100), "nesting"},
		{"wrong root for atom", ingest.FeedAtom, `<rss/>`, "expected element"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ingest.ParseFeed([]byte(tc.data), tc.format, ingest.FeedOptions{})
			if !errors.Is(err, ingest.ErrInvalidFeed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseFeedEmptyItemDeadLetters(t *testing.T) {
	// An item without any text still becomes a record: ingest rejects it,
	// so it is dead-lettered, not dropped.
	p, err := ingest.ParseFeed([]byte(`<rss><channel><item><guid>g1</guid><title></title></item></channel></rss>`), ingest.FeedRSS, ingest.FeedOptions{})
	if err != nil || len(p.Items) != 1 {
		t.Fatal(err, p)
	}
	st, _ := ingest.New(ingest.Config{})
	if _, err := st.ParseAll(p.Items[0].Record, p.Items[0].Format); !errors.Is(err, ingest.ErrEmptyBody) {
		t.Errorf("err %v", err)
	}
}

// BenchmarkParseFeed parses pages of 10,000 items (records built, HTML made
// text); ns/op is per page.
func BenchmarkParseFeed(b *testing.B) {
	var rss, jf strings.Builder
	rss.WriteString(`<rss version="2.0"><channel><title>t</title>`)
	jf.WriteString(`{"version":"https://jsonfeed.org/version/1.1","items":[`)
	for i := range 10000 {
		fmt.Fprintf(&rss, `<item><guid>https://x.example/%d</guid><title>Item %d</title><description>&lt;p&gt;Paragraph one of item %d.&lt;/p&gt;&lt;p&gt;Two.&lt;/p&gt;</description><category>News</category><pubDate>Tue, 01 Dec 2026 09:30:00 GMT</pubDate></item>`, i, i, i)
		if i > 0 {
			jf.WriteByte(',')
		}
		fmt.Fprintf(&jf, `{"id":"x-%d","title":"Item %d","content_html":"<p>Paragraph one of item %d.</p><p>Two.</p>","tags":["News"],"date_published":"2026-12-01T09:30:00Z"}`, i, i, i)
	}
	rss.WriteString(`</channel></rss>`)
	jf.WriteString(`]}`)
	for _, tc := range []struct{ name, format, data string }{{"rss", ingest.FeedRSS, rss.String()}, {"jsonfeed", ingest.FeedJSONFeed, jf.String()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				p, err := ingest.ParseFeed([]byte(tc.data), tc.format, ingest.FeedOptions{Feed: "bench"})
				if err != nil || len(p.Items) != 10000 {
					b.Fatal(err)
				}
			}
		})
	}
}
