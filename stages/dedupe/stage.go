package dedupe

import (
	"context"
	"errors"
	"time"

	"github.com/wirestream/wirestream/proto"
)

// DecideTimeout bounds one decision of the stage (normally well under
// 10 ms). It is below the runtime's ack wait (30 s), so a decision that
// gives up is retried by the stage's own retry, not raced by a redelivery
// of the same input to another worker.
const DecideTimeout = 20 * time.Second

// Stage is the dedupe stage: it sets each story's decision and passes the
// story on; Forward tells where it goes then. It satisfies the runtime's
// stage contract (Handle, Close).
type Stage struct {
	d       *Deduper
	onClose func() error
}

// NewStage returns the stage over d; onClose (may be nil) runs after d is
// closed (the shared log's reader, say).
func NewStage(d *Deduper, onClose func() error) *Stage { return &Stage{d: d, onClose: onClose} }

// Handle decides s and returns it with its decision. An invalid story is a
// permanent error (dead-lettered); anything else is retried.
func (st *Stage) Handle(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
	// Decide waits for its signature to come back through the shared log;
	// bound it, so a stalled log turns into a retry instead of a stuck worker.
	ctx, cancel := context.WithTimeout(ctx, DecideTimeout)
	defer cancel()
	dec, err := st.d.Decide(ctx, s)
	return decided(s, dec, err)
}

// Prepare does a story's own work ahead (normalising, fingerprint,
// signature), on any goroutine; the returned finish decides it, and must be
// called in the order the stories are to be decided. Handle is Prepare and
// finish at once.
func (st *Stage) Prepare(s *proto.Story) (finish func(ctx context.Context) ([]*proto.Story, error)) {
	p := st.d.Prepare(s)
	return func(ctx context.Context) ([]*proto.Story, error) {
		dec, err := st.d.DecidePrepared(ctx, s, p)
		return decided(s, dec, err)
	}
}

func decided(s *proto.Story, dec *proto.Dedupe, err error) ([]*proto.Story, error) {
	if err != nil {
		if errors.Is(err, ErrInvalidStory) {
			return nil, proto.Permanent(err)
		}
		return nil, err
	}
	s.Dedupe = dec
	return []*proto.Story{s}, nil
}

// Close closes the Deduper, then runs onClose.
func (st *Stage) Close(context.Context) error {
	err := st.d.Close()
	if st.onClose != nil {
		if cerr := st.onClose(); err == nil {
			err = cerr
		}
	}
	return err
}

// Forward reports whether a decided story goes on down the pipeline (new,
// update, kill) rather than to the audit subject (duplicate,
// near_duplicate, stale).
func Forward(s *proto.Story) bool {
	if s.Dedupe == nil {
		return true
	}
	switch s.Dedupe.Status {
	case proto.DedupeDuplicate, proto.DedupeNearDuplicate, proto.DedupeStale:
		return false
	}
	return true
}
