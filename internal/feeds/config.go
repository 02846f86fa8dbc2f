// Package feeds polls the feeds of a --feeds file and publishes every new or
// changed item to the raw history (ws.raw.<feed name>), where the ingest
// stage takes it as any other input. Each feed is polled by one process at a
// time (a lease in the JetStream KV bucket WS_FEEDS), its state (cursor,
// HTTP validators, the items already published) lives in the same bucket,
// so a restart or a takeover by another process resumes without publishing
// an item twice. docs/feeds.md describes formats, state, leases and the HTTP
// behaviour.
package feeds

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wirestream/wirestream/stages/ingest"
)

// ErrConfig is a --feeds file that cannot be used. The message names the
// feed and the field.
var ErrConfig = errors.New("feeds")

// Defaults of a feed's settings.
const (
	DefaultEvery   = 60 * time.Second
	DefaultTimeout = 30 * time.Second
	DefaultConnect = 10 * time.Second
	MinEvery       = 100 * time.Millisecond
)

// Feed is one feed of the file.
type Feed struct {
	Name   string // [a-z0-9-]+: the source name, ws.raw.<Name>
	URL    string
	Every  time.Duration // poll interval
	Format string        // one of ingest.FeedFormats
	// Headers are sent with every request of the feed, ${VAR} expanded from
	// the environment. They are never logged nor shown.
	Headers map[string]string
	// Rendition is the preferred rendition of cursor-json items (ninjs,
	// newsml, nitf); empty: ninjs, then newsml, then nitf.
	Rendition string
	// Timeout bounds a whole request (connect, headers, body); Connect the
	// connection alone.
	Timeout, Connect time.Duration
	// MaxBytes bounds one response, as sent and once inflated. Default
	// proto.Limits.BodyBytes (8 MiB).
	MaxBytes int64
	// Lease is how long a lease on the feed lasts unless renewed: when its
	// holder dies another process takes the feed over after at most Lease
	// plus Every. Default twice Every, at least 2 s.
	Lease time.Duration
	// MaxPages bounds the pages of a cursor feed followed in one poll.
	// Default 100.
	MaxPages int
}

// fileFeed is a feed as written in YAML.
type fileFeed struct {
	Name      string            `yaml:"name"`
	URL       string            `yaml:"url"`
	Every     string            `yaml:"every"`
	Format    string            `yaml:"format"`
	Headers   map[string]string `yaml:"headers"`
	Rendition string            `yaml:"rendition"`
	Timeout   string            `yaml:"timeout"`
	Connect   string            `yaml:"connect_timeout"`
	MaxBytes  int64             `yaml:"max_bytes"`
	Lease     string            `yaml:"lease"`
	MaxPages  int               `yaml:"max_pages"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// LoadFile reads and validates a --feeds file; getenv expands ${VAR} in
// headers (os.Getenv when nil). An error names the file, the feed and the
// field.
func LoadFile(path string, getenv func(string) string) ([]Feed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	feeds, err := Parse(b, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return feeds, nil
}

// Parse reads and validates the YAML of a --feeds file.
func Parse(b []byte, getenv func(string) string) ([]Feed, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var doc struct {
		Feeds []fileFeed `yaml:"feeds"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if len(doc.Feeds) == 0 {
		return nil, fmt.Errorf("%w: no feeds (the file needs a feeds: list)", ErrConfig)
	}
	var out []Feed
	seen := map[string]bool{}
	for i, ff := range doc.Feeds {
		f, err := ff.feed(getenv)
		if err != nil {
			who := fmt.Sprintf("feed %d", i+1)
			if ff.Name != "" {
				who = fmt.Sprintf("feed %q", ff.Name)
			}
			return nil, fmt.Errorf("%w: %s: %v", ErrConfig, who, err)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("%w: feed %q: name: listed twice", ErrConfig, f.Name)
		}
		seen[f.Name] = true
		out = append(out, f)
	}
	return out, nil
}

