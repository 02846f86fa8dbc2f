package feeds_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/feeds"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

var bodies = []string{
	"Harbour workers in Portmouth voted on Tuesday to accept a new pay offer after three weeks of talks.",
	"A new footbridge over the Lune opened to walkers and cyclists on Monday, two years after work began.",
	"The regional orchestra announced a season of twelve concerts, four of them free for schoolchildren.",
	"Volunteers planted four thousand oak saplings along the old railway line north of Elmford.",
	"The county library service will open on Sundays from January, the council said in a statement.",
}

func ninjs(id string, i int) string {
	return fmt.Sprintf(`{"uri":%q,"version":"1","headline":"Story %d","body_text":%q}`, id, i, bodies[i])
}

// cursorServer is an agency content API: pages of items with renditions
// and a next_page cursor.
type cursorServer struct {
	mu    sync.Mutex
	tail  string // items on the last page, as JSON
	pages map[string]int
	*httptest.Server
}

func newCursorServer(t *testing.T) *cursorServer {
	newsml, err := os.ReadFile("../../testdata/newsml/item-plain.xml")
	if err != nil {
		t.Fatal(err)
	}
	nitf, err := os.ReadFile("../../testdata/formats/nitf-story.xml")
	if err != nil {
		t.Fatal(err)
	}
	ninjs3, err := os.ReadFile("../../testdata/formats/ninjs3-story.json")
	if err != nil {
		t.Fatal(err)
	}
	cs := &cursorServer{pages: map[string]int{}}
	item := func(id, version, typ, href string) string {
		return fmt.Sprintf(`{"id":%q,"version":%q,"links":[{"rel":"rendition","type":%q,"href":%q}]}`, id, version, typ, href)
	}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		cs.pages[r.URL.RequestURI()]++
		switch r.URL.Path {
		case "/content/1.json":
			_, _ = w.Write([]byte(ninjs("urn:test:wire:1", 0)))
		case "/content/2.xml":
			w.Header().Set("Content-Type", "application/vnd.iptc.g2.newsitem+xml")
			_, _ = w.Write(newsml)
		case "/content/6.nitf":
			_, _ = w.Write(nitf)
		case "/content/7.json":
			_, _ = w.Write(ninjs3)
		case "/content/4.json":
			_, _ = w.Write([]byte(ninjs("urn:test:wire:4", 1)))
		case "/content/5.json":
			_, _ = w.Write([]byte(ninjs("urn:test:wire:5", 2)))
		case "/feed":
			var page string
			switch r.URL.Query().Get("cursor") {
			case "":
				page = `{"items":[` + item("id-1", "1", "application/ninjs+json", "/content/1.json") + "," +
					item("id-2", "12", "application/vnd.iptc.g2.newsitem+xml", "/content/2.xml") + "," +
					item("id-3", "1", "application/ninjs+json", "/content/missing.json") + `],"next_page":"/feed?cursor=2"}`
			case "2":
				page = `{"items":[` + item("id-4", "1", "application/ninjs+json", "/content/4.json") + "," +
					item("id-6", "1", "application/nitf+xml", "/content/6.nitf") + "," +
					item("id-7", "3", "application/ninjs+json", "/content/7.json") + `],"next_page":"/feed?cursor=3"}`
			case "3":
				next := "/feed?cursor=3"
				if cs.tail != "" {
					next = "/feed?cursor=4"
				}
				page = `{"items":[` + cs.tail + `],"next_page":"` + next + `"}`
			default:
				page = `{"items":[],"next_page":"/feed?cursor=4"}`
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(page))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *cursorServer) hits(uri string) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.pages[uri]
}

