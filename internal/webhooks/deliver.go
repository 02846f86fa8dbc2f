package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/buildinfo"
	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/proto"
)

// Delivery headers.
const (
	HeaderDelivery  = "X-Wirestream-Delivery"  // stable id: webhook, story uri, version and event
	HeaderEvent     = "X-Wirestream-Event"     // story or kill
	HeaderSignature = "X-Wirestream-Signature" // sha256=<hex HMAC-SHA256 of the body with the secret>
	HeaderSeq       = "X-Wirestream-Seq"       // output stream sequence (increases with output order)
	HeaderAttempt   = "X-Wirestream-Attempt"   // 1 for the first post of a story

	// Dead-letter headers besides the pipeline's (Ws-Error, ...).
	HeaderWebhook       = "Ws-Webhook"
	HeaderWebhookStatus = "Ws-Webhook-Status" // the last HTTP status, 0 when there was no answer
)

// Config configures a Dispatcher.
type Config struct {
	Names proto.Names
	Hooks []Hook
	// Client posts the deliveries (default: a client with the hooks'
	// timeouts that does not follow redirects).
	Client *http.Client
	// Registerer, when set, gets the per-webhook metrics.
	Registerer prometheus.Registerer
	// AckWaitExtra is added to a hook's Timeout to make its consumer's
	// AckWait: how long a post may hold a story before the server gives it
	// to another process (default 5 s).
	AckWaitExtra time.Duration
	// LagInterval is how often lag is read from the server (default 10 s).
	LagInterval time.Duration
}

// Dispatcher runs the webhooks of a process.
type Dispatcher struct {
	cfg Config
	js  jetstream.JetStream
	log *zap.Logger
	m   *metrics
}

type metrics struct {
	delivered, failed, retries, dead *prometheus.CounterVec
	lag                              *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "wirestream", Subsystem: "webhook", Name: name, Help: help}, []string{"webhook"})
	}
	m := &metrics{
		delivered: c("delivered_total", "Stories a webhook receiver acknowledged with 2xx."),
		failed:    c("failed_total", "Posts that failed: no answer, a timeout or a status other than 2xx."),
		retries:   c("retries_total", "Posts of a story after its first."),
		dead:      c("dead_lettered_total", "Stories given up after max_attempts, sent to the dead-letter stream."),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "wirestream", Subsystem: "webhook", Name: "lag",
			Help: "Output messages the webhook's consumer has not yet acknowledged (pending plus in flight)."}, []string{"webhook"}),
	}
	if reg != nil {
		// A second dispatcher on one registry shares the first's collectors.
		for _, c := range []**prometheus.CounterVec{&m.delivered, &m.failed, &m.retries, &m.dead} {
			if err := reg.Register(*c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if errors.As(err, &are) {
					*c = are.ExistingCollector.(*prometheus.CounterVec)
				}
			}
		}
		if err := reg.Register(m.lag); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				m.lag = are.ExistingCollector.(*prometheus.GaugeVec)
			}
		}
	}
	return m
}

// New returns a dispatcher.
func New(js jetstream.JetStream, cfg Config, log *zap.Logger) (*Dispatcher, error) {
	if cfg.Names.Prefix == "" {
		return nil, fmt.Errorf("%w: Config.Names is empty", ErrConfig)
	}
	if cfg.AckWaitExtra == 0 {
		cfg.AckWaitExtra = 5 * time.Second
	}
	if cfg.LagInterval == 0 {
		cfg.LagInterval = 10 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second,
				ResponseHeaderTimeout: 0, TLSHandshakeTimeout: 10 * time.Second},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Dispatcher{cfg: cfg, js: js, log: log, m: newMetrics(cfg.Registerer)}, nil
}

// ConsumerConfig is the durable consumer of a hook.
func ConsumerConfig(n proto.Names, h Hook, ackWaitExtra time.Duration) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       h.Consumer(),
		Description:   "wirestream webhook " + h.Name,
		FilterSubject: n.OutAll(),
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       h.Timeout + ackWaitExtra,
		MaxDeliver:    -1, // the dispatcher counts attempts and dead-letters
		MaxAckPending: 1,  // one story in flight: output order
	}
}

