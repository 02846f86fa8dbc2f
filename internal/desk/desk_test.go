package desk_test

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/nats-io/nats.go"

	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// The stories of the desk test: original prose in AP style, spread over
// Central Asia (politics and sport), Kenya and Australia.
func deskStories(at time.Time) (first, live []story, update, kill story) {
	first = []story{
		{URI: "urn:test:desk:tashkent", Version: "1", At: at, Headline: "Uzbekistan's parliament sets a date for the presidential election",
			Body: "TASHKENT, Uzbekistan (AP) — Uzbekistan's parliament voted on Monday to hold the presidential election in October, and the opposition said it would field a candidate.\n\nThe vote followed a week of debate in the legislature."},
		{URI: "urn:test:desk:bishkek", Version: "1", At: at.Add(time.Minute), Headline: "Kyrgyzstan's government resigns after a vote in parliament",
			Body: "BISHKEK, Kyrgyzstan (AP) — Kyrgyzstan's prime minister and his cabinet resigned on Monday after parliament passed a motion of no confidence.\n\nThe president asked the ministers to stay on until a new government is formed."},
		{URI: "urn:test:desk:nairobi", Version: "1", At: at.Add(2 * time.Minute), Headline: "Kenya's central bank raises its key rate",
			Body: "NAIROBI, Kenya (AP) — Kenya's central bank raised its benchmark interest rate by half a point on Monday to steady the shilling and slow inflation.\n\nEconomists had expected a smaller increase."},
		{URI: "urn:test:desk:melbourne", Version: "1", At: at.Add(3 * time.Minute), Headline: "Victoria wins the cricket final in Melbourne",
			Body: "MELBOURNE, Australia (AP) — Victoria beat New South Wales by six wickets in the cricket final on Monday in front of 30,000 fans.\n\nThe captain scored an unbeaten century."},
	}
	live = []story{
		{URI: "urn:test:desk:almaty", Version: "1", At: at.Add(4 * time.Minute), Headline: "Kazakhstan's president calls an early parliamentary election",
			Body: "ALMATY, Kazakhstan (AP) — Kazakhstan's president dissolved parliament on Monday and called an early election for March, saying the vote would renew the legislature.\n\nOpposition parties said the campaign was too short."},
		{URI: "urn:test:desk:ashgabat", Version: "1", At: at.Add(5 * time.Minute), Headline: "Turkmenistan beats Iran in a World Cup qualifier",
			Body: "ASHGABAT, Turkmenistan (AP) — Turkmenistan's football team beat Iran 2-1 in a World Cup qualifier on Monday, with both goals in the second half.\n\nThe coach praised his players' fitness."},
	}
	update = story{URI: "urn:test:desk:tashkent", Version: "2", At: at.Add(6 * time.Minute), Headline: "Uzbekistan's parliament sets October 27 for the presidential election",
		Body: "TASHKENT, Uzbekistan (AP) — Uzbekistan's parliament voted on Monday to hold the presidential election on October 27, and two opposition parties said they would field candidates.\n\nThe vote followed a week of debate in the legislature."}
	kill = story{URI: "urn:test:desk:tashkent", Version: "3", At: at.Add(7 * time.Minute), Status: "canceled", Headline: "KILL: Uzbekistan election date",
		Body: "TASHKENT, Uzbekistan (AP) — This story has been withdrawn."}
	return
}

