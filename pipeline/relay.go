package pipeline

import (
	"context"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/proto"
)

// NewRelay returns a stage that republishes every input unchanged (body and
// headers) on subject, with the same discipline as a real stage: publish,
// wait for the ack, then ack the input; an idempotent Nats-Msg-Id per input
// and target. It does no decoding and no work: a chain of relays measures
// what the broker allows (wirestream bench compares the pipeline with it).
func NewRelay(js jetstream.JetStream, cfg StageConfig, subject string, log *zap.Logger) (*Stage, error) {
	cfg.Output = relayOutput{subject: subject}
	st, err := newStage(js, cfg, log)
	if err != nil {
		return nil, err
	}
	st.handle = func(context.Context, *inbound) ([]*proto.Story, error) { return relayed, nil }
	st.close = func(context.Context) error { return nil }
	return st, nil
}

// relayed is the one result a relay's handler returns: the input itself.
var relayed = []*proto.Story{{}}

type relayOutput struct{ subject string }

func (r relayOutput) publish(ctx context.Context, p *publisher, in *inbound, _ *proto.Story) error {
	m := nats.NewMsg(r.subject)
	m.Data = in.data
	for k, v := range in.header {
		if k != proto.HeaderMsgID {
			m.Header[k] = v
		}
	}
	m.Header.Set(proto.HeaderMsgID, "relay:"+in.stream+":"+strconv.FormatUint(in.seq, 10)+":"+r.subject)
	_, err := p.publishAll(ctx, []*nats.Msg{m})
	return err
}
