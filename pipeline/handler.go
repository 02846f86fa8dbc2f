package pipeline

import (
	"context"

	"github.com/wirestream/wirestream/proto"
)

// Handler is the contract of a stage that reads stories.
//
// Handle returns the stories to publish downstream. No stories and a nil
// error means the input is consumed and nothing is published (it is still
// acknowledged). An error means the input is retried with backoff; an error
// for which proto.IsPermanent is true sends the input to the dead-letter
// subject at once.
// Handle may be called from many goroutines at once. It must not keep the
// story after it returns unless it copies it.
//
// Close is called once, after the last Handle returned, during shutdown.
type Handler interface {
	Handle(ctx context.Context, s *proto.Story) ([]*proto.Story, error)
	Close(ctx context.Context) error
}

// RawHandler is the contract of a stage that reads raw input (ingest): the
// same as Handler, but it is given the message body and what the publisher
// said about it instead of a decoded story.
type RawHandler interface {
	HandleRaw(ctx context.Context, data []byte, m proto.RawMeta) ([]*proto.Story, error)
	Close(ctx context.Context) error
}

// HandlerFunc adapts a function to Handler (Close does nothing).
type HandlerFunc func(ctx context.Context, s *proto.Story) ([]*proto.Story, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
	return f(ctx, s)
}

// Close does nothing.
func (HandlerFunc) Close(context.Context) error { return nil }
