// Package desk is the wire desk: web pages served at / on the --http
// listener, for an editor who watches the enriched flow (the live list,
// filters, a story with its explanation, versions and copies, a world map)
// and an operator who watches the pipeline (stages, lag, dead letters,
// feeds, webhooks, streams). The pages are static files embedded in the
// binary and read the HTTP read API (internal/httpread) and a few JSON
// endpoints of this package, all behind the read token:
//
//	GET /v1/desk/areas              countries, M49 regions and topics, for pickers and the map
//	GET /v1/desk/story?uri=URI      a story's versions with what changed, its explanation, its copies
//	GET /v1/desk/pipeline           the operator's figures
//	GET /v1/desk/resolve?region=|topic=  what a user typed, as a code (the CLI's rules)
package desk

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/webhooks"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

//go:embed static
var static embed.FS

// Reader is what the desk needs of the read API (an *httpread.Handler).
type Reader interface {
	Authorize(w http.ResponseWriter, r *http.Request) bool
	Versions(uri string) (seqs []uint64, ready bool)
	Copies(uri string) []uint64
}

// Config configures the desk.
type Config struct {
	Names proto.Names
	Data  *wiring.Data // gazetteer and taxonomy (required)
	Read  Reader       // the read API handler (required)
	// Gatherer, when set, gives the handler latencies of the stages this
	// process runs (the Prometheus registry of --metrics).
	Gatherer prometheus.Gatherer
	// Hooks are the webhooks this process was started with (their state is
	// shown for every webhook consumer anyway).
	Hooks []webhooks.Hook
	// Timeout bounds the JetStream work of one request (default 10 s).
	Timeout time.Duration
}

// Handler serves the desk.
type Handler struct {
	cfg    Config
	js     jetstream.JetStream
	log    *zap.Logger
	files  http.Handler
	assets fs.FS
}

// New returns the desk handler.
func New(js jetstream.JetStream, cfg Config, log *zap.Logger) (*Handler, error) {
	if cfg.Data == nil || cfg.Read == nil || cfg.Names.Prefix == "" {
		return nil, errors.New("desk: Config.Data, Read and Names are required")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if log == nil {
		log = zap.NewNop()
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	return &Handler{cfg: cfg, js: js, log: log, assets: sub, files: http.FileServerFS(sub)}, nil
}

// ServeHTTP routes the desk's paths; anything else is a JSON 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/v1/desk/") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method " + r.Method + " not allowed here: use GET"})
			return
		}
		if !h.cfg.Read.Authorize(w, r) {
			return
		}
		switch p {
		case "/v1/desk/areas":
			h.areas(w, r)
		case "/v1/desk/story":
			h.story(w, r)
		case "/v1/desk/pipeline":
			h.pipeline(w, r)
		case "/v1/desk/resolve":
			h.resolve(w, r)
		default:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found: GET /v1/desk/areas, /v1/desk/story?uri=, /v1/desk/pipeline"})
		}
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch {
	case p == "/" || p == "/pipeline" || p == "/story":
		// The pages hold no data: they ask for the token and fetch with it.
		page := map[string]string{"/": "index.html", "/pipeline": "pipeline.html", "/story": "index.html"}[p]
		b, err := fs.ReadFile(h.assets, page)
		if err != nil {
			http.Error(w, "page missing from the build", http.StatusInternalServerError)
			return
		}
		h.secure(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	case strings.HasPrefix(p, "/static/"):
		h.secure(w)
		w.Header().Set("Cache-Control", "public, max-age=300")
		r2 := r.Clone(r.Context())
		r2.URL = &url.URL{Path: strings.TrimPrefix(p, "/static")}
		h.files.ServeHTTP(w, r2)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found: the desk is at /, the pipeline page at /pipeline, the API under /v1/"})
	}
}

// secure sets the headers every page and asset gets: nothing is loaded
// from elsewhere, nothing embeds the pages.
func (h *Handler) secure(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func (h *Handler) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), h.cfg.Timeout)
}

type area struct {
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Numeric string   `json:"numeric,omitempty"`
	Within  []string `json:"within,omitempty"`
}

type topicInfo struct {
	Code   string `json:"code"`
	Label  string `json:"label"`
	Parent string `json:"parent,omitempty"`
}

func (h *Handler) areas(w http.ResponseWriter, _ *http.Request) {
	t, err := h.cfg.Data.Tagger()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	var out struct {
		Areas  []area      `json:"areas"`
		Topics []topicInfo `json:"topics"`
	}
	for _, a := range t.Areas() {
		out.Areas = append(out.Areas, area{Code: a.Code, Name: a.Name, Kind: a.Kind, Numeric: a.Numeric, Within: a.Within})
	}
	for _, tp := range t.Topics() {
		out.Topics = append(out.Topics, topicInfo{Code: tp.Code, Label: tp.Label, Parent: tp.Parent})
	}
	w.Header().Set("Cache-Control", "private, max-age=3600")
	writeJSON(w, http.StatusOK, out)
}

// resolve turns what a user typed for a region or a topic into its code,
// with the rules of tail and the read API ("Central Asia", "UZ", "143";
// "politics", "medtop:11000000").
func (h *Handler) resolve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var subj, name string
	var err error
	var code string
	switch {
	case q.Has("region"):
		subj, name, err = h.cfg.Data.RegionSubject(h.cfg.Names, q.Get("region"))
		code = strings.TrimPrefix(subj, h.cfg.Names.Region(""))
	case q.Has("topic"):
		subj, name, err = h.cfg.Data.TopicSubject(h.cfg.Names, q.Get("topic"))
		code = proto.SchemeMedTop + ":" + strings.TrimPrefix(subj, h.cfg.Names.Topic(""))
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "give region= or topic="})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"code": code, "name": name})
}
