package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/dedupe"
	"github.com/wirestream/wirestream/stages/ingest"
	"github.com/wirestream/wirestream/stages/publish"
)

// Offline is the pipeline's chain of stages run in-process, without NATS:
// the same stage code as the live pipeline, with dedupe state in memory.
type Offline struct {
	ingest  *ingest.Stage
	dedupe  *dedupeHandler
	tag     pipeline.Handler
	publish *publish.Stage
	seq     uint64
}

// NewOffline builds the offline chain.
func NewOffline(cfg Config) (*Offline, error) {
	in, err := ingest.New(ingest.Config{MaxBytes: cfg.MaxBytes})
	if err != nil {
		return nil, err
	}
	dd, err := newOfflineDedupe(cfg)
	if err != nil {
		return nil, err
	}
	tg, err := Tagger()
	if err != nil {
		return nil, err
	}
	return &Offline{ingest: in, dedupe: dd, tag: tg, publish: publish.New(cfg.Names)}, nil
}

// Result is one story as it leaves the offline chain: after the last stage
// it reached, and whether the pipeline would publish it (false for
// duplicates, near-duplicates and stale versions, which go to the audit
// subject).
type Result struct {
	Story     *proto.Story
	Published bool
}

// Process runs one raw input (one story; several for a NewsML-G2 message)
// through every stage. A rejected input returns the ingest error.
func (o *Offline) Process(ctx context.Context, data []byte, m proto.RawMeta) ([]Result, error) {
	o.seq++
	if m.Seq == 0 {
		m.Seq = o.seq
	}
	if m.Received == 0 {
		m.Received = proto.FromTime(time.Now())
	}
	stories, err := o.ingest.HandleRaw(ctx, data, m)
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(stories))
	for _, s := range stories {
		r, err := o.process(ctx, s)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

func (o *Offline) process(ctx context.Context, s *proto.Story) (Result, error) {
	for _, h := range []pipeline.Handler{o.dedupe, o.tag, o.publish} {
		outs, err := h.Handle(ctx, s)
		if err != nil {
			return Result{Story: s}, err
		}
		if len(outs) == 0 {
			return Result{Story: s}, nil
		}
		s = outs[0]
		if h == o.dedupe && !Republished(s) {
			return Result{Story: s}, nil
		}
	}
	return Result{Story: s, Published: true}, nil
}

// Close closes the stages.
func (o *Offline) Close(ctx context.Context) error {
	for _, h := range []pipeline.Handler{o.dedupe, o.tag, o.publish} {
		if err := h.Close(ctx); err != nil {
			return err
		}
	}
	return nil
}

// EnrichResult counts what Enrich did.
type EnrichResult struct {
	Inputs, Published, Audited, Rejected int
}

// Enrich runs the offline chain over inputs and writes one ninjs JSON line
// per story the pipeline would publish, or with all one line per accepted
// input in input order, each with its dedupe decision. Rejected inputs are
// reported on report with file:line and reason.
//
// With explain, the evidence behind each printed story's tags follows it on
// report.
func Enrich(ctx context.Context, cfg Config, inputs []Input, all, explain bool, out, report io.Writer) (EnrichResult, error) {
	var res EnrichResult
	o, err := NewOffline(cfg)
	if err != nil {
		return res, err
	}
	defer o.Close(ctx)
	maxBytes := cfg.MaxBytes
	if maxBytes == 0 {
		maxBytes = ingest.DefaultMaxBytes
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	w := bufio.NewWriterSize(out, 64<<10)
	defer w.Flush()

	// Parsing and tagging are pure and run on every core; dedupe decides
	// one story at a time in input order, so the decisions are those of a
	// sequential run. Tags are computed ahead for every story and applied
	// only to those dedupe passes, as in the pipeline, where audited
	// stories are never tagged.
	type job struct {
		idx    int
		origin string
		rec    ingest.Record
		err    error // a file that could not be split
	}
	type done struct {
		job
		stories  []*proto.Story
		tagged   []*proto.Story
		prepared []*dedupe.Prepared
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, 64*workers)
	results := make(chan done, 64*workers)
	go func() {
		defer close(jobs)
		idx := 0
		for _, in := range inputs {
			err := ingest.Split(in.R, maxBytes, func(rec ingest.Record) error {
				select {
				case jobs <- job{idx: idx, origin: in.Name + ":" + strconv.Itoa(rec.Line), rec: rec}:
					idx++
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			if err != nil && ctx.Err() == nil {
				select {
				case jobs <- job{idx: idx, origin: in.Name, err: err}:
					idx++
				case <-ctx.Done():
				}
			}
		}
	}()
	var wg sync.WaitGroup
	received := proto.FromTime(time.Now())
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				d := done{job: j}
				if j.err == nil {
					d.stories, d.err = o.ingest.HandleRaw(ctx, j.rec.Data, proto.RawMeta{Format: j.rec.Format, Source: "file",
						Origin: j.origin, Seq: uint64(j.idx + 1), Received: received})
					for _, s := range d.stories {
						d.prepared = append(d.prepared, o.dedupe.d.Prepare(s))
						t := s.Clone()
						if _, err := o.tag.Handle(ctx, t); err != nil {
							d.err = err
						}
						d.tagged = append(d.tagged, t)
					}
				}
				select {
				case results <- d:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	var buf []byte
	emit := func(d done) error {
		if d.rec.Data == nil && d.err != nil { // a file that could not be split
			res.Rejected++
			fmt.Fprintf(report, "%s: %v\n", d.origin, d.err)
			return nil
		}
		res.Inputs++
		if d.err != nil {
			res.Rejected++
			fmt.Fprintf(report, "%s: rejected: %v\n", d.origin, trimOrigin(d.err, d.origin))
			return nil
		}
		for i, s := range d.stories {
			outs, err := o.dedupe.handlePrepared(ctx, s, d.prepared[i])
			if err != nil {
				return fmt.Errorf("%s: dedupe: %w", d.origin, err)
			}
			s = outs[0]
			published := Republished(s)
			if published {
				s.Place, s.Subject = d.tagged[i].Place, d.tagged[i].Subject
				if _, err := o.publish.Handle(ctx, s); err != nil {
					return fmt.Errorf("%s: %w", d.origin, err)
				}
				res.Published++
			} else {
				res.Audited++
			}
			if !published && !all {
				continue
			}
			if buf, err = proto.AppendJSON(buf[:0], s); err != nil {
				return err
			}
			buf = append(buf, '\n')
			if _, err = w.Write(buf); err != nil {
				return err
			}
			if explain && published {
				t, err := Tagger()
				if err != nil {
					return err
				}
				if err := w.Flush(); err != nil {
					return err
				}
				WriteExplanation(report, s, t.Explain(s))
			}
		}
		return nil
	}
	pending := map[int]done{}
	next := 0
	for d := range results {
		pending[d.idx] = d
		for {
			d, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := emit(d); err != nil {
				cancel()
				for range results {
				}
				return res, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, w.Flush()
}

// trimOrigin drops the origin an ingest error already carries, so that it
// is not printed twice.
func trimOrigin(err error, origin string) string {
	msg := err.Error()
	if len(msg) > len(origin)+2 && msg[:len(origin)] == origin {
		return msg[len(origin)+2:]
	}
	return msg
}

// Ingest runs the ingest stage alone on one raw story.
func (o *Offline) Ingest(ctx context.Context, data []byte, m proto.RawMeta) (*proto.Story, error) {
	outs, err := o.ingest.HandleRaw(ctx, data, m)
	if err != nil {
		return nil, err
	}
	return outs[0], nil
}

// Stage runs one story stage (dedupe, tag, publish) on s in place; for
// publish it also computes the node subjects, as the fan-out does.
func (o *Offline) Stage(ctx context.Context, name string, s *proto.Story) error {
	var h pipeline.Handler
	switch name {
	case proto.StageDedupe:
		h = o.dedupe
	case proto.StageTag:
		h = o.tag
	case proto.StagePublish:
		h = o.publish
		_ = o.publish.Nodes(s)
	default:
		return fmt.Errorf("no story stage %q", name)
	}
	_, err := h.Handle(ctx, s)
	return err
}
