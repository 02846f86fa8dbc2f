package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// Config configures the pollers of one process.
type Config struct {
	Feeds []Feed
	// Names is the namespace whose raw history receives the items
	// (proto.Live()).
	Names proto.Names
	// Reader is the raw history's reader (wiring.RawReader), so a full
	// history refuses items rather than drop unread ones.
	Reader string
	// Holder names this process in leases and state. Default
	// host:pid:random.
	Holder string
	// Replicas of the WS_FEEDS bucket. Default 1.
	Replicas int
	// Limits: StoryBytes bounds one item's record (larger ones are
	// published cut to StoryBytes+1, so ingest rejects them as too large
	// with the feed and item named). Zero fields take proto.DefaultLimits.
	Limits proto.Limits
	// SeenCap bounds the remembered item versions beyond the latest poll's.
	// Default DefaultSeenCap.
	SeenCap int
	// Registry receives the per-feed metrics; nil: none registered.
	Registry prometheus.Registerer
}

// Engine runs one poller per feed.
type Engine struct {
	cfg Config
	js  jetstream.JetStream
	kv  jetstream.KeyValue
	log *zap.Logger
	m   *metrics
}

// DefaultHolder names this process: host, pid and a random suffix.
func DefaultHolder() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s:%d:%04x", h, os.Getpid(), rand.IntN(1<<16))
}

// New checks cfg and opens (or creates) the feeds bucket.
func New(ctx context.Context, js jetstream.JetStream, cfg Config, log *zap.Logger) (*Engine, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.Holder == "" {
		cfg.Holder = DefaultHolder()
	}
	if cfg.SeenCap == 0 {
		cfg.SeenCap = DefaultSeenCap
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	if cfg.Names.Prefix == "" {
		cfg.Names = proto.Live()
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	seen := map[string]bool{}
	for i := range cfg.Feeds {
		f := &cfg.Feeds[i]
		f.setDefaults()
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("%w: feed %q: %v", ErrConfig, f.Name, err)
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("%w: feed %q: name: listed twice", ErrConfig, f.Name)
		}
		seen[f.Name] = true
	}
	kv, err := EnsureBucket(ctx, js, cfg.Replicas)
	if err != nil {
		return nil, err
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	return &Engine{cfg: cfg, js: js, kv: kv, log: log, m: newMetrics(reg)}, nil
}

// Holder is the name this process takes leases under.
func (e *Engine) Holder() string { return e.cfg.Holder }

// Run polls every feed until ctx ends, then gives up the leases it holds
// (so another process takes over at once) and returns.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, f := range e.cfg.Feeds {
		p, err := e.newPoller(f)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx)
		}()
	}
	e.log.Info("polling feeds", zap.Int("feeds", len(e.cfg.Feeds)), zap.String("holder", e.cfg.Holder))
	wg.Wait()
	return nil
}

type poller struct {
	e     *Engine
	f     Feed
	ft    *fetcher
	pub   *pipeline.RawPublisher
	log   *zap.Logger
	lease *lease
	mu    sync.Mutex // lease: renewed by the poll's renewer
}

func (e *Engine) newPoller(f Feed) (*poller, error) {
	pub, err := pipeline.NewRawPublisher(e.js, pipeline.RawPublisherConfig{Names: e.cfg.Names, Reader: e.cfg.Reader, Window: 256})
	if err != nil {
		return nil, err
	}
	return &poller{e: e, f: f, ft: newFetcher(f), pub: pub, log: e.log.With(zap.String("feed", f.Name)),
		lease: &lease{kv: e.kv, feed: f.Name, holder: e.cfg.Holder, ttl: f.Lease}}, nil
}

// jitter spreads d by ±10%.
func jitter(d time.Duration) time.Duration {
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}