// TestDeskInBrowser drives the desk and the pipeline page in headless
// chromium against a real pipeline: the token prompt, stories arriving
// without reload, region and topic filters kept in the URL (and a bookmark
// of them), a story's explanation, versions and what changed, a kill
// struck through, the pipeline page's figures moving, and the list with
// 10,000 stories (timings logged, and the DOM checked to hold only the
// visible rows).
func TestDeskInBrowser(t *testing.T) {
	ds := startDesk(t)
	at := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	first, live, update, kill := deskStories(at)
	var lines []string
	for _, s := range first {
		lines = append(lines, s.line())
	}
	ds.ingest(t, lines...)
	ds.waitOut(t, uint64(len(first)))

	ctx, cancel := browser(t, 1280, 860)
	defer cancel()
	// Without the token the page asks for it; a wrong one is refused.
	do(t, ctx,
		chromedp.Navigate(ds.base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "wrong"),
		chromedp.Click(chromedp.CSS("#token-form button")),
	)
	poll(t, ctx, `document.getElementById("token-error").textContent.includes("refused") && document.getElementById("token-dialog").open`, "a wrong token refused")
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("token"), token),
		chromedp.Click(chromedp.CSS("#token-form button")),
	)
	poll(t, ctx, fmt.Sprintf(`window.desk.count() === %d`, len(first)), "the first stories listed")
	poll(t, ctx, `document.getElementById("conn").dataset.state === "live"`, "the event stream live")

	// Live: stories ingested now appear without a reload (a marker set on
	// the window would be lost by one).
	eval[int](t, ctx, `window.__noReload = 1`)
	lines = lines[:0]
	for _, s := range live {
		lines = append(lines, s.line())
	}
	ds.ingest(t, lines...)
	all := len(first) + len(live)
	poll(t, ctx, fmt.Sprintf(`window.desk.count() === %d && window.__noReload === 1`, all), "live stories without reload")
	ds.waitOut(t, uint64(all))
	out := ds.outStories(t)
	if got := visible(t, ctx); !slices.Equal(got, expect(out, nil, nil)) {
		t.Fatalf("listed %v, want %v", got, expect(out, nil, nil))
	}

	// Filters by name, combined, kept in the URL.
	region := expect(out, []string{"143"}, nil)
	both := expect(out, []string{"143"}, []string{"medtop:11000000"})
	if len(region) < 2 || len(region) == all || len(both) == 0 || len(both) == len(region) {
		t.Fatalf("the stories do not test the filters: Central Asia %v, and politics %v", region, both)
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("f-region"), "Central Asia"),
		chromedp.Click(chromedp.CSS("#filters button[type=submit]")),
	)
	poll(t, ctx, `location.search.includes("region=143")`, "the region filter in the URL")
	if got := visible(t, ctx); !slices.Equal(got, region) {
		t.Fatalf("Central Asia lists %v, want %v", got, region)
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("f-topic"), "politics"),
		chromedp.Click(chromedp.CSS("#filters button[type=submit]")),
	)
	poll(t, ctx, `location.search.includes("topic=medtop%3A11000000")`, "the topic filter in the URL")
	if got := visible(t, ctx); !slices.Equal(got, both) {
		t.Fatalf("Central Asia politics lists %v, want %v", got, both)
	}
	bookmark := eval[string](t, ctx, `location.href`)
	// The bookmark, opened again, gives the same list (by code and by name).
	byName := ds.base + "/?region=" + url.QueryEscape("Uzbekistan,Kyrgyzstan,Kazakhstan,Turkmenistan,Tajikistan") + "&topic=politics"
	for _, u := range []string{bookmark, byName} {
		do(t, ctx, chromedp.Navigate(u))
		poll(t, ctx, fmt.Sprintf(`window.desk && window.desk.count() === %d`, all), "stories after opening "+u)
		if got := visible(t, ctx); !slices.Equal(got, both) {
			t.Fatalf("%s lists %v, want %v", u, got, both)
		}
	}
	screenshot(t, ctx, "desk-filtered.png")

	// A story's view: text, places and topics with their evidence.
	do(t, ctx, chromedp.Navigate(ds.base+"/"))
	poll(t, ctx, fmt.Sprintf(`window.desk.count() === %d`, all), "stories after going back")
	do(t, ctx, chromedp.Click(chromedp.CSS(`.row[data-uri="urn:test:desk:tashkent"]`)))
	poll(t, ctx, `(() => { const w = document.querySelector(".why.places"); return !!w && w.innerText.includes("Uzbekistan") && w.innerText.includes("TASHKENT") && w.innerText.includes("dateline"); })()`,
		"the explanation of the places (the dateline's words and rule)")
	poll(t, ctx, `(() => { const w = document.querySelector(".why.topics"); return !!w && w.innerText.includes("politics") && w.querySelectorAll(".evidence li").length > 0; })()`,
		"the explanation of the topics (lexicon terms)")
	poll(t, ctx, `location.search.includes("story=urn%3Atest%3Adesk%3Atashkent")`, "the open story in the URL")

	// An update: the open story shows both versions and what changed.
	ds.ingest(t, update.line())
	poll(t, ctx, `document.querySelectorAll(".versions > li").length === 2 && [...document.querySelectorAll(".versions ins")].some((e) => e.textContent.includes("27"))`,
		"the second version with the words added")
	poll(t, ctx, `document.querySelector('.row[data-uri="urn:test:desk:tashkent"] .dedupe').textContent.startsWith("update")`, "the row marked as an update")
	screenshot(t, ctx, "desk.png")

	// A kill: struck through at once, in the list and in the story view.
	ds.ingest(t, kill.line())
	poll(t, ctx, `(() => { const r = document.querySelector('.row[data-uri="urn:test:desk:tashkent"]'); return !!r && r.classList.contains("killed") && getComputedStyle(r.querySelector(".headline")).textDecorationLine.includes("line-through"); })()`,
		"the killed story struck through")
	poll(t, ctx, `!!document.querySelector(".kill-note")`, "the kill notice in the story view")

	// Keyboard only: from the list, the arrow keys move between stories
	// and Enter opens the focused one.
	do(t, ctx, chromedp.Focus(chromedp.ID("stories")), chromedp.KeyEvent(kb.ArrowDown))
	poll(t, ctx, `document.activeElement.classList.contains("row") && document.activeElement.getAttribute("aria-posinset") === "1"`, "the first story focused by the arrow key")
	do(t, ctx, chromedp.KeyEvent(kb.ArrowDown))
	second := eval[string](t, ctx, `document.activeElement.dataset.uri || ""`)
	if second == "" || eval[string](t, ctx, `document.activeElement.getAttribute("aria-posinset")`) != "2" {
		t.Fatalf("the second arrow key did not move to the second story (focused %q)", second)
	}
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	poll(t, ctx, fmt.Sprintf(`new URLSearchParams(location.search).get("story") === %q && !document.getElementById("story").hidden`, second),
		"Enter opening the focused story")

	// Phone width: the list and the map stack, nothing wider than the screen.
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	poll(t, ctx, `document.documentElement.scrollWidth <= 390 + 1`, "no horizontal scrolling at 390 px")
	screenshot(t, ctx, "desk-phone.png")
	do(t, ctx, chromedp.EmulateViewport(1280, 860))

	// The pipeline page: its figures move when stories flow, and a dead
	// letter shows with its reason.
	do(t, ctx, chromedp.Navigate(ds.base+"/pipeline"))
	done := func() int {
		s := eval[string](t, ctx, `(document.querySelector('#stages tr[data-stage="ingest"] .done') || {}).textContent || ""`)
		n, _ := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
		return n
	}
	poll(t, ctx, `!!document.querySelector('#stages tr[data-stage="ingest"] .done')`, "the stages table")
	before := done()
	var more []string
	for i := range 5 {
		more = append(more, story{URI: fmt.Sprintf("urn:test:desk:more:%d", i), Version: "1", At: at.Add(time.Duration(8+i) * time.Minute),
			Headline: fmt.Sprintf("Markets note %d", i), Body: fmt.Sprintf("LONDON (AP) — %s", marketNotes[i])}.line())
	}
	more = append(more, `{"uri": "urn:test:desk:broken", "body_text": `) // malformed: dead-lettered
	ds.ingest(t, more...)
	poll(t, ctx, fmt.Sprintf(`Number((document.querySelector('#stages tr[data-stage="ingest"] .done') || {}).textContent.replace(/,/g, "")) >= %d`, before+6), "the ingest stage's count moving")
	poll(t, ctx, `document.querySelector("#dl-last").innerText.includes("invalid JSON")`, "the dead letter and its reason")
	poll(t, ctx, `[...document.querySelectorAll("#stages tbody tr")].some((r) => /\d/.test(r.cells[6].textContent) && !r.cells[6].textContent.includes("elsewhere"))`, "a handler latency")
	screenshot(t, ctx, "pipeline.png")

	// 10,000 stories in the session: published straight to the output
	// subject (the stages are not what is measured), read by the page over
	// the event stream.
	do(t, ctx, chromedp.Navigate(ds.base+"/"))
	poll(t, ctx, `document.getElementById("conn").dataset.state === "live"`, "the desk live again")
	base := eval[int](t, ctx, `window.desk.count()`)
	const bulk = 10000
	start := time.Now()
	publishSynthetic(t, ds, bulk, at)
	poll(t, ctx, fmt.Sprintf(`window.desk.count() >= %d`, min(base+bulk, 10000)), "10,000 stories in the page")
	arrived := time.Since(start)
	type perfT struct {
		Rows     int     `json:"rows"`
		Refilter float64 `json:"refilter"`
		Filter   float64 `json:"filter"`
		Scroll   float64 `json:"scroll"`
	}
	perf := eval[perfT](t, ctx, `(async () => {
		const rows = document.querySelectorAll("#stories .row").length;
		const refilter = window.desk.measure();
		const t0 = performance.now();
		window.desk.filter(["150"], []);
		const filter = performance.now() - t0;
		window.desk.filter([], []);
		const v = document.getElementById("stories");
		let scroll = 0;
		for (let i = 0; i < 20; i++) {
			v.scrollTop = i * 4000;
			const t1 = performance.now();
			window.desk.render();
			scroll = Math.max(scroll, performance.now() - t1);
		}
		return { rows, refilter, filter, scroll };
	})()`)
	t.Logf("10,000 stories: arrived in the page %s after publishing began; %d rows in the DOM; refilter+render %.1f ms, a region filter (Europe) %.1f ms, the slowest render of 20 scroll positions %.1f ms",
		arrived.Round(time.Millisecond), perf.Rows, perf.Refilter, perf.Filter, perf.Scroll)
	if perf.Rows == 0 || perf.Rows > 60 {
		t.Fatalf("%d rows in the DOM with 10,000 stories: the list should hold only the visible rows", perf.Rows)
	}
	kept := eval[int](t, ctx, `window.desk.count()`)
	if kept != 10000 {
		t.Fatalf("the page keeps %d stories, want its bound of 10,000", kept)
	}
}

