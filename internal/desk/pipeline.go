package desk

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"

	"github.com/wirestream/wirestream/internal/feeds"
	"github.com/wirestream/wirestream/internal/webhooks"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

// PipelineView is the answer of GET /v1/desk/pipeline: what the operator
// page shows, read from the server (every process's stages) and, for
// handler latency, from this process's metrics.
type PipelineView struct {
	Time        time.Time      `json:"time"`
	Stages      []StageView    `json:"stages"`
	Streams     []StreamView   `json:"streams"`
	DeadLetters DeadLetterView `json:"dead_letters"`
	Feeds       []FeedView     `json:"feeds"`
	Webhooks    []WebhookView  `json:"webhooks"`
	Errors      []string       `json:"errors,omitempty"` // what could not be read
}

// StageView is one stage's consumer and, where this process runs the
// stage, its handler latency histogram (cumulative since start).
type StageView struct {
	Name     string `json:"name"`
	Consumer string `json:"consumer"`
	Stream   string `json:"stream"` // the first partition's when partitioned
	// Partitions is how many work partitions the stage reads (1: one stream).
	Partitions int  `json:"partitions"`
	Exists     bool `json:"exists"`
	// Done is the input messages acknowledged so far (the consumer's ack
	// floor); rates are its differences over time.
	Done        uint64 `json:"done"`
	Pending     uint64 `json:"pending"`     // not yet delivered: the lag
	AckPending  int    `json:"ack_pending"` // delivered, not yet acknowledged
	Redelivered int    `json:"redelivered"` // delivered more than once, not yet acknowledged
	Waiting     int    `json:"waiting"`     // pull requests waiting: processes fetching
	DeadLetters uint64 `json:"dead_letters"`
	// Handler is the latency histogram from this process's metrics (absent
	// when the stage runs elsewhere).
	Handler *Histogram `json:"handler,omitempty"`
}

// Histogram is a cumulative Prometheus histogram.
type Histogram struct {
	Count   uint64    `json:"count"`
	Sum     float64   `json:"sum"` // seconds
	Bounds  []float64 `json:"bounds"`
	Buckets []uint64  `json:"buckets"` // cumulative counts at each bound
}

// StreamView is one stream's size.
type StreamView struct {
	Name      string    `json:"name"`
	Messages  uint64    `json:"messages"`
	Bytes     uint64    `json:"bytes"`
	Consumers int       `json:"consumers"`
	First     time.Time `json:"first,omitzero"`
	Last      time.Time `json:"last,omitzero"`
}

// DeadLetterView counts dead letters by subject and shows the last few.
type DeadLetterView struct {
	BySubject map[string]uint64 `json:"by_subject"`
	Last      []DeadLetter      `json:"last"`
}

// DeadLetter is one dead-lettered input.
type DeadLetter struct {
	Seq      uint64    `json:"seq"`
	Stored   time.Time `json:"stored"`
	Subject  string    `json:"subject"`
	Stage    string    `json:"stage"`
	Reason   string    `json:"reason"`
	Kind     string    `json:"kind,omitempty"`
	StoryURI string    `json:"story_uri,omitempty"`
	Source   string    `json:"source,omitempty"`
	From     string    `json:"from,omitempty"` // the original subject
	Head     string    `json:"head"`           // the input's first bytes, as text
}

// FeedView is one feed poller's health.
type FeedView struct {
	Name         string    `json:"name"`
	Holder       string    `json:"holder,omitempty"`
	LeaseExpires time.Time `json:"lease_expires,omitzero"`
	LastPoll     time.Time `json:"last_poll,omitzero"`
	LastSuccess  time.Time `json:"last_success,omitzero"`
	LastItem     time.Time `json:"last_item,omitzero"`
	Items        uint64    `json:"items"`
	Polls        uint64    `json:"polls"`
	Failures     int       `json:"failures"`
	Error        string    `json:"error,omitempty"`
}

// WebhookView is one webhook's delivery state.
type WebhookView struct {
	Name        string    `json:"name"`
	Exists      bool      `json:"exists"`
	Pending     uint64    `json:"pending"`
	InFlight    uint64    `json:"in_flight"`
	Redelivered uint64    `json:"redelivered"`
	LastActive  time.Time `json:"last_active,omitzero"`
	DeadLetters uint64    `json:"dead_letters"`
}

// lastDeadLetters is how many dead letters the page shows.
const lastDeadLetters = 8

func (h *Handler) pipeline(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := h.ctx(r)
	defer cancel()
	v := h.readPipeline(ctx)
	writeJSON(w, http.StatusOK, v)
}

