package httpread

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/pipeline"
)

const gzipMin = 1024

var gzPool sync.Pool

func getGzip(w http.ResponseWriter) *gzip.Writer {
	if gz, ok := gzPool.Get().(*gzip.Writer); ok {
		gz.Reset(w)
		return gz
	}
	gz, _ := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	return gz
}

func putGzip(gz *gzip.Writer) { gzPool.Put(gz) }

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// badParam is a query problem: 400 naming the parameter.
type badParam struct{ param, msg string }

func (e *badParam) Error() string { return e.param + ": " + e.msg }

// query is a parsed query string of the read endpoints.
type query struct {
	filter       pipeline.Filter
	since, until time.Time
	limit        int
	cursor       uint64 // exclusive upper sequence; 0: from the newest
	after        uint64 // stream: resume after this sequence
	fromStart    bool
	format       string // proto.Render format; "" is ninjs1
}

var filterParams = []string{"region", "topic", "urgency", "language", "status", "format"}

// parseQuery reads r's query; allowed lists the parameters beyond the filter.
func (h *Handler) parseQuery(r *http.Request, allowed ...string) (query, error) {
	var q query
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return q, &badParam{"query", "malformed query string: " + err.Error()}
	}
	ok := map[string]bool{"access_token": true}
	for _, p := range append(filterParams, allowed...) {
		ok[p] = true
	}
	for k, v := range vals {
		if !ok[k] {
			return q, &badParam{k, fmt.Sprintf("unknown parameter; use %s", strings.Join(append(filterParams, allowed...), ", "))}
		}
		if len(v) > 1 && (k != "region" && k != "topic" && k != "language" && k != "status") {
			return q, &badParam{k, "given more than once"}
		}
	}
	spec := outfilter.Spec{Regions: outfilter.SplitList(vals["region"]...), Topics: outfilter.SplitList(vals["topic"]...),
		Urgency: vals.Get("urgency"), Languages: outfilter.SplitList(vals["language"]...), Statuses: outfilter.SplitList(vals["status"]...)}
	if len(spec.Regions)+len(spec.Topics)+len(spec.Languages)+len(spec.Statuses) > 64 {
		return q, &badParam{"query", "more than 64 filter values"}
	}
	q.filter, err = outfilter.Parse(h.cfg.Data, h.cfg.Names, spec)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), outfilter.ErrFilter.Error()+": ")
		param, _, _ := strings.Cut(msg, ":")
		param, _, _ = strings.Cut(param, " ")
		return q, &badParam{param, msg}
	}
	q.format = vals.Get("format")
	if err := outfilter.CheckFormat(q.format); err != nil {
		return q, &badParam{"format", strings.TrimPrefix(err.Error(), outfilter.ErrFilter.Error()+": ")}
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &q.since}, {"until", &q.until}} {
		if v := vals.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return q, &badParam{p.name, fmt.Sprintf("%q is not an RFC 3339 time (2024-04-02T08:00:00Z)", v)}
			}
			*p.t = t
		}
	}
	if !q.since.IsZero() && !q.until.IsZero() && q.until.Before(q.since) {
		return q, &badParam{"until", "is before since"}
	}
	q.limit = h.cfg.DefaultLimit
	if v := vals.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > h.cfg.MaxLimit {
			return q, &badParam{"limit", fmt.Sprintf("%q: a number from 1 to %d", v, h.cfg.MaxLimit)}
		}
		q.limit = n
	}
	if v := vals.Get("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 1 {
			return q, &badParam{"cursor", fmt.Sprintf("%q: use the next value of a previous page", v)}
		}
		q.cursor = n
	}
	if v := vals.Get("from"); v != "" {
		if v != "start" {
			return q, &badParam{"from", fmt.Sprintf("%q: only from=start (or Last-Event-ID, or since=)", v)}
		}
		q.fromStart = true
	}
	last := r.Header.Get("Last-Event-ID")
	if v := vals.Get("last_event_id"); v != "" && last == "" {
		last = v
	}
	if last != "" && ok["last_event_id"] {
		n, err := strconv.ParseUint(strings.TrimSpace(last), 10, 64)
		if err != nil {
			return q, &badParam{"Last-Event-ID", fmt.Sprintf("%q: the id: of an event this stream sent", last)}
		}
		q.after = n
	}
	return q, nil
}

func (h *Handler) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	if bp, ok := err.(*badParam); ok {
		fail(w, r, http.StatusBadRequest, bp.param, bp.Error())
		return
	}
	fail(w, r, http.StatusBadRequest, "", err.Error())
}
