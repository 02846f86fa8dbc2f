package enrich

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// Options choose what Run prints.
type Options struct {
	// All prints one line per accepted input story, in input order, with
	// its dedupe decision, not only the stories the pipeline would publish.
	All bool
	// Explain prints, after each published story, on the report writer,
	// why it got its places and topics.
	Explain bool
	// Workers runs the pure stages on this many goroutines each (default
	// GOMAXPROCS).
	Workers int
}

// Result counts what Run did.
type Result struct {
	Inputs, Published, Audited, Rejected int
}

// Run runs the chain over inputs and writes one ninjs JSON line per story
// the pipeline would publish (with Options.All, per accepted story). Inputs
// the pipeline would dead-letter are reported on report with file:line and
// reason, and counted as rejected.
//
// The pure stages run on every core; a stage marked Ordered (dedupe) sees
// the stories one at a time in input order, so its decisions are those of a
// sequential run and the output is in input order. A stage whose handler
// can do a story's own work ahead (Prepare) has it done by the pure stage
// before it, on every core.
func Run(ctx context.Context, cfg wiring.Config, inputs []fileingest.Input, opts Options, out, report io.Writer) (Result, error) {
	var res Result
	if cfg.Data == nil {
		cfg.Data = new(wiring.Data)
	}
	c, err := NewChain(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer c.Close(ctx)
	maxBytes := cfg.MaxBytes
	if maxBytes == 0 {
		maxBytes = ingest.DefaultMaxBytes
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// The source: one item per raw record, numbered in input order.
	in := make(chan *item, 64*workers)
	go func() {
		defer close(in)
		idx := 0
		send := func(it *item) error {
			it.idx = idx
			idx++
			select {
			case in <- it:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		err := fileingest.Records(inputs, maxBytes, func(origin string, rec ingest.Record) error {
			return send(&item{origin: origin, rec: rec})
		}, func(name string, err error) {
			_ = send(&item{origin: name, splitErr: err})
		})
		if err != nil && ctx.Err() == nil {
			cancel(err)
		}
	}()

	// One step per group of stages: a run of pure stages on workers
	// goroutines, or one ordered stage on one goroutine in input order.
	received := proto.FromTime(time.Now())
	ch := (<-chan *item)(in)
	for _, g := range groups(c) {
		next := make(chan *item, 64*workers)
		var wg sync.WaitGroup
		n := workers
		if g.ordered {
			n = 1
			ch = inOrder(ctx, ch)
		}
		for range n {
			wg.Add(1)
			go func(src <-chan *item) {
				defer wg.Done()
				for it := range src {
					if err := c.run(ctx, it, g, received); err != nil {
						cancel(err)
					}
					select {
					case next <- it:
					case <-ctx.Done():
						return
					}
				}
			}(ch)
		}
		go func() { wg.Wait(); close(next) }()
		ch = next
	}

	w := bufio.NewWriterSize(out, 64<<10)
	var buf []byte
	emit := func(it *item) error {
		if it.splitErr != nil {
			res.Rejected++
			fileingest.Reportf(report, it.origin, "%v", it.splitErr)
			return nil
		}
		res.Inputs++
		for _, r := range it.rejected {
			res.Rejected++
			fileingest.Reportf(report, it.origin, "rejected: %s", trimOrigin(r, it.origin))
		}
		for _, f := range it.final {
			if f.published {
				res.Published++
			} else {
				res.Audited++
			}
			if !f.published && !opts.All {
				continue
			}
			var err error
			if buf, err = proto.AppendJSON(buf[:0], f.s); err != nil {
				return err
			}
			if _, err = w.Write(append(buf, '\n')); err != nil {
				return err
			}
			if opts.Explain && f.published {
				t, err := cfg.Data.Tagger()
				if err != nil {
					return err
				}
				if err := w.Flush(); err != nil {
					return err
				}
				WriteExplanation(report, f.s, t.Explain(f.s))
			}
		}
		return nil
	}
	for it := range inOrder(ctx, ch) {
		if err := emit(it); err != nil {
			cancel(err)
			break
		}
	}
	for range ch { // let the steps finish after an error
	}
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	return res, w.Flush()
}

// item is one raw record on its way through the chain.
type item struct {
	idx      int
	origin   string
	rec      ingest.Record
	splitErr error // the input could not be split into records

	live     []slot  // stories still in the chain
	final    []final // stories that left it, in input order once sorted
	rejected []error // what the pipeline would dead-letter
	prepared []func(context.Context) ([]*proto.Story, error)
}

// slot is a story and its place among the record's stories (a NewsML-G2
// message carries several), so that the output keeps their order.
type slot struct {
	pos int
	s   *proto.Story
}

type final struct {
	pos       int
	s         *proto.Story
	published bool
}

// group is a run of stages [start, end) run by one step.
type group struct {
	start, end int
	ordered    bool
	prepare    preparer // the next group's ordered stage, when it can prepare
}

// preparer is an ordered stage that can do a story's own work ahead, on any
// goroutine (stages/dedupe.Stage.Prepare); finish decides it in order.
type preparer interface {
	Prepare(s *proto.Story) (finish func(ctx context.Context) ([]*proto.Story, error))
}

func groups(c *Chain) []group {
	var gs []group
	for i := 0; i < c.Len(); {
		if c.Spec(i).Ordered {
			gs = append(gs, group{start: i, end: i + 1, ordered: true})
			i++
			continue
		}
		j := i
		for j < c.Len() && !c.Spec(j).Ordered {
			j++
		}
		g := group{start: i, end: j}
		if j < c.Len() {
			g.prepare, _ = c.story[j].(preparer)
		}
		gs = append(gs, g)
		i = j
	}
	return gs
}

// run takes it through the stages of g. An error the input causes
// (permanent, as the runtime classifies them) rejects the story, as the
// pipeline would dead-letter it; any other error is returned and ends the
// run.
func (c *Chain) run(ctx context.Context, it *item, g group, received proto.Time) error {
	if it.splitErr != nil || ctx.Err() != nil {
		return nil
	}
	for i := g.start; i < g.end; i++ {
		spec := c.specs[i]
		if i == 0 {
			stories, err := c.Ingest(ctx, it.rec.Data, proto.RawMeta{Format: it.rec.Format, Source: "file", Origin: it.origin,
				Seq: uint64(it.idx + 1), Received: received})
			if err != nil {
				return c.fail(it, spec, err)
			}
			for k, s := range stories {
				it.live = append(it.live, slot{pos: k, s: s})
			}
			continue
		}
		var live []slot
		for k, sl := range it.live {
			var outs []*proto.Story
			var err error
			if it.prepared != nil && it.prepared[k] != nil {
				outs, err = it.prepared[k](ctx)
			} else {
				outs, err = c.Stage(ctx, i, sl.s)
			}
			if err != nil {
				if ferr := c.fail(it, spec, err); ferr != nil {
					return ferr
				}
				continue
			}
			for _, o := range outs {
				if spec.Forward != nil && !spec.Forward(o) {
					it.final = append(it.final, final{pos: sl.pos, s: o})
					continue
				}
				live = append(live, slot{pos: sl.pos, s: o})
			}
		}
		it.live, it.prepared = live, nil
	}
	if g.prepare != nil {
		it.prepared = make([]func(context.Context) ([]*proto.Story, error), len(it.live))
		for k, sl := range it.live {
			it.prepared[k] = g.prepare.Prepare(sl.s)
		}
	}
	if g.end == c.Len() {
		for _, sl := range it.live {
			it.final = append(it.final, final{pos: sl.pos, s: sl.s, published: true})
		}
		it.live = nil
		slices.SortStableFunc(it.final, func(a, b final) int { return a.pos - b.pos })
	}
	return nil
}

// fail records a story the pipeline would dead-letter, or returns an error
// it would retry (a fault of the chain, not of the input).
func (c *Chain) fail(it *item, spec wiring.Spec, err error) error {
	if proto.IsPermanent(err) {
		it.rejected = append(it.rejected, err)
		return nil
	}
	return fmt.Errorf("%s: %s: %w", it.origin, spec.Name, err)
}

// inOrder passes on the items of src in index order.
func inOrder(ctx context.Context, src <-chan *item) <-chan *item {
	out := make(chan *item, cap(src))
	go func() {
		defer close(out)
		pending := map[int]*item{}
		next := 0
		for it := range src {
			pending[it.idx] = it
			for {
				p, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				select {
				case out <- p:
				case <-ctx.Done():
					for range src {
					}
					return
				}
			}
		}
	}()
	return out
}

// trimOrigin drops the origin an ingest error already carries, so that it
// is not printed twice.
func trimOrigin(err error, origin string) string {
	msg, origin := err.Error(), proto.Printable(origin)
	if len(msg) > len(origin)+2 && msg[:len(origin)] == origin {
		return msg[len(origin)+2:]
	}
	return msg
}
