// Package httppush is wirestream's HTTP push endpoint, POST /v1/stories
// (`wirestream run --http`): stories in a request body are checked with the
// ingest stage's parser and stored through the one raw-input path
// (pipeline.RawPublisher); the answer comes after JetStream stored them.
package httppush

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/input"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// Config configures the HTTP push endpoint.
type Config struct {
	Names proto.Names
	// Token, when set, is the bearer token every request must carry.
	Token string
	// MaxBody bounds a request body (default proto.DefaultLimits.BodyBytes,
	// 8 MiB), as sent and, with Content-Encoding gzip or zstd, once
	// inflated: larger gets 413.
	MaxBody int64
	// MaxBytes is the ingest stage's limit for one story.
	MaxBytes int
	// Timeout bounds the wait for JetStream's acknowledgements (default 10 s).
	Timeout time.Duration
	// MaxConcurrent bounds the requests handled at once (default 16); one
	// more gets 503 with Retry-After. Bodies are read whole, so the memory
	// they take is bounded by MaxConcurrent × MaxBody (128 MiB by default).
	MaxConcurrent int
}

// Handler serves POST /v1/stories: a ninjs JSON object (or array),
// JSON lines, AP-style plain text, or NewsML-G2, chosen by Content-Type,
// sent as it is or with Content-Encoding gzip or zstd.
// It answers 202 only after JetStream stored every story of the request,
// 4xx with the reason for bad input (nothing of a bad request is stored:
// the sender keeps it and can fix it), 401 without the configured bearer
// token, 413 over the size limit (as sent, or once inflated), 415 for a
// type or coding it does not read, 503 when JetStream does not answer.
type Handler struct {
	cfg    Config
	js     jetstream.JetStream
	parser *ingest.Stage
	log    *zap.Logger
	slots  chan struct{} // one per request being handled
}

// New returns the handler.
func New(js jetstream.JetStream, cfg Config, log *zap.Logger) (*Handler, error) {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = proto.DefaultLimits.BodyBytes
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = ingest.DefaultMaxBytes
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = 16
	}
	if cfg.MaxConcurrent < 1 || cfg.MaxBody < 1 {
		return nil, fmt.Errorf("httppush: Config.MaxConcurrent %d and MaxBody %d must be positive", cfg.MaxConcurrent, cfg.MaxBody)
	}
	p, err := ingest.New(ingest.Config{MaxBytes: cfg.MaxBytes})
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Handler{cfg: cfg, js: js, parser: p, log: log, slots: make(chan struct{}, cfg.MaxConcurrent)}, nil
}

type httpReply struct {
	Accepted int          `json:"accepted"`
	URIs     []string     `json:"uris,omitempty"`
	Error    string       `json:"error,omitempty"`
	Rejected []httpReject `json:"rejected,omitempty"`
}

