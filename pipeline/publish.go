package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/proto"
)

// publisher publishes messages asynchronously and waits for every ack,
// retrying failed ones (with the same Nats-Msg-Id, so a retry never stores a
// second copy) until they succeed or ctx ends. While it waits it tells the
// server the input is still in progress, so the input is not redelivered to
// another worker meanwhile.
type publisher struct {
	js       jetstream.JetStream
	stats    *Stats
	log      *zap.Logger
	timeout  time.Duration // per attempt
	progress func()        // keeps the input alive; may be nil
	retrying *atomic.Int32 // workers of the stage waiting to retry a publish; may be nil
	slot     *orderSlot    // when set, the first submission waits for the input's turn; may be nil
}

// publishAll publishes msgs and returns their acks in order. A failure the
// message itself causes (too large, headers over the server's 64 KiB, a bad
// subject) is not retried: it returns at once with a permanent error
// (proto.IsPermanent), and the stage dead-letters its input.
func (p *publisher) publishAll(ctx context.Context, msgs []*nats.Msg) ([]*jetstream.PubAck, error) {
	acks := make([]*jetstream.PubAck, len(msgs))
	pending := make([]int, len(msgs))
	for i := range msgs {
		pending[i] = i
	}
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		failed, lastErr := p.try(ctx, msgs, pending, acks)
		if len(failed) == 0 {
			return acks, nil
		}
		if permanentPublish(lastErr) {
			return nil, proto.Permanent(fmt.Errorf("publish %s: %w", msgs[failed[0]].Subject, lastErr))
		}
		if attempt == 0 && p.retrying != nil {
			p.retrying.Add(1)
			defer p.retrying.Add(-1)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("publish %s: %w (last error: %v)", msgs[failed[0]].Subject, ctx.Err(), lastErr)
		}
		p.stats.publishRetry.Add(int64(len(failed)))
		p.log.Warn("publish failed, retrying", zap.String("subject", msgs[failed[0]].Subject),
			zap.Int("failed", len(failed)), zap.Int("attempt", attempt+1), zap.Error(lastErr))
		if p.progress != nil {
			p.progress()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("publish %s: %w (last error: %v)", msgs[failed[0]].Subject, ctx.Err(), lastErr)
		case <-time.After(backoff):
		}
		if backoff < 2*time.Second {
			backoff *= 2
		}
		pending = failed
	}
}

func (p *publisher) try(ctx context.Context, msgs []*nats.Msg, idx []int, acks []*jetstream.PubAck) (failed []int, lastErr error) {
	futures := make([]jetstream.PubAckFuture, len(idx))
	// Ordered input: submit in the input's turn, then let the next input
	// submit while this one waits for its acks (a retry is out of turn).
	p.slot.enter()
	for k, i := range idx {
		f, err := p.js.PublishMsgAsync(msgs[i])
		if err != nil {
			failed = append(failed, i)
			lastErr = err
			continue
		}
		futures[k] = f
	}
	p.slot.leave()
	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	for k, f := range futures {
		if f == nil {
			continue
		}
		i := idx[k]
		select {
		case ack := <-f.Ok():
			acks[i] = ack
			if ack.Duplicate {
				p.stats.incDuplicates()
			} else {
				p.stats.incPublished()
			}
		case err := <-f.Err():
			failed = append(failed, i)
			lastErr = err
		case <-timer.C:
			failed = append(failed, i)
			lastErr = errors.New("timed out waiting for the publish ack")
			// the rest of this round is late as well
			return appendLive(failed, futures[k+1:], idx[k+1:]), lastErr
		case <-ctx.Done():
			return appendLive(append(failed, i), futures[k+1:], idx[k+1:]), ctx.Err()
		}
	}
	return failed, lastErr
}

// jsErrCodeHeaderExceedsMaximum is the server's "header size exceeds
// maximum allowed of 64k" (nats.go has no name for it).
const jsErrCodeHeaderExceedsMaximum jetstream.ErrorCode = 10097

// permanentPublish reports a publish failure that retrying cannot mend:
// the message is refused for what it is, not for the server's state.
func permanentPublish(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject) || errors.Is(err, nats.ErrBadHeaderMsg) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jetstream.JSErrCodeStreamMessageExceedsMaximum, jsErrCodeHeaderExceedsMaximum:
			return true
		}
	}
	return false
}

// appendLive appends the indexes whose publish was sent (a nil future was
// already counted as failed).
func appendLive(failed []int, futures []jetstream.PubAckFuture, idx []int) []int {
	for k, f := range futures {
		if f != nil {
			failed = append(failed, idx[k])
		}
	}
	return failed
}
