// Package httpread is wirestream's HTTP read API on the --http listener:
//
//	GET /v1/stories          a page of enriched stories, newest first, with a cursor
//	GET /v1/stories/{uri}    the latest version of one story (404 unknown or killed)
//	GET /v1/stream           Server-Sent Events, one event per matching story
//
// It reads the output stream (ws.out.all) directly: pages by walking it
// backwards by sequence with direct gets, the event stream with one ordered
// consumer per client, single stories through an in-memory uri index kept
// by a headers-only consumer. It also routes POST /v1/stories to the push
// handler, so both share one listener, CORS policy and error format.
package httpread

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

// Config configures the read API.
type Config struct {
	Names proto.Names
	// Data resolves region and topic names (required).
	Data *wiring.Data
	// ReadToken, when set, is the bearer token the read endpoints require.
	// When empty, PushToken (if set) is required instead: reads are never
	// more open than pushes.
	ReadToken string
	// PushToken is the push endpoint's token: it also grants reads.
	PushToken string
	// Push, when set, serves POST /v1/stories (internal/httppush).
	Push http.Handler
	// Fallback, when set, serves every other path (the desk pages); it
	// checks reads with Handler.Authorize.
	Fallback http.Handler
	// Origins allowed by CORS ("*" for any); none: no CORS headers.
	Origins []string
	// DefaultLimit and MaxLimit bound a page (default 20 and 200 stories).
	DefaultLimit, MaxLimit int
	// ScanBudget bounds the output messages one page request reads (default
	// 20,000): a filter that matches rarely gets a shorter page with a
	// cursor to go on from.
	ScanBudget int
	// MaxStreams bounds the event streams open at once (default 256); one
	// more gets 503.
	MaxStreams int
	// Heartbeat is the interval of SSE comments on an idle stream (default 15 s).
	Heartbeat time.Duration
	// WriteTimeout bounds each write to an event stream client (default
	// 10 s): a client that stops reading is cut off then, its consumer
	// removed. It replaces the server's whole-response write timeout for
	// event streams.
	WriteTimeout time.Duration
	// Timeout bounds the JetStream work of one page or lookup (default 10 s).
	Timeout time.Duration
}

func (c *Config) setDefaults() {
	if c.DefaultLimit == 0 {
		c.DefaultLimit = 20
	}
	if c.MaxLimit == 0 {
		c.MaxLimit = 200
	}
	if c.ScanBudget == 0 {
		c.ScanBudget = 20000
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = 256
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
}

// Validate reports the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Data == nil:
		return errors.New("httpread: Config.Data is nil")
	case c.Names.Prefix == "":
		return errors.New("httpread: Config.Names is empty")
	case c.DefaultLimit < 1 || c.MaxLimit < c.DefaultLimit:
		return fmt.Errorf("httpread: Config.DefaultLimit %d and MaxLimit %d: need 1 <= default <= max", c.DefaultLimit, c.MaxLimit)
	case c.ScanBudget < 1 || c.MaxStreams < 1 || c.Heartbeat <= 0 || c.WriteTimeout <= 0 || c.Timeout <= 0:
		return errors.New("httpread: Config.ScanBudget, MaxStreams, Heartbeat, WriteTimeout and Timeout must be positive")
	}
	for _, o := range c.Origins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			return fmt.Errorf("httpread: Config.Origins %q: an origin is scheme://host[:port] or *", o)
		}
	}
	return nil
}

// Handler serves the read API (and routes push to Config.Push).
type Handler struct {
	cfg     Config
	js      jetstream.JetStream
	log     *zap.Logger
	streams chan struct{}
	index   *index
	stats   *Stats
}

// New returns the handler. Start the uri index with Run.
func New(js jetstream.JetStream, cfg Config, log *zap.Logger) (*Handler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Handler{cfg: cfg, js: js, log: log, streams: make(chan struct{}, cfg.MaxStreams),
		index: newIndex(), stats: new(Stats)}, nil
}

// Run keeps the uri → latest story index of GET /v1/stories/{uri} until
// ctx ends. Lookups answer 503 until it has read the stream once.
func (h *Handler) Run(ctx context.Context) error { return h.index.run(ctx, h.js, h.cfg.Names, h.log) }

// Stats returns counters of the handler (for tests and metrics).
func (h *Handler) Stats() *Stats { return h.stats }

// apiError is every error answer's body.
type apiError struct {
	Error string `json:"error"`
	Param string `json:"param,omitempty"`
	// Killed is set on a 404 for a killed story.
	Killed bool   `json:"killed,omitempty"`
	URI    string `json:"uri,omitempty"`
}

func writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if len(b) >= gzipMin && acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		w.WriteHeader(code)
		gz := getGzip(w)
		_, _ = gz.Write(b)
		_ = gz.Close()
		putGzip(gz)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func fail(w http.ResponseWriter, r *http.Request, code int, param, msg string) {
	writeJSON(w, r, code, apiError{Error: msg, Param: param})
}

// ServeHTTP routes the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.cors(w, r) {
		return
	}
	p := r.URL.EscapedPath()
	switch {
	case p == "/v1/stories":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			if h.auth(w, r, false) {
				h.list(w, r)
			}
		case http.MethodPost:
			if h.cfg.Push == nil {
				h.notAllowed(w, r, "GET")
				return
			}
			h.cfg.Push.ServeHTTP(w, r)
		default:
			h.notAllowed(w, r, h.methods(p))
		}
	case strings.HasPrefix(p, "/v1/stories/"):
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.notAllowed(w, r, "GET")
			return
		}
		if h.auth(w, r, false) {
			h.one(w, r, strings.TrimPrefix(p, "/v1/stories/"))
		}
	case p == "/v1/stream":
		if r.Method != http.MethodGet {
			h.notAllowed(w, r, "GET")
			return
		}
		if h.auth(w, r, true) {
			h.stream(w, r)
		}
	case h.cfg.Fallback != nil:
		h.cfg.Fallback.ServeHTTP(w, r)
	default:
		fail(w, r, http.StatusNotFound, "", "not found: GET /v1/stories, GET /v1/stories/{uri}, GET /v1/stream"+map[bool]string{true: ", POST /v1/stories"}[h.cfg.Push != nil])
	}
}

func (h *Handler) methods(path string) string {
	if path == "/v1/stories" && h.cfg.Push != nil {
		return "GET, POST"
	}
	return "GET"
}

func (h *Handler) notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	fail(w, r, http.StatusMethodNotAllowed, "", fmt.Sprintf("method %s not allowed here: use %s", r.Method, allow))
}

// Authorize checks the bearer token of a read as the read API does,
// answering 401 itself when it is missing or wrong.
func (h *Handler) Authorize(w http.ResponseWriter, r *http.Request) bool { return h.auth(w, r, false) }

// Versions returns the output sequences of the versions of uri the index
// holds (at most 16, oldest first), and whether the index has read the
// stream once.
func (h *Handler) Versions(uri string) (seqs []uint64, ready bool) {
	return h.index.versions(uri), h.index.ready.Load()
}

// Copies returns the audit stream sequences of the dedupe decisions that
// link other stories to uri (at most 32, oldest first).
func (h *Handler) Copies(uri string) []uint64 { return h.index.copiesOf(uri) }

// auth checks the bearer token of a read. EventSource in browsers cannot
// set headers, so the event stream also takes ?access_token=.
func (h *Handler) auth(w http.ResponseWriter, r *http.Request, queryToken bool) bool {
	want := []string{h.cfg.ReadToken, h.cfg.PushToken}
	if h.cfg.ReadToken == "" && h.cfg.PushToken == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok && queryToken {
		got = r.URL.Query().Get("access_token")
	}
	for _, tok := range want {
		if tok != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1 {
			return true
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="wirestream"`)
	fail(w, r, http.StatusUnauthorized, "", "missing or wrong bearer token (Authorization: Bearer TOKEN)")
	return false
}

// cors sets the CORS headers of an allowed origin and answers preflight
// requests; it returns false when the request has been answered.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if origin == "" || len(h.cfg.Origins) == 0 {
		if preflight || r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET, HEAD, OPTIONS"+map[bool]string{true: ", POST"}[h.cfg.Push != nil])
			fail(w, r, http.StatusForbidden, "Origin", "CORS is not enabled for this origin (--http-cors-origins)")
			return false
		}
		return true
	}
	w.Header().Add("Vary", "Origin")
	if !slices.Contains(h.cfg.Origins, "*") && !slices.Contains(h.cfg.Origins, origin) {
		if preflight {
			fail(w, r, http.StatusForbidden, "Origin", fmt.Sprintf("origin %q is not allowed (--http-cors-origins)", origin))
			return false
		}
		return true // no CORS headers: the browser refuses the answer
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", "Content-Encoding, Retry-After")
	if preflight {
		m := r.Header.Get("Access-Control-Request-Method")
		if m != http.MethodGet && m != http.MethodHead && !(m == http.MethodPost && h.cfg.Push != nil) {
			fail(w, r, http.StatusForbidden, "Access-Control-Request-Method", fmt.Sprintf("method %q not allowed", m))
			return false
		}
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD"+map[bool]string{true: ", POST"}[h.cfg.Push != nil])
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding, Last-Event-ID")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}
