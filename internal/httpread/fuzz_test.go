package httpread_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/internal/httpread"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// FuzzQuery: any query string (and Last-Event-ID) on the read endpoints,
// against a real JetStream: the answer is 200 or a 4xx JSON error with a
// message, never a 5xx or a panic.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{"region=UZ&limit=3", "region=central-asia,KE&topic=politics&urgency=3&language=en&status=new,kill",
		"since=2024-04-02T08:00:00Z&until=2024-04-03T00:00:00Z", "cursor=17&limit=200", "limit=0", "a=%zz", "region=", "status=KILL", "urgency=-1"} {
		f.Add("/v1/stories", q, "")
		f.Add("/v1/stream", q, "12")
	}
	f.Add("/v1/stories/urn%3Aap%3A1", "", "")
	srv := pipelinetest.StartServer(f)
	_, js := pipelinetest.Connect(f, srv)
	ctx := pipelinetest.Context(f, 20*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, proto.Live(), pipeline.StreamsConfig{Memory: true}); err != nil {
		f.Fatal(err)
	}
	h, err := httpread.New(js, httpread.Config{Names: proto.Live(), Data: new(wiring.Data), Heartbeat: time.Hour}, nil)
	if err != nil {
		f.Fatal(err)
	}
	go func() { _ = h.Run(ctx) }()
	f.Fuzz(func(t *testing.T, path, query, last string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(http.MethodGet, "http://x"+path+"?"+query, nil)
		if err != nil {
			return
		}
		if path == "/v1/stream" {
			return // a valid stream query streams until the client goes; its parsing is the stories endpoint's
		}
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == 200 {
			return
		}
		var e struct {
			Error string `json:"error"`
		}
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable || w.Code < 400 || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
			t.Fatalf("GET %s?%s: %d %s", path, query, w.Code, w.Body.String())
		}
	})
}