// Ensure creates (or updates) the hooks' consumers. A new consumer
// delivers the stories published from then on; Run calls it too.
func (d *Dispatcher) Ensure(ctx context.Context) ([]jetstream.Consumer, error) {
	var cons []jetstream.Consumer
	for _, h := range d.cfg.Hooks {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		c, err := d.js.CreateOrUpdateConsumer(sctx, d.cfg.Names.OutStream(), ConsumerConfig(d.cfg.Names, h, d.cfg.AckWaitExtra))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("webhook %s: consumer %s: %w", h.Name, h.Consumer(), err)
		}
		cons = append(cons, c)
	}
	return cons, nil
}

// Run delivers until ctx ends; it returns the first setup error.
func (d *Dispatcher) Run(ctx context.Context) error {
	cons, err := d.Ensure(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for i, h := range d.cfg.Hooks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.runHook(ctx, h, cons[i])
		}()
	}
	wg.Wait()
	return nil
}

func (d *Dispatcher) runHook(ctx context.Context, h Hook, c jetstream.Consumer) {
	log := d.log.With(zap.String("webhook", h.Name))
	go d.watchLag(ctx, h, c)
	for ctx.Err() == nil {
		iter, err := c.Messages(jetstream.PullMaxMessages(1))
		if err != nil {
			log.Warn("webhook: consume", zap.Error(err))
			sleep(ctx, time.Second)
			continue
		}
		stop := context.AfterFunc(ctx, iter.Stop)
		for {
			m, err := iter.Next()
			if err != nil {
				break
			}
			d.handle(ctx, h, m, log)
		}
		stop()
		iter.Stop()
	}
}

func (d *Dispatcher) watchLag(ctx context.Context, h Hook, c jetstream.Consumer) {
	t := time.NewTicker(d.cfg.LagInterval)
	defer t.Stop()
	for {
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if info, err := c.Info(ictx); err == nil {
			d.m.lag.WithLabelValues(h.Name).Set(float64(info.NumPending) + float64(info.NumAckPending))
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliveryID is the stable id of a delivery: the same webhook, story uri,
// version and event always give the same id.
func DeliveryID(hook, uri, version, event string) string {
	sum := sha256.Sum256([]byte(hook + "\x00" + uri + "\x00" + version + "\x00" + event))
	return hex.EncodeToString(sum[:16])
}

// Sign is the X-Wirestream-Signature value of body.
func Sign(secret Secret, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether sig is body's signature with secret (for receivers
// written in Go).
func Verify(secret Secret, body []byte, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(Sign(secret, body)))
}

// handle posts one output message, then acknowledges it (2xx), retries it
// later (other answers) or dead-letters it (after MaxAttempts).
func (d *Dispatcher) handle(ctx context.Context, h Hook, m jetstream.Msg, log *zap.Logger) {
	md, err := m.Metadata()
	if err != nil {
		_ = m.Nak()
		return
	}
	log = log.With(zap.Uint64("stream_seq", md.Sequence.Stream), zap.Uint64("delivered", md.NumDelivered))
	s, err := outfilter.Decode(m.Headers(), m.Data())
	if err != nil {
		d.deadLetter(ctx, h, m, md, 0, "permanent", "undecodable output message: "+err.Error(), log)
		return
	}
	if !h.Filter.Match(s, m.Headers().Get(proto.HeaderNodes)) {
		d.ack(ctx, m, log)
		return
	}
	body, err := outfilter.Render(m.Headers(), m.Data(), s, h.Format)
	if err != nil {
		d.deadLetter(ctx, h, m, md, 0, "permanent", "encode: "+err.Error(), log)
		return
	}
	event := outfilter.Event(s)
	if md.NumDelivered > 1 {
		d.m.retries.WithLabelValues(h.Name).Inc()
	}
	status, retryAfter, err := d.post(ctx, h, body, event, DeliveryID(h.Name, s.URI, s.Version, event), md)
	if err == nil {
		// Acknowledged even when shutting down: the receiver has it.
		d.m.delivered.WithLabelValues(h.Name).Inc()
		d.ack(ctx, m, log.With(zap.String("story_uri", s.URI)))
		return
	}
	if ctx.Err() != nil {
		_ = m.Nak() // shutting down: another process (or the next start) posts it again
		return
	}
	d.m.failed.WithLabelValues(h.Name).Inc()
	if slices.Contains(h.GiveUpOn, status) {
		d.deadLetter(ctx, h, m, md, status, "permanent", fmt.Sprintf("gave up at once (give_up_on %d): %v", status, err), log)
		return
	}
	if int(md.NumDelivered) >= h.MaxAttempts {
		d.deadLetter(ctx, h, m, md, status, "max-deliver", fmt.Sprintf("gave up after %d attempts: %v", md.NumDelivered, err), log)
		return
	}
	wait := backoff(h, md.NumDelivered)
	if retryAfter > wait {
		wait = min(retryAfter, h.BackoffMax)
	}
	log.Debug("webhook: post failed, retrying", zap.Int("status", status), zap.Duration("in", wait), zap.Error(err))
	_ = m.NakWithDelay(wait)
}

func (d *Dispatcher) ack(ctx context.Context, m jetstream.Msg, log *zap.Logger) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := m.DoubleAck(actx); err != nil {
		// The server did not confirm: the story may be posted again, with the
		// same delivery id.
		log.Warn("webhook: acknowledge", zap.Error(err))
	}
}

// backoff is the wait after the attempt-th failed post.
func backoff(h Hook, attempt uint64) time.Duration {
	w := h.BackoffMin
	for i := uint64(1); i < attempt && w < h.BackoffMax; i++ {
		w *= 2
	}
	return min(w, h.BackoffMax)
}

var userAgent = "wirestream/" + buildinfo.Read().Version

// post makes one delivery; err is nil only for a 2xx answer.
func (d *Dispatcher) post(ctx context.Context, h Hook, body []byte, event, id string, md *jetstream.MsgMetadata) (status int, retryAfter time.Duration, err error) {
	pctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderDelivery, id)
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderSignature, Sign(h.Secret, body))
	req.Header.Set(HeaderSeq, strconv.FormatUint(md.Sequence.Stream, 10))
	req.Header.Set(HeaderAttempt, strconv.FormatUint(md.NumDelivered, 10))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, 0, fmt.Errorf("no answer within %s", h.Timeout)
		}
		return 0, 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, nil
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, retryAfter, fmt.Errorf("receiver answered %s", resp.Status)
}

