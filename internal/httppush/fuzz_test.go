package httppush_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/internal/httppush"
	"github.com/wirestream/wirestream/internal/input/inputtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

var (
	fuzzTypes     = []string{"application/json", "application/nitf+xml", "application/x-anpa", "application/x-ndjson", "text/plain; charset=utf-8", "application/xml", "application/vnd.iptc.g2.newsmessage+xml", "", "image/png", "application/json; charset=\"", "text/plain;;"}
	fuzzEncodings = []string{"", "identity", "gzip", "zstd", "br", "GZIP", "gzip, zstd"}
)

// FuzzHTTPPush posts random bodies with random content types and codings
// (compressed for real when the flag says so) to the handler in front of a
// real JetStream, each under its own source (so its own raw subject). The
// handler must never panic, always answer JSON, and answer 202 exactly
// when it stored the request's stories: at least one, and no more records
// than the stories it counts; any other answer stores nothing.
func FuzzHTTPPush(f *testing.F) {
	for _, name := range []string{"e2e/feed.jsonl", "e2e/wire.txt", "newsml/item-plain.xml", "newsml/message-three-items.xml"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", name)); err == nil {
			f.Add(b, uint8(0), uint8(0), false)
			f.Add(b, uint8(2), uint8(2), true)
		}
	}
	f.Add([]byte(`[{"uri":"urn:f:1","body_text":"LIMA (AP) — Rain."},{"uri":"urn:f:1","body_text":"x"}]`), uint8(0), uint8(3), true)
	f.Add([]byte(`{"uri":"urn:f:2","body_text":"b","x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`), uint8(1), uint8(2), false)
	f.Add([]byte("date 2024-05-03 LIMA, Peru (AP) — Rain.\fOSLO (AP) — Snow."), uint8(2), uint8(0), false)

	srv := pipelinetest.StartServer(f)
	_, js := pipelinetest.Connect(f, srv)
	names := proto.Live()
	if err := pipeline.EnsureStreams(context.Background(), js, names, pipeline.StreamsConfig{}); err != nil {
		f.Fatal(err)
	}
	h, err := httppush.New(js, httppush.Config{Names: names, MaxBody: 64 << 10, MaxBytes: 4 << 10, Timeout: 5 * time.Second}, nil)
	if err != nil {
		f.Fatal(err)
	}
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte, ct, enc uint8, compress bool) {
		contentType := fuzzTypes[int(ct)%len(fuzzTypes)]
		encoding := fuzzEncodings[int(enc)%len(fuzzEncodings)]
		sent := body
		if compress {
			switch encoding {
			case "gzip", "GZIP":
				sent = inputtest.Gzip(t, body)
			case "zstd":
				sent = inputtest.Zstd(t, body)
			}
		}
		source := "fuzz" + strconv.FormatInt(seq.Add(1), 10)
		req := httptest.NewRequest(http.MethodPost, "/v1/stories?source="+source, bytes.NewReader(sent))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var reply struct {
			Accepted int      `json:"accepted"`
			URIs     []string `json:"uris"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
			t.Fatalf("%d: answer is not JSON: %q", rec.Code, rec.Body.Bytes())
		}
		stored := pipelinetest.StreamMsgs(t, js, names.RawStream(), names.Raw(source))
		if rec.Code == http.StatusAccepted {
			if reply.Accepted < 1 || reply.Accepted != len(reply.URIs) || stored < 1 || stored > uint64(reply.Accepted) {
				t.Fatalf("202 accepted %d (%d uris) with %d records stored", reply.Accepted, len(reply.URIs), stored)
			}
			return
		}
		if stored != 0 {
			t.Fatalf("%d %s, yet %d records stored", rec.Code, rec.Body.Bytes(), stored)
		}
		if rec.Code < 400 {
			t.Fatalf("status %d for a request not stored", rec.Code)
		}
	})
}
