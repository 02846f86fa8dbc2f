package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/proto"
)

// SubscribeConfig chooses what a subscriber reads from the output stream.
type SubscribeConfig struct {
	// Names is the namespace to read (proto.Live() for the live pipeline).
	Names proto.Names
	// Subject is a node subject (Names.Region, Names.Topic) or Names.OutAll.
	// Default Names.OutAll.
	Subject string
	// FromStart reads the whole retained output; Since reads from a time.
	// Neither: only stories published from now on.
	FromStart bool
	Since     time.Time
}

// Delivery is one story as a subscriber receives it.
type Delivery struct {
	Story   *proto.Story
	Subject string // the subject the subscription matched
	Seq     uint64 // sequence of the full story in the output stream
}

// Subscribe reads the output stream with an ordered consumer and calls fn
// with each story, in order, once. For node subjects it resolves the
// notification to the full story with a direct get. It returns when ctx ends
// or fn returns an error (ErrStop ends it without error).
func Subscribe(ctx context.Context, js jetstream.JetStream, cfg SubscribeConfig, fn func(Delivery) error) error {
	if cfg.Subject == "" {
		cfg.Subject = cfg.Names.OutAll()
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
	occ := jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverNewPolicy}
	switch {
	case cfg.FromStart:
		occ.DeliverPolicy = jetstream.DeliverAllPolicy
	case !cfg.Since.IsZero():
		occ.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		since := cfg.Since
		occ.OptStartTime = &since
	}
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
		if node != "" && !hasNode(m.Headers().Get(proto.HeaderNodes), node) {
			continue
		}
		d, err := resolve(ctx, stream, m)
		if node != "" {
			d.Subject = node
		}
		if err != nil {
			return err
		}
		if err := fn(d); err != nil {
			if err == ErrStop {
				return nil
			}
			return err
		}
	}
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

func resolve(ctx context.Context, stream jetstream.Stream, m jetstream.Msg) (Delivery, error) {
	d := Delivery{Subject: m.Subject()}
	data := m.Data()
	h := m.Headers()
	if ref := h.Get(proto.HeaderStorySeq); ref != "" {
		seq, err := strconv.ParseUint(ref, 10, 64)
		if err != nil {
			return d, fmt.Errorf("notification on %s: bad %s %q", m.Subject(), proto.HeaderStorySeq, ref)
		}
		raw, err := stream.GetMsg(ctx, seq)
		if err != nil {
			return d, fmt.Errorf("fetch story %d for %s: %w", seq, m.Subject(), err)
		}
		data, d.Seq = raw.Data, seq
		h = raw.Header
	} else if md, err := m.Metadata(); err == nil {
		d.Seq = md.Sequence.Stream
	}
	enc, err := proto.ParseEncoding(h.Get(proto.HeaderEncoding))
	if err != nil {
		return d, err
	}
	s, err := proto.Unmarshal(enc, data)
	if err != nil {
		return d, fmt.Errorf("story %d on %s: %w", d.Seq, m.Subject(), err)
	}
	d.Story = s
	return d, nil
}
