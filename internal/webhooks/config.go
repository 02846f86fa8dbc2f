// Package webhooks delivers enriched stories to HTTP endpoints
// (`wirestream run --webhooks FILE`). Each webhook is a JetStream durable
// consumer on the output stream (ws.out.all) with one story in flight
// (MaxAckPending 1): stories are posted in output order, a failed or timed
// out post is retried with backoff (the story stays unacknowledged, in the
// server, so a restart or a receiver down for an hour loses nothing), and
// after MaxAttempts the story goes to the dead-letter stream with the last
// status. Processes that run the same webhooks share the consumer, so one
// post is in flight per webhook whichever process makes it; a story is
// acknowledged only after the receiver answered 2xx.
package webhooks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("webhooks")

// Defaults of a hook.
const (
	DefaultMaxAttempts = 24 // with the default backoff, about 80 minutes of retries
	DefaultTimeout     = 10 * time.Second
	DefaultBackoffMin  = time.Second
	DefaultBackoffMax  = 5 * time.Minute
	maxHooks           = 256
	maxFileBytes       = 1 << 20
)

// Secret is a webhook secret: it prints as "[redacted]" so that it is never
// logged by accident.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Hook is one webhook as configured.
type Hook struct {
	Name string
	URL  string
	// Filter is what the hook receives; the zero Filter matches everything.
	Filter pipeline.Filter
	Secret Secret
	// MaxAttempts is how many posts a story gets before it is
	// dead-lettered (default 24).
	MaxAttempts int
	// Timeout bounds one post, answer included (default 10 s).
	Timeout time.Duration
	// BackoffMin, BackoffMax: the wait after the first failed post, doubled
	// at each failure up to BackoffMax (defaults 1 s and 5 min).
	BackoffMin, BackoffMax time.Duration
	// Format is the body's format (proto.Render; "" is ninjs1).
	Format string
	// GiveUpOn is the HTTP statuses after which a story is dead-lettered at
	// once instead of retried: answers that say posting the same body
	// again cannot succeed (default 410 Gone and 413 Content Too Large).
	GiveUpOn []int
}

// DefaultGiveUpOn is the default Hook.GiveUpOn.
var DefaultGiveUpOn = []int{410, 413}

// Consumer is the durable consumer name of the hook.
func (h Hook) Consumer() string { return ConsumerPrefix + h.Name }

// ConsumerPrefix starts the durable consumer name of every webhook.
const ConsumerPrefix = "ws-hook-"

// DLQSubject is where the hook's dead letters go.
func (h Hook) DLQSubject(n proto.Names) string { return n.DLQ("webhook-" + h.Name) }

// strList reads a YAML scalar (comma-separated values allowed) or sequence.
type strList []string

func (l *strList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = strList{n.Value}
		return nil
	case yaml.SequenceNode:
		var v []string
		if err := n.Decode(&v); err != nil {
			return err
		}
		*l = v
		return nil
	}
	return fmt.Errorf("line %d: a value or a list of values", n.Line)
}

type fileHook struct {
	Name        string  `yaml:"name"`
	URL         string  `yaml:"url"`
	Region      strList `yaml:"region"`
	Topic       strList `yaml:"topic"`
	Urgency     *int    `yaml:"urgency"`
	Language    strList `yaml:"language"`
	Status      strList `yaml:"status"`
	Secret      string  `yaml:"secret"`
	MaxAttempts int     `yaml:"max_attempts"`
	Timeout     string  `yaml:"timeout"`
	BackoffMin  string  `yaml:"backoff_min"`
	BackoffMax  string  `yaml:"backoff_max"`
	Format      string  `yaml:"format"`
	GiveUpOn    *[]int  `yaml:"give_up_on"`
}