func (p *poller) loop(ctx context.Context) {
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		p.mu.Lock()
		p.lease.release(rctx)
		p.mu.Unlock()
		cancel()
		p.e.m.held.WithLabelValues(p.f.Name, p.e.cfg.Holder).Set(0)
	}()
	// The first attempt soon, spread so that N processes do not race at
	// the same instant.
	wait := time.Duration(rand.Int64N(int64(p.f.Every/10) + 1))
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = jitter(p.f.Every)
		p.mu.Lock()
		held, err := p.lease.acquire(ctx)
		p.mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.e.m.errors.WithLabelValues(p.f.Name, KindState).Inc()
			p.log.Warn("feed lease", zap.Error(err))
			continue
		}
		p.e.m.held.WithLabelValues(p.f.Name, p.e.cfg.Holder).Set(b2f(held))
		if !held {
			continue
		}
		if d := p.pollOnce(ctx); d > 0 && d < wait {
			wait = d
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// pollOnce polls the feed as its holder; it returns how soon the next poll
// may come when that is sooner than an interval (a backoff ending), else 0.
func (p *poller) pollOnce(ctx context.Context) time.Duration {
	st, rev, err := loadState(ctx, p.e.kv, p.f.Name)
	if err != nil {
		p.e.m.errors.WithLabelValues(p.f.Name, KindState).Inc()
		p.log.Warn("feed state", zap.Error(err))
		return 0
	}
	now := time.Now()
	if now.Before(st.NotBefore) {
		return st.NotBefore.Sub(now)
	}
	// Keep the lease while the poll runs; stop the poll when it is lost.
	pctx, cancel := context.WithCancel(ctx)
	var lost atomic.Bool
	renewDone := make(chan struct{})
	go func() {
		defer close(renewDone)
		tick := time.NewTicker(p.f.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
			p.mu.Lock()
			held, err := p.lease.acquire(pctx)
			p.mu.Unlock()
			if !held && pctx.Err() == nil {
				p.log.Warn("feed lease lost during a poll: stopping it", zap.Error(err))
				lost.Store(true)
				cancel()
				return
			}
		}
	}()
	save := func(s *State) error {
		s.Holder = p.e.cfg.Holder
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		nrev, err := saveState(sctx, p.e.kv, s, rev)
		if err != nil {
			return err
		}
		rev = nrev
		return nil
	}
	res, perr := p.poll(pctx, st, save)
	cancel()
	<-renewDone

	st.Polls++
	st.LastPoll = now
	var next time.Duration
	var fe *FetchError
	switch {
	case perr == nil:
		st.LastSuccess, st.Error, st.ErrorKind, st.Failures, st.NotBefore = now, "", "", 0, time.Time{}
		p.e.m.lastSuccess.WithLabelValues(p.f.Name).Set(float64(now.UnixNano()) / 1e9)
		result := "ok"
		if res.notModified {
			result = "not_modified"
		}
		p.e.m.polls.WithLabelValues(p.f.Name, result).Inc()
		if res.published > 0 {
			p.log.Info("feed polled", zap.Int("published", res.published), zap.Int("items", res.listed), zap.Int("pages", res.pages))
		} else {
			p.log.Debug("feed polled", zap.Int("items", res.listed), zap.Bool("not_modified", res.notModified))
		}
	case errors.Is(perr, errStateMoved) || lost.Load():
		// Another process holds the feed now: the state is not ours to write.
		p.e.m.polls.WithLabelValues(p.f.Name, "error").Inc()
		p.log.Info("feed poll stopped: another process holds the feed", zap.Error(perr))
		return 0
	case ctx.Err() != nil:
		// Stopping mid-poll: keep what was stored (seen, cursor), no error.
		st.Polls--
		if err := save(st); err != nil {
			p.log.Warn("feed state not saved at shutdown", zap.Error(err))
		}
		return 0
	default:
		kind := KindNetwork
		transient := true
		switch {
		case errors.As(perr, &fe):
			kind, transient = fe.Kind, fe.Transient()
		case errors.Is(perr, errPublish):
			kind = KindPublish
		}
		st.Error, st.ErrorKind = proto.Printable(perr.Error()), kind
		p.e.m.polls.WithLabelValues(p.f.Name, "error").Inc()
		p.e.m.errors.WithLabelValues(p.f.Name, kind).Inc()
		if transient {
			st.Failures++
			next = backoff(p.f.Every, st.Failures)
			if fe != nil && fe.RetryAfter > next {
				next = fe.RetryAfter
			}
			st.NotBefore = now.Add(next)
		}
		p.log.Warn("feed poll failed", zap.String("kind", kind), zap.Int("failures", st.Failures),
			zap.Duration("next_poll_in", max(next, p.f.Every)), zap.Error(perr))
	}
	if err := save(st); err != nil {
		p.e.m.errors.WithLabelValues(p.f.Name, KindState).Inc()
		p.log.Warn("feed state not saved", zap.Error(err))
	}
	return next
}

// backoff is the delay after n transient failures in a row: every × 2^(n-1)
// with full jitter over its upper half, at most 32 intervals or an hour.
func backoff(every time.Duration, n int) time.Duration {
	d := every << min(n-1, 5)
	d = min(d, time.Hour)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

var errPublish = errors.New("publish")

type pollResult struct {
	notModified bool
	listed      int // items on the pages
	published   int // items newly stored
	pages       int
}

// poll fetches the feed (every page of a cursor feed up to MaxPages),
// publishes the items not yet published and records them in st, saving st
// after each cursor page.
func (p *poller) poll(ctx context.Context, st *State, save func(*State) error) (pollResult, error) {
	var res pollResult
	seen := make(map[string]bool, len(st.Seen))
	for _, k := range st.Seen {
		seen[k] = true
	}
	var current []string // keys of the versions listed in this poll, published
	listed := map[string]bool{}
	merge := func() {
		out := make([]string, 0, min(len(current)+len(st.Seen), p.e.cfg.SeenCap))
		for _, k := range current {
			if len(out) < p.e.cfg.SeenCap {
				out = append(out, k)
			}
		}
		for _, k := range st.Seen {
			if len(out) >= p.e.cfg.SeenCap {
				break
			}
			if !listed[k] {
				out = append(out, k)
			}
		}
		st.Seen = out
	}
	u := p.f.URL
	cursor := p.f.Format == ingest.FeedCursorJSON
	if st.Cursor != "" {
		u, cursor = st.Cursor, true
	}
	for page := 0; page < p.f.MaxPages; page++ {
		etag, lm := "", ""
		if u == p.f.URL {
			etag, lm = st.ETag, st.LastModified
		}
		resp, err := p.ft.get(ctx, u, etag, lm)
		if err != nil {
			return res, err
		}
		res.pages++
		if resp.status == 304 {
			res.notModified = res.pages == 1
			return res, nil
		}
		pg, err := ingest.ParseFeed(resp.body, p.f.Format, ingest.FeedOptions{Feed: p.f.Name, Rendition: p.f.Rendition})
		if err != nil {
			return res, &FetchError{Kind: KindParse, Status: resp.status, Err: fmt.Errorf("GET %s: %v", redactURL(u), err)}
		}
		if pg.Format == ingest.FeedCursorJSON {
			cursor = true
		}
		res.listed += len(pg.Items)
		// Publishes and their acknowledgements are not cut short by a
		// shutdown or a lost lease (ctx): what was sent is waited for and
		// recorded in seen, so the state never forgets a stored item. ctx
		// stops the loop before the next item instead.
		pubCtx := context.WithoutCancel(ctx)
		var pubErr, stopErr error
		for _, it := range pg.Items {
			if err := ctx.Err(); err != nil {
				stopErr = err
				break
			}
			id := it.ID
			key := itemKey(id, it.Version)
			if listed[key] {
				continue // listed twice on the feed
			}
			listed[key] = true
			if seen[key] {
				current = append(current, key)
				continue
			}
			rec, format, err := p.record(ctx, resp.url, it)
			if err != nil {
				stopErr = err
				break
			}
			if limit := p.e.cfg.Limits.StoryBytes; len(rec) > limit {
				p.log.Warn("feed item over the story limit: published cut, ingest rejects it", zap.String("item", clipID(id)), zap.Int("bytes", len(rec)), zap.Int("limit", limit))
				rec = rec[:limit+1]
			}
			if id == "" {
				id = it.Version
			}
			meta := proto.RawMeta{Format: format, Source: p.f.Name, Origin: "feed " + p.f.Name + " item " + clipID(id), Received: proto.FromTime(time.Now())}
			err = p.pub.Publish(pubCtx, pipeline.RawMsg{Data: rec, Meta: meta, ID: MsgID(p.f.Name, id, it.Version)}, func(a pipeline.RawAck) {
				if a.Err != nil {
					if pubErr == nil {
						pubErr = fmt.Errorf("%w: item %s: %v", errPublish, clipID(id), a.Err)
					}
					return
				}
				current = append(current, key)
				seen[key] = true
				if a.Duplicate {
					p.e.m.duplicates.WithLabelValues(p.f.Name).Inc()
					return
				}
				res.published++
				st.Items++
				st.LastItem, st.LastItemID = time.Now(), clipID(id)
				p.e.m.items.WithLabelValues(p.f.Name).Inc()
			})
			if err != nil {
				stopErr = fmt.Errorf("%w: %v", errPublish, err)
				break
			}
		}
		if err := p.pub.Flush(pubCtx); err != nil && stopErr == nil {
			stopErr = fmt.Errorf("%w: %v", errPublish, err)
		}
		merge()
		if stopErr != nil {
			return res, stopErr
		}
		if pubErr != nil {
			return res, pubErr
		}
		if !cursor {
			st.ETag, st.LastModified = resp.etag, resp.lastModified
			return res, nil
		}
		next := ""
		if pg.Next != "" {
			if nu, err := resp.url.Parse(pg.Next); err == nil && (nu.Scheme == "http" || nu.Scheme == "https") {
				next = nu.String()
			}
		}
		if next == "" {
			return res, nil // no next page: poll this one again next time
		}
		st.Cursor = next
		if err := save(st); err != nil {
			return res, err
		}
		if len(pg.Items) == 0 || next == u {
			return res, nil // caught up: the cursor waits for new items
		}
		u = next
	}
	return res, nil
}

// record is what is published for an item: its record, or for a cursor item
// its rendition's document. A rendition that cannot be fetched for a reason
// that stays (4xx, too large, a redirect loop) makes the item itself the
// record, with the reason, which ingest dead-letters; a transient failure
// fails the poll, to be tried again.
func (p *poller) record(ctx context.Context, base *url.URL, it ingest.FeedItem) ([]byte, string, error) {
	if it.Format != ingest.FeedCursorJSON || it.ID == "" || it.Rendition == nil {
		return it.Record, it.Format, nil
	}
	ru, err := base.Parse(it.Rendition.Href)
	if err != nil || ru.Scheme != "http" && ru.Scheme != "https" {
		return withFetchError(it.Record, fmt.Sprintf("rendition link %q is not an http URL", it.Rendition.Href)), ingest.FeedCursorJSON, nil
	}
	resp, err := p.ft.get(ctx, ru.String(), "", "")
	if err != nil {
		var fe *FetchError
		if errors.As(err, &fe) && !fe.Transient() {
			p.e.m.errors.WithLabelValues(p.f.Name, KindRendition).Inc()
			p.log.Warn("feed item rendition not fetched: the item goes to the dead-letter subject", zap.String("item", clipID(it.ID)), zap.Error(err))
			return withFetchError(it.Record, err.Error()), ingest.FeedCursorJSON, nil
		}
		return nil, "", err
	}
	if resp.status == 304 {
		return withFetchError(it.Record, "rendition answered 304 to an unconditional request"), ingest.FeedCursorJSON, nil
	}
	return resp.body, it.Rendition.Format, nil
}

// withFetchError adds ws_fetch_error to a cursor item's JSON.
func withFetchError(item []byte, reason string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(item, &m) != nil {
		m = map[string]json.RawMessage{}
	}
	r, _ := json.Marshal(reason)
	m["ws_fetch_error"] = r
	b, _ := json.Marshal(m)
	return b
}

// clipID bounds an item id in origins, logs and state.
func clipID(id string) string {
	id = proto.Printable(id)
	if len(id) > 200 {
		return id[:200] + "…"
	}
	return id
}

// metrics are the per-feed metrics.
type metrics struct {
	polls, errors     *prometheus.CounterVec
	items, duplicates *prometheus.CounterVec
	lastSuccess, held *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "feed_polls_total",
			Help: "Polls of a feed by this process, by result: ok, not_modified (304), error."}, []string{"feed", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "feed_errors_total",
			Help: "Feed errors by kind: network, timeout, http_4xx, http_429, http_5xx, too_large, redirect, parse, rendition, publish, state."}, []string{"feed", "kind"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "feed_items_total",
			Help: "Feed items (new or changed versions) stored in the raw history by this process."}, []string{"feed"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Name: "feed_item_duplicates_total",
			Help: "Feed item publishes JetStream already held (Nats-Msg-Id), e.g. after a takeover mid-poll."}, []string{"feed"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wirestream", Name: "feed_last_success_timestamp_seconds",
			Help: "Unix time of this process's last successful poll of a feed."}, []string{"feed"}),
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wirestream", Name: "feed_lease_held",
			Help: "1 while this process (holder) holds the feed's lease and polls it."}, []string{"feed", "holder"}),
	}
	reg.MustRegister(m.polls, m.errors, m.items, m.duplicates, m.lastSuccess, m.held)
	return m
}