// TestFeedsThroughPipeline: a cursor feed (ninjs and NewsML-G2 renditions,
// NITF and ninjs 3 renditions, a rendition that is gone) and an RSS feed (a good item, an empty one, one
// of 5 MB) polled into a running pipeline: every story comes out once, every
// bad item is dead-lettered by the ingest stage with the reason and the feed
// and item named.
func TestFeedsThroughPipeline(t *testing.T) {
	p := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	js, names := p.JS, p.Names
	cs := newCursorServer(t)
	big := strings.Repeat("<p>"+bodies[4]+"</p>", 5<<20/(len(bodies[4])+7))
	rss := newFeedServer(t, rssFeed(
		rssItem("https://site.example/good", bodies[3]),
		`<item><guid>https://site.example/empty</guid><title></title></item>`,
		rssItem("https://site.example/huge", "<![CDATA["+big+"]]>")))
	cursor := feed("wire", cs.URL+"/feed")
	cursor.Format = "cursor-json"
	site := feed("site", rss.URL)
	site.MaxBytes = 8 << 20
	r := runEngine(t, js, "p1", cursor, site)

	out := func() uint64 { return pipelinetest.StreamMsgs(t, js, names.OutStream(), names.OutAll()) }
	dlq := func() uint64 { return pipelinetest.StreamMsgs(t, js, names.DLQStream(), names.DLQ("ingest")) }
	eventually(t, func() bool { return out() == 6 && dlq() == 3 }, "6 stories out, 3 dead letters: have %d, %d", out(), dlq())
	eventually(t, func() bool { return cs.hits("/feed?cursor=3") >= 3 }, "the cursor polled again")
	cs.mu.Lock()
	cs.tail = `{"id":"id-5","version":"1","links":[{"rel":"rendition","type":"application/ninjs+json","href":"/content/5.json"}]}`
	cs.mu.Unlock()
	eventually(t, func() bool { return out() == 7 }, "the new item on the cursor's page out")
	eventually(t, func() bool { return cs.hits("/feed?cursor=4") >= 3 }, "the cursor moved on")
	if cs.hits("/feed") != 1 || cs.hits("/feed?cursor=2") != 1 {
		t.Errorf("pages fetched again: first %d, second %d", cs.hits("/feed"), cs.hits("/feed?cursor=2"))
	}
	if n := raw(t, js, "wire"); n != 7 {
		t.Errorf("%d raw messages of the cursor feed, want 7", n)
	}
	if n := raw(t, js, "site"); n != 3 {
		t.Errorf("%d raw messages of the RSS feed, want 3", n)
	}
	if out() != 7 || dlq() != 3 {
		t.Errorf("out %d, dead letters %d", out(), dlq())
	}
	// Every story once, by uri.
	ctx := pipelinetest.Context(t, 10*time.Second)
	st, err := js.Stream(ctx, names.OutStream())
	if err != nil {
		t.Fatal(err)
	}
	uris := map[string]int{}
	for seq := uint64(1); ; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			break
		}
		if m.Subject == names.OutAll() {
			uris[m.Header.Get(proto.HeaderStoryURI)]++
		}
	}
	for _, u := range []string{"urn:test:wire:1", "urn:example:plain:0042", "urn:test:wire:4", "urn:test:wire:5", "https://site.example/good",
		"urn:example-wire:20261127:skerry-point", "urn:example-wire:20261128:orchard-frost"} {
		if uris[u] != 1 {
			t.Errorf("story %s out %d times (%v)", u, uris[u], uris)
		}
	}
	want := map[string]string{
		"feed wire item id-3":                       "HTTP 404",
		"feed site item https://site.example/empty": "empty body",
		"feed site item https://site.example/huge":  "story too large: 1048577 bytes, limit 1048576",
	}
	d, err := js.Stream(ctx, names.DLQStream())
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 3; seq++ {
		m, err := d.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		origin := m.Header.Get(proto.HeaderOrigin)
		reason, ok := want[origin]
		if !ok {
			t.Errorf("dead letter from %q (%s)", origin, m.Header.Get(proto.HeaderError))
			continue
		}
		delete(want, origin)
		if got := m.Header.Get(proto.HeaderError); !strings.Contains(got, reason) || !strings.Contains(got, origin) {
			t.Errorf("%s: reason %q, want it to name the item and %q", origin, got, reason)
		}
	}
	if got := r.counter(t, "wirestream_feed_errors_total", "feed", "wire", "kind", feeds.KindRendition); got != 1 {
		t.Errorf("rendition errors %v", got)
	}
	if r.logged("feed item over the story limit: published cut, ingest rejects it") != 1 {
		t.Error("the 5 MB item was not logged")
	}
}