type file struct {
	Webhooks []fileHook `yaml:"webhooks"`
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expand replaces ${VAR} with the environment's value; a VAR that is not
// set is an error naming it (never the value).
func expand(s string, getenv func(string) (string, bool)) (string, error) {
	var missing []string
	out := envRef.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := getenv(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

// Load reads a webhooks file; getenv (nil: os.LookupEnv) expands ${VAR}.
func Load(path string, data *wiring.Data, n proto.Names, getenv func(string) (string, bool)) ([]Hook, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("%w: %s: over %d bytes", ErrConfig, path, maxFileBytes)
	}
	hooks, err := Parse(b, data, n, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return hooks, nil
}

// Parse reads the YAML of a webhooks file, expands ${VAR} in its values
// with getenv and validates every hook. Errors name the hook and field.
func Parse(b []byte, data *wiring.Data, n proto.Names, getenv func(string) (string, bool)) ([]Hook, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty file: want a webhooks: list", ErrConfig)
		}
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if len(f.Webhooks) == 0 {
		return nil, fmt.Errorf("%w: no webhooks: list (or an empty one)", ErrConfig)
	}
	if len(f.Webhooks) > maxHooks {
		return nil, fmt.Errorf("%w: %d webhooks, at most %d", ErrConfig, len(f.Webhooks), maxHooks)
	}
	seen := map[string]bool{}
	var hooks []Hook
	for i, fh := range f.Webhooks {
		h, err := fh.hook(data, n, getenv)
		label := fh.Name
		if label == "" {
			label = fmt.Sprintf("#%d", i+1)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: webhook %s: %v", ErrConfig, label, err)
		}
		key := strings.ToLower(h.Name)
		if seen[key] {
			return nil, fmt.Errorf("%w: webhook %s: name: used twice", ErrConfig, label)
		}
		seen[key] = true
		hooks = append(hooks, h)
	}
	return hooks, nil
}

func (fh fileHook) hook(data *wiring.Data, n proto.Names, getenv func(string) (string, bool)) (Hook, error) {
	var h Hook
	var err error
	ex := func(field string, v *string) error {
		if *v, err = expand(*v, getenv); err != nil {
			return fmt.Errorf("%s: %v", field, err)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", &fh.Name}, {"url", &fh.URL}, {"secret", &fh.Secret}, {"timeout", &fh.Timeout}, {"backoff_min", &fh.BackoffMin}, {"backoff_max", &fh.BackoffMax}} {
		if err := ex(f.name, f.v); err != nil {
			return h, err
		}
	}
	for _, l := range []*strList{&fh.Region, &fh.Topic, &fh.Language, &fh.Status} {
		for i := range *l {
			if err := ex("filter", &(*l)[i]); err != nil {
				return h, err
			}
		}
	}
	h.Name = fh.Name
	if h.Name == "" {
		return h, errors.New("name: required")
	}
	if proto.Token(h.Name) != h.Name || len(h.Name) > 64 {
		return h, fmt.Errorf("name %q: letters, digits, '-' and '_' only, at most 64", h.Name)
	}
	u, err := url.Parse(fh.URL)
	if fh.URL == "" {
		return h, errors.New("url: required")
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return h, errors.New("url: an absolute http:// or https:// URL")
	}
	if u.User != nil {
		return h, errors.New("url: credentials in the URL would be logged: use secret (and the signature) instead")
	}
	h.URL = fh.URL
	if fh.Secret == "" {
		return h, errors.New("secret: required (it signs every delivery); use \"${VAR}\" to read it from the environment")
	}
	h.Secret = Secret(fh.Secret)
	spec := outfilter.Spec{Regions: outfilter.SplitList(fh.Region...), Topics: outfilter.SplitList(fh.Topic...),
		Languages: outfilter.SplitList(fh.Language...), Statuses: outfilter.SplitList(fh.Status...)}
	if fh.Urgency != nil {
		spec.Urgency = fmt.Sprint(*fh.Urgency)
	}
	if h.Filter, err = outfilter.Parse(data, n, spec); err != nil {
		return h, errors.New(strings.TrimPrefix(err.Error(), outfilter.ErrFilter.Error()+": "))
	}
	h.MaxAttempts = fh.MaxAttempts
	if h.MaxAttempts == 0 {
		h.MaxAttempts = DefaultMaxAttempts
	}
	if h.MaxAttempts < 1 || h.MaxAttempts > 10000 {
		return h, fmt.Errorf("max_attempts %d: from 1 to 10000", h.MaxAttempts)
	}
	for _, d := range []struct {
		field string
		in    string
		out   *time.Duration
		def   time.Duration
	}{{"timeout", fh.Timeout, &h.Timeout, DefaultTimeout}, {"backoff_min", fh.BackoffMin, &h.BackoffMin, DefaultBackoffMin}, {"backoff_max", fh.BackoffMax, &h.BackoffMax, DefaultBackoffMax}} {
		*d.out = d.def
		if d.in == "" {
			continue
		}
		v, err := time.ParseDuration(d.in)
		if err != nil || v <= 0 || v > 24*time.Hour {
			return h, fmt.Errorf("%s %q: a duration such as 10s or 5m, at most 24h", d.field, d.in)
		}
		*d.out = v
	}
	if err := outfilter.CheckFormat(fh.Format); err != nil {
		return h, errors.New(strings.TrimPrefix(err.Error(), outfilter.ErrFilter.Error()+": "))
	}
	h.Format = fh.Format
	h.GiveUpOn = DefaultGiveUpOn
	if fh.GiveUpOn != nil {
		h.GiveUpOn = *fh.GiveUpOn
		for _, c := range h.GiveUpOn {
			if c < 400 || c > 599 || c == 408 || c == 429 {
				return h, fmt.Errorf("give_up_on %d: a 4xx or 5xx status other than 408 and 429 (those ask for a retry)", c)
			}
		}
	}
	if h.BackoffMax < h.BackoffMin {
		return h, fmt.Errorf("backoff_max %s is under backoff_min %s", h.BackoffMax, h.BackoffMin)
	}
	return h, nil
}
