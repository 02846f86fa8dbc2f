package proto

// Header names carried on NATS messages. Nats-Msg-Id is the JetStream
// standard; the rest are wirestream's and start with "Ws-".
const (
	// HeaderMsgID makes a publish idempotent within the stream's duplicate window.
	HeaderMsgID = "Nats-Msg-Id"

	// HeaderEncoding is the Encoding of the body: "json" or "proto".
	HeaderEncoding = "Ws-Encoding"
	// HeaderFormat is the raw input format hint ("ninjs", "text", ...), set
	// by whoever publishes raw input; ingest detects the format when absent.
	HeaderFormat = "Ws-Format"
	// HeaderSource names the feed a raw story came from.
	HeaderSource = "Ws-Source"
	// HeaderOrigin locates raw input in its file: "path:line".
	HeaderOrigin = "Ws-Origin"
	// HeaderReceived is when the raw story entered the pipeline (Unix ns).
	HeaderReceived = "Ws-Received"
	// HeaderReplay marks raw input republished by a replay (its id: the
	// namespace, or "live").
	HeaderReplay = "Ws-Replay"

	// HeaderStoryURI, HeaderStoryVersion identify the story a message is about.
	HeaderStoryURI     = "Ws-Story-Uri"
	HeaderStoryVersion = "Ws-Story-Version"
	// HeaderStorySeq is set on region and topic notifications: the sequence
	// of the full story in the output stream (fetch it with a direct get).
	HeaderStorySeq = "Ws-Story-Seq"
	// HeaderStoryStream names the stream HeaderStorySeq refers to.
	HeaderStoryStream = "Ws-Story-Stream"
	// HeaderHeadline repeats the headline on notifications, for humans
	// watching with a plain NATS client.
	HeaderHeadline = "Ws-Headline"
	// HeaderDedupe repeats the dedupe status on output and audit messages.
	HeaderDedupe = "Ws-Dedupe"
	// HeaderDedupeOf is the uri of the story a dedupe decision links this
	// one to (the story it copies or updates), when there is one.
	HeaderDedupeOf = "Ws-Dedupe-Of"
	// HeaderNodes lists, on a full story in the output stream, the node
	// subjects (region and topic) it was announced on, separated by spaces:
	// a reader of the full stream can filter by node without decoding.
	HeaderNodes = "Ws-Nodes"
	// HeaderUrgency, HeaderLanguage and HeaderStatus repeat on every output
	// message (full story, node copy, notification) the story's urgency
	// (1-9, absent when unknown), language tag (absent when unknown) and
	// status (new, update or kill), so any client can filter on them.
	HeaderUrgency  = "Ws-Urgency"
	HeaderLanguage = "Ws-Language"
	HeaderStatus   = "Ws-Status"

	// Dead-letter headers.
	HeaderError          = "Ws-Error"            // the reason, one line
	HeaderErrorKind      = "Ws-Error-Kind"       // "permanent" or "max-deliver"
	HeaderStage          = "Ws-Stage"            // the stage that gave up
	HeaderOrigSubject    = "Ws-Original-Subject" // subject of the failed message
	HeaderOrigStream     = "Ws-Original-Stream"
	HeaderOrigSeq        = "Ws-Original-Seq"
	HeaderDeliveredCount = "Ws-Delivered"
	HeaderErrorBody      = "Ws-Error-Body" // set when the body had to be cut to store the dead letter
)