func duration(field, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration (30s, 5m, 1h)", field, v)
	}
	return d, nil
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func (ff fileFeed) feed(getenv func(string) string) (Feed, error) {
	f := Feed{Name: ff.Name, URL: strings.TrimSpace(ff.URL), Format: strings.TrimSpace(ff.Format),
		Rendition: ff.Rendition, MaxBytes: ff.MaxBytes, MaxPages: ff.MaxPages}
	var err error
	if f.Every, err = duration("every", ff.Every, DefaultEvery); err != nil {
		return f, err
	}
	if f.Timeout, err = duration("timeout", ff.Timeout, 0); err != nil {
		return f, err
	}
	if f.Connect, err = duration("connect_timeout", ff.Connect, 0); err != nil {
		return f, err
	}
	if f.Lease, err = duration("lease", ff.Lease, 0); err != nil {
		return f, err
	}
	if len(ff.Headers) > 0 {
		f.Headers = make(map[string]string, len(ff.Headers))
	}
	for k, v := range ff.Headers {
		var missing []string
		f.Headers[k] = varRE.ReplaceAllStringFunc(v, func(m string) string {
			name := m[2 : len(m)-1]
			val := getenv(name)
			if val == "" {
				missing = append(missing, name)
			}
			return val
		})
		if len(missing) > 0 {
			return f, fmt.Errorf("headers.%s: environment variable %s is not set", k, strings.Join(missing, ", "))
		}
	}
	f.setDefaults()
	return f, f.Validate()
}

func (f *Feed) setDefaults() {
	if f.Every == 0 {
		f.Every = DefaultEvery
	}
	if f.Format == "" {
		f.Format = ingest.FeedAuto
	}
	if f.Timeout == 0 {
		f.Timeout = DefaultTimeout
	}
	if f.Connect == 0 {
		f.Connect = min(DefaultConnect, f.Timeout)
	}
	if f.MaxBytes == 0 {
		f.MaxBytes = 8 << 20
	}
	if f.Lease == 0 {
		f.Lease = max(2*f.Every, 2*time.Second)
	}
	if f.MaxPages == 0 {
		f.MaxPages = 100
	}
}

// Validate reports what is wrong with a feed, naming the field (the caller
// names the feed).
func (f Feed) Validate() error {
	switch {
	case f.Name == "":
		return errors.New("name: missing")
	case !nameRE.MatchString(f.Name):
		return fmt.Errorf("name: %q must be lower-case letters, digits and '-' ([a-z0-9-]+)", f.Name)
	case f.URL == "":
		return errors.New("url: missing")
	}
	u, err := url.Parse(f.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: %q is not an http or https URL", redactURL(f.URL))
	}
	switch {
	case f.Every < MinEvery:
		return fmt.Errorf("every: %s is under the minimum of %s", f.Every, MinEvery)
	case !slices.Contains(ingest.FeedFormats, f.Format):
		return fmt.Errorf("format: %q is not one of %s", f.Format, strings.Join(ingest.FeedFormats, ", "))
	case f.Rendition != "" && f.Rendition != ingest.FormatNinjs && f.Rendition != ingest.FormatNewsML && f.Rendition != ingest.FormatNITF:
		return fmt.Errorf("rendition: %q is not ninjs, newsml or nitf", f.Rendition)
	case f.Timeout < 0 || f.Connect < 0:
		return errors.New("timeout: negative")
	case f.MaxBytes < 1024:
		return fmt.Errorf("max_bytes: %d is under 1024", f.MaxBytes)
	case f.Lease <= f.Every:
		return fmt.Errorf("lease: %s must be longer than every (%s): the holder renews it once an interval", f.Lease, f.Every)
	case f.MaxPages < 1:
		return fmt.Errorf("max_pages: %d must be at least 1", f.MaxPages)
	}
	for k, v := range f.Headers {
		if !validHeaderName(k) {
			return fmt.Errorf("headers: %q is not a valid header name", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("headers.%s: the value has a line break or NUL", k)
		}
		if http.CanonicalHeaderKey(k) == "Host" {
			return fmt.Errorf("headers.%s: cannot be set", k)
		}
	}
	return nil
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// redactURL drops a URL's user information (a password in it is a secret).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}
