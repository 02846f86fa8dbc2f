package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/wirestream/wirestream/internal/webhooks"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

func cmdWebhooks(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "webhooks", "[--nats URL] [--webhooks FILE]")
	conn := addConnFlags(fs, e)
	file := fs.String("webhooks", "", "also check this webhooks file and list its hooks that have no consumer yet")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	var hooks []webhooks.Hook
	if *file != "" {
		var err error
		if hooks, err = webhooks.Load(*file, new(wiring.Data), proto.Live(), e.lookupEnv); err != nil {
			return usagef("--webhooks %v", err)
		}
	}
	nc, js, err := conn.connect("wirestream webhooks", nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	states, err := webhooks.List(lctx, js, proto.Live(), hooks)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "WEBHOOK\tCONSUMER\tPENDING\tIN FLIGHT\tREDELIVERED\tLAST SEQ\tLAST ACK\tDEAD LETTERS")
	for _, s := range states {
		cons := "none yet"
		if s.Exists {
			cons = webhooks.ConsumerPrefix + s.Name
		}
		last := "-"
		if !s.LastActive.IsZero() {
			last = s.LastActive.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%d\n", s.Name, cons, s.Pending, s.InFlight, s.Redelivered, s.LastSeq, last, s.DeadLetters)
	}
	if len(states) == 0 {
		fmt.Fprintln(w, "(no webhooks: start one with wirestream run --webhooks FILE)")
	}
	return w.Flush()
}
