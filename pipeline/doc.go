// Package pipeline is wirestream's runtime: it moves stories between NATS
// JetStream streams and the stages' domain logic.
//
// A stage runs as a durable pull consumer with N concurrent workers. For each
// input message the runtime decodes it, calls the stage, publishes the
// stage's outputs (asynchronously, each with a Nats-Msg-Id derived from the
// story and its target so a redelivered input never creates a second copy),
// waits for their acknowledgements, and only then acknowledges the input.
// Transient failures are retried with NakWithDelay and a backoff; permanent
// failures, and failures at MaxDeliver, go to the stage's dead-letter subject
// with the reason in headers before the input is terminated. Stages never
// acknowledge anything themselves.
//
// The package also creates the streams idempotently (EnsureStreams), starts
// the embedded server (StartServer), connects with NATS CLI style settings
// (Connect) and reads the output for subscribers (Subscribe).
package pipeline
