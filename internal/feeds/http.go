package feeds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wirestream/wirestream/internal/buildinfo"
	"github.com/wirestream/wirestream/internal/input"
)

// Kinds of poll errors (the kind label of wirestream_feed_errors_total and
// the error kind of a feed's state).
const (
	KindNetwork   = "network"   // cannot connect, connection reset
	KindTimeout   = "timeout"   // connect or whole-request timeout
	KindHTTP4xx   = "http_4xx"  // the feed answers a client error (not 429)
	KindThrottled = "http_429"  // Too Many Requests
	KindHTTP5xx   = "http_5xx"  // the feed's server fails
	KindTooLarge  = "too_large" // a response over max_bytes, as sent or inflated
	KindRedirect  = "redirect"  // too many redirects, or a loop
	KindParse     = "parse"     // the page cannot be read as its format
	KindRendition = "rendition" // a cursor item's rendition could not be fetched
	KindPublish   = "publish"   // JetStream refused or did not acknowledge
	KindState     = "state"     // the feed state in KV could not be read or written
)

// MaxRedirects bounds the redirects followed for one request.
const MaxRedirects = 10

// FetchError is a failed request: its kind, the status and what the server
// asked (Retry-After).
type FetchError struct {
	Kind       string
	Status     int
	RetryAfter time.Duration // 0: none given
	Err        error
}

func (e *FetchError) Error() string { return e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// Transient reports whether trying later may help: network trouble,
// timeouts, 429 and 5xx. A response too large, a redirect loop or a 4xx
// stays as it is until the feed changes.
func (e *FetchError) Transient() bool {
	switch e.Kind {
	case KindNetwork, KindTimeout, KindThrottled, KindHTTP5xx:
		return true
	}
	return false
}

// userAgent names wirestream and its version.
func userAgent() string {
	v := strings.Trim(buildinfo.Read().Version, "()")
	return "wirestream/" + v + " (feed poller)"
}

// fetcher makes a feed's requests.
type fetcher struct {
	client  *http.Client
	feed    Feed
	ua      string
	maxBody int64
}

type response struct {
	status       int
	body         []byte
	etag         string
	lastModified string
	contentType  string
	url          *url.URL // after redirects
}

func newFetcher(f Feed) *fetcher {
	dialer := &net.Dialer{Timeout: f.Connect, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   f.Connect,
		ResponseHeaderTimeout: f.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // gzip asked for and inflated here, bounded
	}
	origin, _ := url.Parse(f.URL)
	c := &http.Client{
		Transport: tr,
		Timeout:   f.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= MaxRedirects {
				return fmt.Errorf("%w: stopped after %d redirects", errRedirect, MaxRedirects)
			}
			for _, v := range via {
				if v.URL.String() == req.URL.String() {
					return fmt.Errorf("%w: redirect loop back to %s", errRedirect, req.URL.Redacted())
				}
			}
			// The feed's headers (API keys) go to the feed's host only.
			if origin != nil && req.URL.Host != origin.Host {
				for k := range f.Headers {
					req.Header.Del(k)
				}
			}
			return nil
		},
	}
	return &fetcher{client: c, feed: f, ua: userAgent(), maxBody: f.MaxBytes}
}

var errRedirect = errors.New("redirect")

// get fetches u with the feed's headers and, when given, the validators of
// the last answer. A 304 comes back as a response with status 304 and no
// body; any other status than 2xx is a *FetchError.
func (ft *fetcher) get(ctx context.Context, u, etag, lastModified string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &FetchError{Kind: KindHTTP4xx, Err: fmt.Errorf("request %s: %v", redactURL(u), err)}
	}
	for k, v := range ft.feed.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", ft.ua)
	req.Header.Set("Accept-Encoding", "gzip")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	resp, err := ft.client.Do(req)
	if err != nil {
		return nil, classify(u, err)
	}
	defer resp.Body.Close()
	r := &response{status: resp.StatusCode, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"),
		contentType: resp.Header.Get("Content-Type"), url: resp.Request.URL}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return r, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		kind := KindHTTP5xx
		if resp.StatusCode == http.StatusTooManyRequests {
			kind = KindThrottled
		}
		return nil, &FetchError{Kind: kind, Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Err: fmt.Errorf("GET %s: HTTP %s", redactURL(u), resp.Status)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, &FetchError{Kind: KindHTTP4xx, Status: resp.StatusCode, Err: fmt.Errorf("GET %s: HTTP %s", redactURL(u), resp.Status)}
	}
	if resp.ContentLength > ft.maxBody {
		return nil, &FetchError{Kind: KindTooLarge, Status: resp.StatusCode,
			Err: fmt.Errorf("GET %s: response of %d bytes, over %d bytes (max_bytes)", redactURL(u), resp.ContentLength, ft.maxBody)}
	}
	var body io.Reader = io.LimitReader(resp.Body, ft.maxBody+1)
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if enc != "" && enc != input.Identity {
		dec, err := input.Decode(body, enc, ft.maxBody)
		if err != nil {
			return nil, &FetchError{Kind: KindParse, Status: resp.StatusCode, Err: fmt.Errorf("GET %s: %v", redactURL(u), err)}
		}
		defer dec.Close()
		body = dec
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(body)
	switch {
	case errors.Is(err, input.ErrInflated) || buf.Len() > int(ft.maxBody):
		return nil, &FetchError{Kind: KindTooLarge, Status: resp.StatusCode,
			Err: fmt.Errorf("GET %s: response over %d bytes (max_bytes)", redactURL(u), ft.maxBody)}
	case errors.Is(err, input.ErrCorrupt):
		return nil, &FetchError{Kind: KindParse, Status: resp.StatusCode, Err: fmt.Errorf("GET %s: %v", redactURL(u), err)}
	case err != nil:
		return nil, classify(u, err)
	}
	r.body = buf.Bytes()
	return r, nil
}

func classify(u string, err error) *FetchError {
	if ue, ok := err.(*url.Error); ok && !errors.Is(err, errRedirect) {
		err = ue.Err // its message repeats the method and URL
	}
	var ne net.Error
	switch {
	case errors.Is(err, errRedirect):
		return &FetchError{Kind: KindRedirect, Err: fmt.Errorf("GET %s: %v", redactURL(u), errors.Unwrap(err))}
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return &FetchError{Kind: KindTimeout, Err: fmt.Errorf("GET %s: timed out: %v", redactURL(u), err)}
	}
	return &FetchError{Kind: KindNetwork, Err: fmt.Errorf("GET %s: %v", redactURL(u), err)}
}

// retryAfter reads Retry-After (seconds or an HTTP date), capped at an hour.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}