var marketNotes = []string{
	"Shares in London rose on Monday as oil prices fell for a third day.",
	"The pound slipped against the dollar after weak retail sales figures.",
	"Gold reached a record high as investors sought safety from inflation.",
	"Bank shares led the FTSE 100 lower after a lender warned on profits.",
	"Bond yields fell as traders bet the central bank would cut rates soon.",
}

// publishSynthetic stores n enriched stories on the output subject as the
// publish stage would (JSON body, uri and encoding headers).
func publishSynthetic(t *testing.T, ds *deskServer, n int, at time.Time) {
	t.Helper()
	ctx := pipelinetest.Context(t, 60*time.Second)
	countries := []struct{ cc, name, m49 string }{{"FR", "France", "150"}, {"BR", "Brazil", "019"}, {"IN", "India", "142"}, {"NG", "Nigeria", "002"}, {"JP", "Japan", "142"}}
	for i := range n {
		c := countries[i%len(countries)]
		s := &proto.Story{URI: fmt.Sprintf("urn:test:desk:bulk:%d", i), Version: "1", VersionCreated: proto.Time(at.Add(time.Duration(i) * time.Millisecond).UnixNano()),
			Headline: fmt.Sprintf("Bulk story %d from %s", i, c.name), BodyText: "Text.", PubStatus: proto.PubStatusUsable,
			Place:   []*proto.Place{{Name: c.name, Scheme: proto.SchemeCountry, Code: c.cc, Rel: "located", Relevance: 100}, {Name: c.m49, Scheme: proto.SchemeM49, Code: c.m49, Rel: "located", Relevance: 100}},
			Subject: []*proto.Subject{{Name: "economy, business and finance", Scheme: proto.SchemeMedTop, Code: "medtop:04000000", Relevance: 100}},
			Dedupe:  &proto.Dedupe{Status: proto.DedupeNew}}
		data, err := proto.MarshalJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(ds.p.Names.OutAll())
		m.Data = data
		m.Header.Set(proto.HeaderEncoding, string(proto.EncodingJSON))
		m.Header.Set(proto.HeaderStoryURI, s.URI)
		if _, err := ds.p.JS.PublishMsgAsync(m); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-ds.p.JS.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal("bulk publish not acknowledged")
	}
}
