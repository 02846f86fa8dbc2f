package webhooks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/proto"
)

// State is a webhook's consumer as the server reports it.
type State struct {
	Name       string
	Configured bool // in the file given to List (when one was)
	Exists     bool // its consumer exists
	// Pending: stories not yet posted; InFlight: posted or waiting for a
	// retry (0 or 1); Redelivered: stories posted more than once so far.
	Pending, InFlight, Redelivered uint64
	LastSeq                        uint64    // output sequence of the last story acknowledged
	LastActive                     time.Time // last acknowledgement
	DeadLetters                    uint64    // on its dead-letter subject
}

// List reads the state of every webhook consumer on the output stream, and
// of each hook in hooks (which may have none yet).
func List(ctx context.Context, js jetstream.JetStream, n proto.Names, hooks []Hook) ([]State, error) {
	st, err := js.Stream(ctx, n.OutStream())
	if err != nil {
		return nil, fmt.Errorf("output stream %s: %w", n.OutStream(), err)
	}
	byName := map[string]*State{}
	var order []string
	for _, h := range hooks {
		byName[h.Name] = &State{Name: h.Name, Configured: true}
		order = append(order, h.Name)
	}
	lister := st.ListConsumers(ctx)
	for info := range lister.Info() {
		name, ok := strings.CutPrefix(info.Name, ConsumerPrefix)
		if !ok {
			continue
		}
		s := byName[name]
		if s == nil {
			s = &State{Name: name}
			byName[name] = s
			order = append(order, name)
		}
		s.Exists = true
		s.Pending, s.InFlight, s.Redelivered = info.NumPending, uint64(info.NumAckPending), uint64(info.NumRedelivered)
		s.LastSeq = info.AckFloor.Stream
		if info.AckFloor.Last != nil {
			s.LastActive = *info.AckFloor.Last
		}
	}
	if err := lister.Err(); err != nil {
		return nil, err
	}
	dlq, err := js.Stream(ctx, n.DLQStream())
	for _, name := range order {
		if err != nil {
			break
		}
		subj := Hook{Name: name}.DLQSubject(n)
		info, ierr := dlq.Info(ctx, jetstream.WithSubjectFilter(subj))
		if ierr == nil {
			byName[name].DeadLetters = info.State.Subjects[subj]
		}
	}
	out := make([]State, 0, len(order))
	for _, name := range order {
		out = append(out, *byName[name])
	}
	return out, nil
}