func (h *Handler) readPipeline(ctx context.Context) PipelineView {
	n := h.cfg.Names
	v := PipelineView{Time: time.Now().UTC(), Stages: []StageView{}, Streams: []StreamView{}, Feeds: []FeedView{}, Webhooks: []WebhookView{},
		DeadLetters: DeadLetterView{BySubject: map[string]uint64{}, Last: []DeadLetter{}}}
	note := func(what string, err error) { v.Errors = append(v.Errors, what+": "+err.Error()) }

	// Streams of this namespace, with sizes.
	lister := h.js.ListStreams(ctx)
	for info := range lister.Info() {
		if !strings.HasPrefix(info.Config.Name, n.StreamPrefix+"_") {
			continue
		}
		v.Streams = append(v.Streams, StreamView{Name: info.Config.Name, Messages: info.State.Msgs, Bytes: info.State.Bytes,
			Consumers: info.State.Consumers, First: info.State.FirstTime, Last: info.State.LastTime})
	}
	if err := lister.Err(); err != nil {
		note("streams", err)
	}
	slices.SortFunc(v.Streams, func(a, b StreamView) int { return strings.Compare(a.Name, b.Name) })

	// Dead letters by subject, and the last few.
	if dlq, err := h.js.Stream(ctx, n.DLQStream()); err == nil {
		if info, err := dlq.Info(ctx, jetstream.WithSubjectFilter(n.DLQAll())); err == nil {
			for subj, c := range info.State.Subjects {
				v.DeadLetters.BySubject[subj] = c
			}
			for seq := info.State.LastSeq; seq >= info.State.FirstSeq && seq > 0 && len(v.DeadLetters.Last) < lastDeadLetters; seq-- {
				m, err := dlq.GetMsg(ctx, seq)
				if errors.Is(err, jetstream.ErrMsgNotFound) {
					continue
				}
				if err != nil {
					note("dead letters", err)
					break
				}
				v.DeadLetters.Last = append(v.DeadLetters.Last, DeadLetter{Seq: m.Sequence, Stored: m.Time, Subject: m.Subject,
					Stage: m.Header.Get(proto.HeaderStage), Reason: m.Header.Get(proto.HeaderError), Kind: m.Header.Get(proto.HeaderErrorKind),
					StoryURI: m.Header.Get(proto.HeaderStoryURI), Source: m.Header.Get(proto.HeaderSource),
					From: m.Header.Get(proto.HeaderOrigSubject), Head: head(m.Data, 240)})
			}
		} else {
			note("dead letters", err)
		}
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		note("dead letters", err)
	}

	// Stages: their shared consumers.
	hist := h.histograms()
	for i, name := range wiring.Names() {
		ins := wiring.Inputs(n, i)
		sv := StageView{Name: name, Consumer: wiring.Durable(n, name), Stream: ins[0].Stream, Handler: hist[name],
			DeadLetters: v.DeadLetters.BySubject[n.DLQ(name)], Partitions: len(ins)}
		// A partitioned stage's counts are the sums over its partitions.
		for _, in := range ins {
			if c, err := h.js.Consumer(ctx, in.Stream, sv.Consumer); err == nil {
				if info, err := c.Info(ctx); err == nil {
					sv.Exists = true
					sv.Done += info.AckFloor.Consumer
					sv.Pending += info.NumPending
					sv.AckPending += info.NumAckPending
					sv.Redelivered += info.NumRedelivered
					sv.Waiting += info.NumWaiting
				} else {
					note("stage "+name, err)
				}
			} else if !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
				note("stage "+name, err)
			}
		}
		v.Stages = append(v.Stages, sv)
	}

	// Feed pollers, when the feeds bucket exists.
	if kv, err := h.js.KeyValue(ctx, feeds.Bucket); err == nil {
		states, leases, err := feeds.ReadAll(ctx, kv)
		if err != nil {
			note("feeds", err)
		}
		names := make([]string, 0, len(states))
		for name := range states {
			names = append(names, name)
		}
		for name := range leases {
			if _, ok := states[name]; !ok {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			fv := FeedView{Name: name}
			if s := states[name]; s != nil {
				fv.LastPoll, fv.LastSuccess, fv.LastItem, fv.Items, fv.Polls, fv.Failures, fv.Error =
					s.LastPoll, s.LastSuccess, s.LastItem, s.Items, s.Polls, s.Failures, s.Error
			}
			if l, ok := leases[name]; ok {
				fv.Holder, fv.LeaseExpires = l.Holder, l.Expires
			}
			v.Feeds = append(v.Feeds, fv)
		}
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		note("feeds", err)
	}

	// Webhooks: every webhook consumer on the output stream.
	if states, err := webhooks.List(ctx, h.js, n, h.cfg.Hooks); err == nil {
		for _, s := range states {
			v.Webhooks = append(v.Webhooks, WebhookView{Name: s.Name, Exists: s.Exists, Pending: s.Pending, InFlight: s.InFlight,
				Redelivered: s.Redelivered, LastActive: s.LastActive, DeadLetters: s.DeadLetters})
		}
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		note("webhooks", err)
	}
	return v
}

// histograms reads wirestream_handler_seconds by stage from this process's
// metrics.
func (h *Handler) histograms() map[string]*Histogram {
	out := map[string]*Histogram{}
	if h.cfg.Gatherer == nil {
		return out
	}
	fams, err := h.cfg.Gatherer.Gather()
	if err != nil {
		return out
	}
	for _, f := range fams {
		if f.GetName() != "wirestream_handler_seconds" || f.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		for _, m := range f.GetMetric() {
			stage := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "stage" {
					stage = l.GetValue()
				}
			}
			hg := m.GetHistogram()
			x := &Histogram{Count: hg.GetSampleCount(), Sum: hg.GetSampleSum()}
			for _, b := range hg.GetBucket() {
				x.Bounds = append(x.Bounds, b.GetUpperBound())
				x.Buckets = append(x.Buckets, b.GetCumulativeCount())
			}
			out[stage] = x
		}
	}
	return out
}

// head is the first bytes of data as text, control bytes shown as spaces.
func head(data []byte, n int) string {
	if len(data) > n {
		data = data[:n]
	}
	b := []rune(strings.ToValidUTF8(string(data), "\uFFFD"))
	for i, r := range b {
		if r < 0x20 || r == 0x7f {
			b[i] = ' '
		}
	}
	return string(b)
}