// deadLetter stores the story on the hook's dead-letter subject with the
// reason, its kind ("permanent": retrying cannot help; "max-deliver": out
// of attempts) and the last status, then terminates it.
func (d *Dispatcher) deadLetter(ctx context.Context, h Hook, m jetstream.Msg, md *jetstream.MsgMetadata, status int, kind, reason string, log *zap.Logger) {
	dl := nats.NewMsg(h.DLQSubject(d.cfg.Names))
	dl.Data = m.Data()
	for k, v := range m.Headers() {
		if k != proto.HeaderMsgID {
			dl.Header[k] = v
		}
	}
	dl.Header.Set(proto.HeaderMsgID, "webhook:"+h.Name+":"+strconv.FormatUint(md.Sequence.Stream, 10))
	dl.Header.Set(proto.HeaderError, reason)
	dl.Header.Set(proto.HeaderErrorKind, kind)
	dl.Header.Set(proto.HeaderStage, "webhook")
	dl.Header.Set(HeaderWebhook, h.Name)
	dl.Header.Set(HeaderWebhookStatus, strconv.Itoa(status))
	dl.Header.Set(proto.HeaderOrigSubject, m.Subject())
	dl.Header.Set(proto.HeaderOrigStream, md.Stream)
	dl.Header.Set(proto.HeaderOrigSeq, strconv.FormatUint(md.Sequence.Stream, 10))
	dl.Header.Set(proto.HeaderDeliveredCount, strconv.FormatUint(md.NumDelivered, 10))
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := d.js.PublishMsg(pctx, dl); err != nil {
		log.Warn("webhook: dead letter not stored; retrying the story", zap.Error(err))
		_ = m.NakWithDelay(h.BackoffMin)
		return
	}
	d.m.dead.WithLabelValues(h.Name).Inc()
	log.Warn("webhook: dead-lettered", zap.String("subject", dl.Subject), zap.Int("status", status), zap.String("reason", reason))
	if err := m.TermWithReason("dead-lettered: " + reason); err != nil {
		log.Warn("webhook: terminate", zap.Error(err))
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
