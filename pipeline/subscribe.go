package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/proto"
)

// SubscribeConfig chooses what a subscriber reads from the output stream.
type SubscribeConfig struct {
	// Names is the namespace to read (proto.Live() for the live pipeline).
	Names proto.Names
	// Subject is a node subject (Names.Region, Names.Topic) or Names.OutAll.
	// Default: the narrowest subject of Filter (Filter.Subjects), which for
	// the zero Filter is Names.OutAll.
	Subject string
	// Filter keeps only the stories it matches (region and topic together,
	// urgency, language, status); each matching story is delivered once.
	Filter Filter
	// Durable, when set, reads with the named durable JetStream consumer:
	// created on first use (from the start position below), resumed where
	// it stopped afterwards. A story is acknowledged once fn returns nil
	// (or ErrStop) for it, so a restart delivers the first story fn did not
	// finish, and nothing before it (see docs/subjects.md on the window).
	// Without it, an ordered consumer reads and nothing is stored.
	Durable string
	// FromStart reads the whole retained output; Since reads from a time;
	// StartSeq, when not 0, reads from the message after this output stream
	// sequence (the Seq of the last Delivery handled). None: only stories
	// published from now on. For a Durable consumer that exists, they are
	// ignored: it resumes where it stopped.
	FromStart bool
	Since     time.Time
	StartSeq  uint64
}

// Delivery is one story as a subscriber receives it.
type Delivery struct {
	Story   *proto.Story
	Subject string // the subject the subscription matched
	// Seq is the output stream sequence of the message the subscription
	// read (the full story, its node copy or its notification): give it as
	// SubscribeConfig.StartSeq to resume after this story.
	Seq uint64
	// StorySeq is the sequence of the full story on Names.OutAll when it is
	// known (a story read on OutAll or through a claim-check notification),
	// else 0.
	StorySeq uint64
}

// Subscribe reads the output stream and calls fn with each story that
// matches cfg, in order, once. For claim-check notifications it resolves the
// full story with a direct get. It returns when ctx ends or fn returns an
// error (ErrStop ends it without error).
func Subscribe(ctx context.Context, js jetstream.JetStream, cfg SubscribeConfig, fn func(Delivery) error) error {
	if err := cfg.Filter.Validate(); err != nil {
		return err
	}
	if cfg.Subject == "" {
		cfg.Subject = cfg.Filter.Subjects(cfg.Names)[0]
	}
	stream, err := js.Stream(ctx, cfg.Names.OutStream())
	if err != nil {
		return fmt.Errorf("open output stream %s: %w", cfg.Names.OutStream(), err)
	}
	// A stream that keeps only full stories (StreamsConfig.LiveNodes) is read
	// whole and filtered on each story's Ws-Nodes header.
	filter, node := cfg.Subject, ""
	if !captures(stream.CachedInfo().Config.Subjects, cfg.Subject) {
		filter, node = cfg.Names.OutAll(), cfg.Subject
	}
	handle := func(m jetstream.Msg) (bool, error) {
		if node != "" && !hasNode(m.Headers().Get(proto.HeaderNodes), node) {
			return false, nil
		}
		d, h, err := resolve(ctx, stream, cfg.Names.OutAll(), m)
		if node != "" {
			d.Subject = node
		}
		if err != nil {
			return false, err
		}
		if !cfg.Filter.Match(d.Story, h.Get(proto.HeaderNodes)) {
			return false, nil
		}
		return true, fn(d)
	}
	if cfg.Durable != "" {
		return subscribeDurable(ctx, js, stream, cfg, filter, handle)
	}
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverNewPolicy}
	startPolicy(cfg, &occ.DeliverPolicy, &occ.OptStartSeq, &occ.OptStartTime)
	cons, err := stream.OrderedConsumer(ctx, occ)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", cfg.Subject, err)
	}
	iter, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", cfg.Subject, err)
	}
	defer iter.Stop()
	go func() {
		<-ctx.Done()
		iter.Stop()
	}()
	for {
		m, err := iter.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("subscribe %s: %w", cfg.Subject, err)
		}
		if _, err := handle(m); err != nil {
			if err == ErrStop {
				return nil
			}
			return err
		}
	}
}

// startPolicy sets a new consumer's start from cfg.
func startPolicy(cfg SubscribeConfig, policy *jetstream.DeliverPolicy, seq *uint64, since **time.Time) {
	switch {
	case cfg.StartSeq > 0:
		*policy = jetstream.DeliverByStartSequencePolicy
		*seq = cfg.StartSeq + 1
	case cfg.FromStart:
		*policy = jetstream.DeliverAllPolicy
	case !cfg.Since.IsZero():
		*policy = jetstream.DeliverByStartTimePolicy
		t := cfg.Since
		*since = &t
	default:
		*policy = jetstream.DeliverNewPolicy
	}
}

// durableAckWait is how long the server waits for the acknowledgement of a
// story a durable subscriber was given before giving it again (to the
// subscriber that resumes after a crash).
const durableAckWait = 10 * time.Second

