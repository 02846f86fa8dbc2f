package ingest_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

const newsmlDir = "../../testdata/newsml"

func readNewsML(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(newsmlDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tm(t testing.TB, s string) proto.Time {
	t.Helper()
	v, err := proto.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func medtop(code, name string) *proto.Subject {
	return &proto.Subject{Scheme: proto.SchemeMedTop, Code: code, Name: name}
}

// diffStories reports every field that differs, story by story.
func diffStories(t *testing.T, got, want []*proto.Story) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d stories, want %d", len(got), len(want))
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		g, w := reflect.ValueOf(*got[i]), reflect.ValueOf(*want[i])
		for f := 0; f < g.NumField(); f++ {
			if !reflect.DeepEqual(g.Field(f).Interface(), w.Field(f).Interface()) {
				gj, _ := json.Marshal(g.Field(f).Interface())
				wj, _ := json.Marshal(w.Field(f).Interface())
				t.Errorf("story %d: %s =\n  %s\nwant\n  %s", i, g.Type().Field(f).Name, gj, wj)
			}
		}
	}
}

func TestParseNewsMLFiles(t *testing.T) {
	tests := []struct {
		file string
		want []*proto.Story
	}{
		{
			file: "item-nitf.xml",
			want: []*proto.Story{{
				URI:            "urn:newsml:example.org:20261127:ferry-strike",
				Type:           "text",
				Version:        "3",
				VersionCreated: tm(t, "2026-11-27T09:15:00Z"),
				FirstCreated:   tm(t, "2026-11-27T06:40:00Z"),
				PubStatus:      proto.PubStatusUsable,
				Urgency:        3,
				Language:       "en-GB",
				Headline:       "Island ferry crews walk out over rota changes",
				Slugline:       "ORKNEY-FERRY/STRIKE",
				Byline:         "By Morag Tulloch", // by wins over creditline
				Located:        "KIRKWALL, Scotland",
				BodyText: "KIRKWALL, Scotland (Example) — Crews on the inter-island ferries stopped work at dawn on Friday, " +
					"leaving six islands without a sailing for the first time since the winter storms of 2024.\n\n" +
					"The operator said rota changes had been agreed & signed in October; the crews’ union says they were not.\n\n" +
					"\"We will sail again when the rota is fair,\" a union spokeswoman said at the pier.\n\n" +
					"Talks are set for Monday.",
				EdNote: "Updates with union statement in paragraph 3.",
				Subject: []*proto.Subject{
					medtop("medtop:04000000", "economy, business and finance"),
					{Scheme: proto.SchemeMedTop, Code: "medtop:20000546", Name: "labour dispute", Relevance: 80},
					medtop("medtop:09000000", "labour"),
				},
			}},
		},
		{
			file: "item-xhtml.xml",
			want: []*proto.Story{{
				URI:            "tag:example.net,2026:lighthouse-museum",
				Type:           "text",
				Version:        "1",
				VersionCreated: tm(t, "2026-11-26T17:00:00.25Z"),
				PubStatus:      proto.PubStatusWithheld,
				Urgency:        6,
				Language:       "fr", // xml:lang on newsItem
				Headline:       "Un phare devient musée",
				Byline:         "Anne Le Gall, Yann Kerbrat", // creator names
				Located:        "Brest",                      // located/name wins over dateline
				BodyText: "Un phare devient musée\n\n" +
					"Le vieux phare du port ouvrira ses portes au public au printemps, a annoncé la mairie jeudi.\n\n" +
					"Entrée gratuite le premier dimanche du mois\n\n" +
					"Visites guidées en brezhoneg et en français\n\n" +
					"« C'est la mémoire de la rade », dit la conservatrice.",
				Subject: []*proto.Subject{
					medtop("medtop:01000000", "arts, culture, entertainment and media"),
					medtop("medtop:20000538", ""),
				},
			}},
		},
		{
			file: "item-plain.xml",
			want: []*proto.Story{{
				URI:            "urn:example:plain:0042",
				Type:           "text",
				Version:        "12",
				VersionCreated: tm(t, "2026-11-27T12:00:00Z"),
				Headline:       "Tide gauge back online",
				Byline:         "Harbour Gazette", // creditline, no by or creator
				BodyText: "The harbour tide gauge is reporting again after a week of silence, the port authority said on Friday.\n\n" +
					"A gull's nest had blocked the sensor <pipe>; engineers moved it with care.\n\n" +
					"Readings are published every six minutes.",
			}},
		},
		{
			file: "message-three-items.xml",
			want: []*proto.Story{{
				URI:            "urn:example:msg:apple-harvest",
				Type:           "text",
				Version:        "2",
				VersionCreated: tm(t, "2026-11-27T10:00:00Z"),
				FirstCreated:   tm(t, "2026-11-26T00:00:00Z"),
				PubStatus:      proto.PubStatusUsable,
				Urgency:        4,
				Language:       "en",
				Headline:       "Late frost trims cider apple harvest",
				Located:        "Hereford",
				BodyText:       "Growers expect a third fewer cider apples this year.\n\nA frost in May hit the blossom.",
				Subject:        []*proto.Subject{medtop("medtop:20000210", "agriculture")},
			}, {
				URI:            "urn:example:msg:bridge-reopens",
				Type:           "text",
				Version:        "5",
				VersionCreated: tm(t, "2026-11-27T10:20:00Z"),
				PubStatus:      proto.PubStatusUsable,
				Urgency:        5,
				Headline:       "Teme bridge reopens after repairs",
				Byline:         "Staff reporter",
				Located:        "LUDLOW",
				BodyText:       "The Teme bridge reopened to traffic on Friday morning.",
				Subject:        []*proto.Subject{medtop("medtop:20000565", "road transport")},
			}},
		},
		{
			file: "message-package.xml",
			want: []*proto.Story{{
				URI:            "urn:example:pkg:count",
				Type:           "text",
				Version:        "1",
				VersionCreated: tm(t, "2026-11-27T10:58:00Z"),
				Headline:       "Count under way in Fenbridge council election",
				Slugline:       "FENBRIDGE-ELECTION/COUNT",
				BodyText:       "Counting began at ten in the town hall.\n\nA result is expected after midnight.",
				Subject:        []*proto.Subject{medtop("medtop:11000000", "politics"), medtop("medtop:20000574", "local elections")},
			}, {
				URI:            "urn:example:pkg:turnout",
				Type:           "text",
				Version:        "2",
				VersionCreated: tm(t, "2026-11-27T10:59:00Z"),
				Headline:       "Turnout up on last time",
				BodyText:       "Turnout was 41 per cent, up from 34.", // base64 inlineData
			}},
		},
		{
			file: "item-kill.xml",
			want: []*proto.Story{{
				URI:            "urn:newsml:example.org:20261127:ferry-strike",
				Type:           "text",
				Version:        "4",
				VersionCreated: tm(t, "2026-11-27T13:05:00Z"),
				PubStatus:      proto.PubStatusCanceled,
				Headline:       "KILL - Island ferry crews walk out",
				EdNote:         "KILL. The story is withdrawn: the strike was called off before dawn.\n\nNo substitute story will be sent.",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ingest.ParseNewsML(readNewsML(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			diffStories(t, got, tt.want)
			for _, s := range got {
				if s.Dedupe != nil || s.Source != "" || s.Received != 0 || s.IngestSeq != 0 {
					t.Errorf("%s: stage-owned fields set: %+v", s.URI, s)
				}
				if err := s.Validate(); err != nil {
					t.Errorf("%s: %v", s.URI, err)
				}
			}
		})
	}
}

func TestParseNewsMLErrors(t *testing.T) {
	tests := []struct {
		name string
		file string // or doc
		doc  string
		want string // in the error text
	}{
		{name: "truncated", file: "bad-truncated.xml", want: "malformed XML at line 9: unexpected EOF"},
		{name: "no guid", file: "bad-no-guid.xml", want: "newsItem 1: no guid"},
		{name: "wrong root", file: "bad-wrong-root.xml", want: `root element <nitf> is in namespace "http://iptc.org/std/NITF/2006-10-18/"`},
		{name: "lone package", file: "bad-lone-package.xml", want: `no newsItem: packageItem "urn:example:pkg:alone" references "urn:example:pkg:count", "urn:example:pkg:turnout", none included`},
		{name: "unsupported contentSet", file: "bad-remote-only.xml", want: `unsupported contentSet: inlineData "application/rtf", remoteContent`},
		{name: "pictures only", file: "bad-pictures-only.xml", want: "no text newsItem among 1 items"},
		{name: "empty", doc: "", want: "no root element"},
		{name: "only a prolog", doc: `<?xml version="1.0"?><!-- nothing -->`, want: "no root element"},
		{name: "not XML", doc: "LONDON (AP) — plain text", want: "malformed XML at line 1"},
		{name: "mismatched tag", doc: "<newsItem guid=\"g\">\n<itemMeta>\n</contentMeta></newsItem>", want: "malformed XML at line 3"},
		{name: "NewsML 1 root", doc: `<NewsML Version="1.2"><NewsItem/></NewsML>`, want: "root element <NewsML> is not newsItem, packageItem or newsMessage"},
		{name: "newsItem in another namespace", doc: `<newsItem xmlns="http://example.com/ns" guid="g"/>`, want: `root element <newsItem> is in namespace "http://example.com/ns"`},
		{name: "message without items", doc: `<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><header/><itemSet/></newsMessage>`, want: "no newsItem in <newsMessage>"},
		{name: "second root", doc: `<newsItem guid="a"/><newsItem guid="b"/>`, want: "second root element <newsItem>"},
		{name: "text after root", doc: `<newsItem guid="a"/> trailing words`, want: "text outside the root element"},
		{name: "no contentSet", doc: `<newsItem guid="a"><contentMeta><headline>h</headline></contentMeta></newsItem>`, want: `"a": no contentSet`},
		{name: "empty contentSet", doc: `<newsItem guid="a"><contentSet/></newsItem>`, want: `"a": empty contentSet`},
		{name: "empty body", doc: `<newsItem guid="a"><contentSet><inlineData contenttype="text/plain">  </inlineData></contentSet></newsItem>`, want: "inlineData (text/plain) holds no text"},
		{name: "bad pubStatus", doc: `<newsItem guid="a"><itemMeta><pubStatus qcode="stat:maybe"/></itemMeta></newsItem>`, want: `pubStatus "stat:maybe" is not`},
		{name: "bad versionCreated", doc: `<newsItem guid="a"><itemMeta><versionCreated>yesterday</versionCreated></itemMeta></newsItem>`, want: "versionCreated: proto: invalid date-time"},
		{name: "bad inlineData encoding", doc: `<newsItem guid="a"><contentSet><inlineData contenttype="text/plain" encoding="uu">x</inlineData></contentSet></newsItem>`, want: `inlineData encoding "uu" is not base64`},
		{name: "bad base64", doc: `<newsItem guid="a"><contentSet><inlineData contenttype="text/plain" encoding="base64">!!!</inlineData></contentSet></newsItem>`, want: "inlineData: illegal base64"},
		{name: "base64 not UTF-8", doc: `<newsItem guid="a"><contentSet><inlineData contenttype="text/plain" encoding="base64">/w==</inlineData></contentSet></newsItem>`, want: "invalid UTF-8 at byte 0"},
		{name: "unsupported charset", doc: `<?xml version="1.0" encoding="KOI8-R"?><newsItem guid="a"/>`, want: `encoding "KOI8-R" is not supported`},
		{name: "invalid UTF-8", doc: "<newsItem guid=\"a\"><contentSet><inlineData>\xff</inlineData></contentSet></newsItem>", want: "malformed XML at line 1: invalid UTF-8"},
		{name: "too deep", doc: strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300), want: "nested deeper than 256"},
		{name: "error names the item", doc: `<newsMessage><itemSet><newsItem guid="ok"><contentSet><inlineData>x</inlineData></contentSet></newsItem><newsItem/></itemSet></newsMessage>`, want: "newsItem 2: no guid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := []byte(tt.doc)
			if tt.file != "" {
				doc = readNewsML(t, tt.file)
			}
			got, err := ingest.ParseNewsML(doc)
			if err == nil {
				t.Fatalf("no error; stories %+v", got)
			}
			if got != nil {
				t.Errorf("stories returned with the error: %+v", got)
			}
			if !errors.Is(err, ingest.ErrInvalidNewsML) {
				t.Errorf("error %v does not wrap ErrInvalidNewsML", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// TestParseNewsMLCases covers mapping details on small documents.
func TestParseNewsMLCases(t *testing.T) {
	const nar = `xmlns="http://iptc.org/std/nar/2006-10-01/"`
	body := `<contentSet><inlineData contenttype="text/plain">Body.</inlineData></contentSet>`
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, s *proto.Story)
	}{
		{
			name: "no namespace at all",
			doc:  `<newsItem guid=" g1 " version=" 7 "><contentMeta><headline>H</headline></contentMeta>` + body + `</newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.URI != "g1" || s.Version != "7" || s.Headline != "H" || s.BodyText != "Body." || s.Type != "text" || s.PubStatus != "" {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "foreign namespace elements are not G2 elements",
			doc: `<newsItem ` + nar + ` xmlns:x="http://example.com/x" guid="g"><contentMeta><x:headline>wrong</x:headline><headline>right</headline>` +
				`<x:subject qcode="medtop:01000000"/></contentMeta>` + body + `</newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.Headline != "right" || len(s.Subject) != 0 {
					t.Errorf("headline %q subjects %d", s.Headline, len(s.Subject))
				}
			},
		},
		{
			name: "dateline with a date gives the place",
			doc:  `<newsItem ` + nar + ` guid="g"><contentMeta><dateline>SAMARKAND, Uzbekistan, Sept. 16</dateline></contentMeta>` + body + `</newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.Located != "SAMARKAND, Uzbekistan" {
					t.Errorf("located %q", s.Located)
				}
			},
		},
		{
			name: "numeric date in dateline",
			doc:  `<newsItem ` + nar + ` guid="g"><contentMeta><dateline>Oslo, 2026-11-27</dateline></contentMeta>` + body + `</newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.Located != "Oslo" {
					t.Errorf("located %q", s.Located)
				}
			},
		},
		{
			name: "located with qcode only falls back to the dateline",
			doc:  `<newsItem ` + nar + ` guid="g"><contentMeta><located qcode="geo:1"/><dateline>TROMSØ</dateline></contentMeta>` + body + `</newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.Located != "TROMSØ" {
					t.Errorf("located %q", s.Located)
				}
			},
		},
		{
			name: "dateline that is only a date gives no place",
			doc:  `<newsItem ` + nar + ` guid="g"><contentMeta><dateline>Nov 27</dateline></contentMeta>` + body + `</newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.Located != "" {
					t.Errorf("located %q", s.Located)
				}
			},
		},
		{
			name: "table cells are kept apart",
			doc: `<newsItem ` + nar + ` guid="g"><contentSet><inlineXML contenttype="application/xhtml+xml">` +
				`<html><body><table><tr><th>Club</th><th>Pts</th></tr><tr><td>Ayr</td><td>12</td></tr></table></body></html></inlineXML></contentSet></newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.BodyText != "Club Pts\n\nAyr 12" {
					t.Errorf("body %q", s.BodyText)
				}
			},
		},
		{
			name: "picture without guid is skipped, not an error",
			doc: `<newsMessage ` + nar + `><itemSet><newsItem><itemMeta><itemClass qcode="ninat:picture"/></itemMeta></newsItem>` +
				`<newsItem guid="g">` + body + `</newsItem></itemSet></newsMessage>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.URI != "g" {
					t.Errorf("uri %q", s.URI)
				}
			},
		},
		{
			name: "text split by many comments is joined in linear time",
			doc:  `<newsItem guid="g"><contentSet><inlineData>` + strings.Repeat("x<!---->", 100000) + `</inlineData></contentSet></newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.BodyText != strings.Repeat("x", 100000) {
					t.Errorf("body of %d bytes", len(s.BodyText))
				}
			},
		},
		{
			name: "white space between inline elements is kept",
			doc: `<newsItem ` + nar + ` guid="g"><contentMeta><headline><span>Two</span> <span>words</span></headline></contentMeta>` +
				`<contentSet><inlineXML contenttype="application/nitf+xml"><nitf><body><body.content>` + "\n  " +
				`<p><em>a</em> <strong>b</strong>c<b> </b>d</p>` + "\n  " + `<p>` + "\n" + `e</p>` +
				`</body.content></body></nitf></inlineXML></contentSet></newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.Headline != "Two words" || s.BodyText != "a bc d\n\ne" {
					t.Errorf("headline %q body %q", s.Headline, s.BodyText)
				}
			},
		},
		{
			name: "language tag wins over xml:lang",
			doc:  `<newsItem ` + nar + ` guid="g" xml:lang="de"><contentMeta><language tag="de-AT"/></contentMeta>` + body + `</newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.Language != "de-AT" {
					t.Errorf("language %q", s.Language)
				}
			},
		},
		{
			name: "bad urgency and odd subjects are ignored",
			doc: `<newsItem ` + nar + ` guid="g"><contentMeta><urgency>high</urgency>` +
				`<subject qcode="medtop:1"/><subject qcode="medtop:abcdefgh"/><subject qcode="iptc:01000000"/>` +
				`<subject uri="http://example.com/01000000"/><subject qcode="medtop:16000000" relevance="400"><name>conflict</name></subject>` +
				`</contentMeta>` + body + `</newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				want := []*proto.Subject{medtop("medtop:16000000", "conflict")}
				if s.Urgency != 0 || !reflect.DeepEqual(s.Subject, want) {
					t.Errorf("urgency %d subjects %+v", s.Urgency, s.Subject)
				}
			},
		},
		{
			name: "pubStatus URI form",
			doc:  `<newsItem ` + nar + ` guid="g"><itemMeta><pubStatus uri="http://cv.iptc.org/newscodes/pubstatusg2/canceled"/></itemMeta></newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.PubStatus != proto.PubStatusCanceled || s.BodyText != "" {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "canceled with unsupported content is still a kill",
			doc: `<newsItem ` + nar + ` guid="g"><itemMeta><pubStatus qcode="stat:canceled"/></itemMeta>` +
				`<contentSet><remoteContent href="x"/></contentSet></newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if !s.Canceled() || s.BodyText != "" {
					t.Errorf("%+v", s)
				}
			},
		},
		{
			name: "NITF with prefixed elements, comments, CDATA and entities",
			doc: `<newsItem ` + nar + ` guid="g"><contentSet><inlineXML contenttype="application/nitf+xml">` +
				`<n:nitf xmlns:n="http://iptc.org/std/NITF/2006-10-18/"><n:body><n:body.head><n:hedline><n:hl1>Not body</n:hl1></n:hedline></n:body.head>` +
				`<n:body.content><n:p>One <!-- c -->two&#160;<n:em>three</n:em>, <![CDATA[<four>]]>.</n:p>` +
				`<n:media media-type="image"><n:media-caption>caption</n:media-caption></n:media>` +
				`<n:h2>Sub&amp;head</n:h2><n:p>Café&#xE9;</n:p></n:body.content></n:body></n:nitf></inlineXML></contentSet></newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if want := "One two three, <four>.\n\nSub&head\n\nCaféé"; s.BodyText != want {
					t.Errorf("body %q\nwant %q", s.BodyText, want)
				}
			},
		},
		{
			name: "NITF inline with no contenttype, first supported rendition wins",
			doc: `<newsItem ` + nar + ` guid="g"><contentSet>` +
				`<inlineXML contenttype="application/vnd.example+xml"><doc><p>other</p></doc></inlineXML>` +
				`<inlineXML><nitf><body><body.content><p>a</p><p>b</p></body.content></body></nitf></inlineXML>` +
				`<inlineData contenttype="text/plain">plain</inlineData></contentSet></newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.BodyText != "a\n\nb" {
					t.Errorf("body %q", s.BodyText)
				}
			},
		},
		{
			name: "pre keeps its lines",
			doc: `<newsItem ` + nar + ` guid="g"><contentSet><inlineXML contenttype="application/xhtml+xml">` +
				`<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Results:</p><pre>Ayr   2
Troon 1</pre></body></html></inlineXML></contentSet></newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.BodyText != "Results:\n\nAyr 2\nTroon 1" {
					t.Errorf("body %q", s.BodyText)
				}
			},
		},
		{
			name: "text/html inlineData",
			doc:  `<newsItem ` + nar + ` guid="g"><contentSet><inlineData contenttype="text/html">&lt;p&gt;A &amp;amp; B&lt;/p&gt;&lt;p&gt;C&lt;/p&gt;</inlineData></contentSet></newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.BodyText != "A & B\n\nC" {
					t.Errorf("body %q", s.BodyText)
				}
			},
		},
		{
			name: "ISO-8859-1 document",
			doc:  "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><newsItem guid=\"g\"><contentSet><inlineData>Z\xfcrich</inlineData></contentSet></newsItem>",
			check: func(t *testing.T, s *proto.Story) {
				if s.BodyText != "Zürich" {
					t.Errorf("body %q", s.BodyText)
				}
			},
		},
		{
			name: "itemClass without text falls back to text, missing itemMeta too",
			doc:  `<newsItem ` + nar + ` guid="g"><itemMeta><itemClass/></itemMeta>` + body + `</newsItem>`,
			check: func(t *testing.T, s *proto.Story) {
				if s.Type != "text" || s.BodyText != "Body." {
					t.Errorf("%+v", s)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ingest.ParseNewsML([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d stories", len(got))
			}
			tt.check(t, got[0])
		})
	}
}

// TestParseNewsMLThroughStage checks that parsed stories pass the stage's
// own rules when re-encoded as ninjs (as the integrator's wiring will).
func TestParseNewsMLThroughStage(t *testing.T) {
	st := newStage(t, ingest.Config{})
	for _, f := range []string{"item-nitf.xml", "item-xhtml.xml", "item-plain.xml", "message-three-items.xml", "message-package.xml", "item-kill.xml"} {
		t.Run(f, func(t *testing.T) {
			stories, err := ingest.ParseNewsML(readNewsML(t, f))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stories {
				b, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				out, err := st.Parse(b, ingest.FormatNinjs)
				if err != nil {
					t.Fatalf("%s: %v", s.URI, err)
				}
				if out.URI != s.URI || out.BodyText != s.BodyText || out.Headline != s.Headline {
					t.Errorf("stage changed the story:\n%+v\n%+v", s, out)
				}
			}
		})
	}
}