type httpReject struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func (h *Handler) reply(w http.ResponseWriter, code int, r httpReply) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(r)
	_, _ = w.Write(append(b, '\n'))
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/stories" {
		h.reply(w, http.StatusNotFound, httpReply{Error: "not found: POST /v1/stories"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reply(w, http.StatusMethodNotAllowed, httpReply{Error: "use POST"})
		return
	}
	if h.cfg.Token != "" {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(h.cfg.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wirestream"`)
			h.reply(w, http.StatusUnauthorized, httpReply{Error: "missing or wrong bearer token"})
			return
		}
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		h.reply(w, http.StatusServiceUnavailable, httpReply{Error: fmt.Sprintf("busy: %d requests in progress; retry shortly", h.cfg.MaxConcurrent)})
		return
	}
	format, err := formatOf(r.Header.Get("Content-Type"))
	if err != nil {
		h.reply(w, http.StatusUnsupportedMediaType, httpReply{Error: err.Error()})
		return
	}
	// The body is bounded as sent and, when compressed, as inflated.
	dec, err := input.Decode(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody), strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))), h.cfg.MaxBody)
	if err != nil {
		h.reply(w, http.StatusUnsupportedMediaType, httpReply{Error: err.Error()})
		return
	}
	defer dec.Close()
	body, err := io.ReadAll(dec)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			h.reply(w, http.StatusRequestEntityTooLarge, httpReply{Error: fmt.Sprintf("body over %d bytes", h.cfg.MaxBody)})
		case errors.Is(err, input.ErrInflated):
			h.reply(w, http.StatusRequestEntityTooLarge, httpReply{Error: fmt.Sprintf("body over %d bytes once inflated", h.cfg.MaxBody)})
		case errors.Is(err, input.ErrCorrupt):
			h.reply(w, http.StatusBadRequest, httpReply{Error: err.Error()})
		default:
			h.reply(w, http.StatusBadRequest, httpReply{Error: "reading body: " + err.Error()})
		}
		return
	}
	source := r.URL.Query().Get("source")
	if source == "" {
		source = "http"
	}
	if proto.Token(source) != source {
		h.reply(w, http.StatusBadRequest, httpReply{Error: "source may only use letters, digits, '-' and '_'"})
		return
	}
	var recs []ingest.Record
	var rejects []httpReject
	var uris []string
	split := func(rec ingest.Record) error {
		// The content type names the family; Split tells NITF from
		// NewsML-G2 by the root element.
		if format != "" && !(isXML(format) && isXML(rec.Format)) {
			rec.Format = format
		}
		stories, err := h.parser.ParseAll(rec.Data, rec.Format)
		if err != nil {
			rejects = append(rejects, httpReject{Line: rec.Line, Reason: err.Error()})
			return nil
		}
		for _, s := range stories {
			uris = append(uris, s.URI)
		}
		recs = append(recs, rec)
		return nil
	}
	if format == ingest.FormatText && ingest.IsWireFramed(body) {
		format = ingest.FormatANPA // wire copy sent as text: one story per message
	}
	if format == ingest.FormatText {
		err = split(ingest.Record{Data: bytes.TrimSpace(body), Line: 1, Format: ingest.FormatText})
	} else {
		err = ingest.Split(bytes.NewReader(body), h.cfg.MaxBytes, split)
	}
	if err != nil {
		h.reply(w, http.StatusBadRequest, httpReply{Error: err.Error()})
		return
	}
	if len(rejects) > 0 {
		h.reply(w, http.StatusUnprocessableEntity, httpReply{Error: fmt.Sprintf("%d of %d stories invalid; nothing stored", len(rejects), len(rejects)+len(recs)), Rejected: rejects})
		return
	}
	if len(recs) == 0 {
		h.reply(w, http.StatusBadRequest, httpReply{Error: "no story in the body"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	pub, err := pipeline.NewRawPublisher(h.js, pipeline.RawPublisherConfig{Names: h.cfg.Names, AckTimeout: h.cfg.Timeout, Reader: wiring.RawReader(h.cfg.Names)})
	if err != nil {
		h.reply(w, http.StatusInternalServerError, httpReply{Error: err.Error()})
		return
	}
	received := proto.FromTime(time.Now())
	var storeErr error
	for _, rec := range recs {
		m := pipeline.RawMsg{Data: rec.Data, Meta: proto.RawMeta{Source: source, Format: rec.Format, Origin: "http:" + strconv.Itoa(rec.Line), Received: received}}
		err := pub.Publish(ctx, m, func(a pipeline.RawAck) {
			if a.Err != nil && storeErr == nil {
				storeErr = fmt.Errorf("line %d: %w", rec.Line, a.Err)
			}
		})
		if err != nil {
			storeErr = err
			break
		}
	}
	if storeErr == nil {
		storeErr = pub.Flush(ctx)
	}
	if errors.Is(storeErr, pipeline.ErrHistoryFull) {
		w.Header().Set("Retry-After", "30")
		h.reply(w, http.StatusInsufficientStorage, httpReply{Error: storeErr.Error()})
		return
	}
	if storeErr != nil {
		h.log.Warn("http push: not stored", zap.String("source", source), zap.Error(storeErr))
		h.reply(w, http.StatusServiceUnavailable, httpReply{Error: "store: " + storeErr.Error()})
		return
	}
	h.reply(w, http.StatusAccepted, httpReply{Accepted: len(uris), URIs: uris})
}

// isXML reports the XML formats, told apart by their root element.
func isXML(format string) bool { return format == ingest.FormatNewsML || format == ingest.FormatNITF }

// formatOf maps a Content-Type to an input format; "" means detect
// (JSON object, array or lines; ninjs of any generation). A text/plain
// body that opens with SOH or ZCZC is split as IPTC 7901/ANPA messages.
func formatOf(ct string) (string, error) {
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return "", fmt.Errorf("Content-Type %q: use application/json, application/x-ndjson, text/plain, application/xml (NewsML-G2 or NITF) or application/x-anpa (IPTC 7901/ANPA)", ct)
	}
	switch mt {
	case "application/json", "application/ninjs+json", "application/x-ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines":
		return "", nil
	case "text/plain":
		return ingest.FormatText, nil
	case "application/xml", "text/xml", "application/vnd.iptc.g2.newsitem+xml", "application/vnd.iptc.g2.newsmessage+xml":
		return ingest.FormatNewsML, nil
	case "application/nitf+xml", "text/vnd.iptc.nitf+xml", "text/vnd.iptc.nitf":
		return ingest.FormatNITF, nil
	case "application/x-anpa", "text/x-anpa", "application/x-iptc7901", "text/x-iptc7901":
		return ingest.FormatANPA, nil
	}
	return "", fmt.Errorf("Content-Type %q not supported: use application/json, application/x-ndjson, text/plain, application/xml (NewsML-G2 or NITF) or application/x-anpa (IPTC 7901/ANPA)", mt)
}