// subscribeDurable reads with a named durable consumer, one story at a
// time: at most one story is ever given and not acknowledged
// (MaxAckPending 1), so a restart resumes in order, and the acknowledgement
// is confirmed by the server (AckSync) before the next story is asked for,
// so a clean stop leaves nothing to be given twice.
func subscribeDurable(ctx context.Context, js jetstream.JetStream, stream jetstream.Stream, cfg SubscribeConfig, filter string,
	handle func(jetstream.Msg) (bool, error)) error {
	cons, err := stream.Consumer(ctx, cfg.Durable)
	switch {
	case err == nil:
		if have := consumerFilters(cons.CachedInfo().Config); len(have) != 1 || have[0] != filter {
			return fmt.Errorf("%w: durable %q reads %v, this subscription %s: delete it (tail --durable %s --delete) or choose another name",
				ErrIncompatible, cfg.Durable, have, filter, cfg.Durable)
		}
	case errors.Is(err, jetstream.ErrConsumerNotFound):
		cc := jetstream.ConsumerConfig{
			Durable:       cfg.Durable,
			Description:   "wirestream subscriber",
			FilterSubject: filter,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       durableAckWait,
			MaxAckPending: 1,
		}
		startPolicy(cfg, &cc.DeliverPolicy, &cc.OptStartSeq, &cc.OptStartTime)
		if cons, err = stream.CreateConsumer(ctx, cc); err != nil {
			return fmt.Errorf("create durable %q: %w", cfg.Durable, err)
		}
	default:
		return fmt.Errorf("durable %q: %w", cfg.Durable, err)
	}
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("subscribe %s: %w", cfg.Subject, err)
		}
		for m := range batch.Messages() {
			if ctx.Err() != nil {
				// Stopping: give it back at once instead of after AckWait.
				_ = m.Nak()
				continue
			}
			_, herr := handle(m)
			if herr != nil && herr != ErrStop {
				_ = m.Nak()
				return herr
			}
			// Handled (or not matching the filter): acknowledged before the
			// next one is fetched.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			aerr := m.DoubleAck(actx)
			cancel()
			if aerr != nil {
				return fmt.Errorf("ack story on %s: %w", m.Subject(), aerr)
			}
			if herr == ErrStop {
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			return fmt.Errorf("subscribe %s: %w", cfg.Subject, err)
		}
	}
	return nil
}

func consumerFilters(c jetstream.ConsumerConfig) []string {
	if c.FilterSubject != "" {
		return []string{c.FilterSubject}
	}
	return c.FilterSubjects
}

// DeleteDurable removes the durable subscriber name of a namespace's output
// stream. A name that does not exist is an error wrapping
// jetstream.ErrConsumerNotFound.
func DeleteDurable(ctx context.Context, js jetstream.JetStream, n proto.Names, name string) error {
	if err := js.DeleteConsumer(ctx, n.OutStream(), name); err != nil {
		return fmt.Errorf("delete durable %q on %s: %w", name, n.OutStream(), err)
	}
	return nil
}

// hasNode reports whether the space-separated list holds a subject that
// filter (a node subject, possibly with wildcards) matches.
func hasNode(list, filter string) bool {
	for list != "" {
		var item string
		item, list, _ = strings.Cut(list, " ")
		if SubjectMatches(filter, item) {
			return true
		}
	}
	return false
}

// ErrStop, returned by a Subscribe callback, ends the subscription cleanly.
var ErrStop = fmt.Errorf("pipeline: stop subscription")

// resolve decodes the story of an output message: its body, or for a
// claim-check notification the full story it points at. It returns the
// headers of the full story.
func resolve(ctx context.Context, stream jetstream.Stream, all string, m jetstream.Msg) (Delivery, nats.Header, error) {
	d := Delivery{Subject: m.Subject()}
	data := m.Data()
	h := m.Headers()
	if md, err := m.Metadata(); err == nil {
		d.Seq = md.Sequence.Stream
		if m.Subject() == all {
			d.StorySeq = d.Seq
		}
	}
	if ref := h.Get(proto.HeaderStorySeq); ref != "" && len(data) == 0 {
		seq, err := strconv.ParseUint(ref, 10, 64)
		if err != nil {
			return d, h, fmt.Errorf("notification on %s: bad %s %q", m.Subject(), proto.HeaderStorySeq, ref)
		}
		raw, err := stream.GetMsg(ctx, seq)
		if err != nil {
			return d, h, fmt.Errorf("fetch story %d for %s: %w", seq, m.Subject(), err)
		}
		data, d.StorySeq = raw.Data, seq
		h = raw.Header
	}
	enc, err := proto.ParseEncoding(h.Get(proto.HeaderEncoding))
	if err != nil {
		return d, h, err
	}
	s, err := proto.Unmarshal(enc, data)
	if err != nil {
		return d, h, fmt.Errorf("story %d on %s: %w", d.Seq, m.Subject(), err)
	}
	d.Story = s
	return d, h, nil
}
