package desk_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/desk"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
)

func get(t *testing.T, u, tok string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestDeskAPI checks the desk's JSON endpoints without a browser: the
// token on every data endpoint (and none on the static pages, which hold
// no data), a story's versions with what changed, its explanation, the
// near copy the dedupe stage linked to it, the name rules, and the
// pipeline figures with a dead letter's reason.
func TestDeskAPI(t *testing.T) {
	ds := startDesk(t)
	at := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	first, _, update, _ := deskStories(at)
	copyOf := first[0]
	copyOf.URI, copyOf.At = "urn:test:desk:tashkent-copy", at.Add(30*time.Second) // the same text from another feed
	ds.ingest(t, first[0].line(), first[1].line())
	ds.waitOut(t, 2)
	ds.ingest(t, update.line(), copyOf.line(), `{"uri": "urn:test:desk:broken", "body_text": `)
	ds.waitOut(t, 3)

	for _, p := range []string{"/v1/desk/areas", "/v1/desk/story?uri=urn%3Atest%3Adesk%3Atashkent", "/v1/desk/pipeline", "/v1/desk/resolve?region=UZ"} {
		if resp, body := get(t, ds.base+p, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without the token: %d %.200s", p, resp.StatusCode, body)
		}
		if resp, body := get(t, ds.base+p, "wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d %.200s", p, resp.StatusCode, body)
		}
	}
	for _, p := range []string{"/", "/pipeline", "/static/desk.js", "/static/countries-110m.json"} {
		resp, body := get(t, ds.base+p, "")
		if resp.StatusCode != http.StatusOK || len(body) == 0 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: %d, %d bytes, CSP %q", p, resp.StatusCode, len(body), resp.Header.Get("Content-Security-Policy"))
		}
		if strings.Contains(string(body), "urn:test:desk") {
			t.Errorf("%s holds story data without the token", p)
		}
	}
	for _, p := range []string{"/static/../desk.go", "/nothing", "/static/nothing.js"} {
		if resp, _ := get(t, ds.base+p, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}

	// The story: two versions in order, the words that changed, the
	// explanation, and the copy.
	var v desk.StoryView
	pipelinetest.Eventually(t, 20*time.Second, func() bool {
		resp, body := get(t, ds.base+"/v1/desk/story?uri="+url.QueryEscape(first[0].URI), token)
		if resp.StatusCode != http.StatusOK {
			return false
		}
		v = desk.StoryView{}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		return len(v.Versions) == 2 && len(v.Copies) == 1
	}, "the story with two versions and one copy")
	if v.Versions[0].Dedupe != "new" || v.Versions[1].Dedupe != "update" {
		t.Errorf("versions %s, %s; want new, update", v.Versions[0].Dedupe, v.Versions[1].Dedupe)
	}
	var added []string
	for _, c := range v.Versions[1].Changes {
		if c.Op == "+" {
			added = append(added, strings.TrimSpace(c.Text))
		}
	}
	if !strings.Contains(strings.Join(added, " "), "27") || v.Versions[1].HeadlineBefore != first[0].Headline {
		t.Errorf("changes of version 2: added %q, headline before %q", added, v.Versions[1].HeadlineBefore)
	}
	uz := false
	for _, p := range v.Explanation.Places {
		if p.Code == "UZ" && len(p.Evidence) > 0 && strings.Contains(p.Evidence[0].Rule, "dateline") {
			uz = true
		}
	}
	if !uz || len(v.Explanation.Topics) == 0 || len(v.Explanation.Topics[0].Terms) == 0 {
		t.Errorf("explanation %+v", v.Explanation)
	}
	if c := v.Copies[0]; c.URI != copyOf.URI || !strings.Contains(c.Status, "duplicate") {
		t.Errorf("copy %+v, want the near copy %s", c, copyOf.URI)
	}
	for _, c := range []struct{ q string }{{"uri=urn%3Anothing"}, {""}} {
		resp, _ := get(t, ds.base+"/v1/desk/story?"+c.q, token)
		if want := map[string]int{"": 400}[c.q]; want == 0 && resp.StatusCode != http.StatusNotFound || want != 0 && resp.StatusCode != want {
			t.Errorf("story?%s: %d", c.q, resp.StatusCode)
		}
	}

	// Names as the CLI takes them.
	for q, want := range map[string]string{"region=Central+Asia": "143", "region=uz": "UZ", "region=central-asia": "143", "topic=politics": "medtop:11000000", "topic=11000000": "medtop:11000000"} {
		resp, body := get(t, ds.base+"/v1/desk/resolve?"+q, token)
		var r struct{ Code string }
		_ = json.Unmarshal(body, &r)
		if resp.StatusCode != http.StatusOK || r.Code != want {
			t.Errorf("resolve %s: %d %s, want %s", q, resp.StatusCode, body, want)
		}
	}
	if resp, body := get(t, ds.base+"/v1/desk/resolve?region=atlantis", token); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "unknown region") {
		t.Errorf("resolve atlantis: %d %s", resp.StatusCode, body)
	}

	// The pipeline: every stage's consumer, the dead letter and its reason.
	var pv desk.PipelineView
	pipelinetest.Eventually(t, 20*time.Second, func() bool {
		_, body := get(t, ds.base+"/v1/desk/pipeline", token)
		pv = desk.PipelineView{}
		if err := json.Unmarshal(body, &pv); err != nil {
			t.Fatal(err)
		}
		return len(pv.DeadLetters.Last) == 1 && len(pv.Stages) > 0 && pv.Stages[0].Done >= 5
	}, "the pipeline figures with the dead letter")
	names := []string{}
	for _, s := range pv.Stages {
		names = append(names, s.Name)
		if !s.Exists || s.Handler == nil || s.Handler.Count == 0 {
			t.Errorf("stage %+v: want its consumer and its handler latency", s)
		}
	}
	if strings.Join(names, ",") != "ingest,dedupe,tag,publish" {
		t.Errorf("stages %v", names)
	}
	if d := pv.DeadLetters.Last[0]; d.Stage != "ingest" || !strings.Contains(d.Reason, "invalid JSON") || !strings.Contains(d.Head, "urn:test:desk:broken") {
		t.Errorf("dead letter %+v", d)
	}
	if pv.Stages[0].DeadLetters != 1 || len(pv.Streams) < 5 || len(pv.Errors) > 0 {
		t.Errorf("pipeline view: ingest dead letters %d, %d streams, errors %v", pv.Stages[0].DeadLetters, len(pv.Streams), pv.Errors)
	}
}
