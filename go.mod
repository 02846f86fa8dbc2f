module github.com/wirestream/wirestream

go 1.26.0

require github.com/segmentio/encoding v0.5.4

require (
	github.com/segmentio/asm v1.1.3 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)
