package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/feeds"
	"github.com/wirestream/wirestream/proto"
)

func cmdFeeds(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "feeds", "[--nats URL]")
	conn := addConnFlags(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	nc, js, err := conn.connect("wirestream feeds", nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, feeds.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return fmt.Errorf("no feed state on %s: no process polls feeds there (wirestream run --feeds FILE)", nc.ConnectedUrlRedacted())
	}
	if err != nil {
		return fmt.Errorf("feeds bucket %s: %w", feeds.Bucket, err)
	}
	states, leases, err := feeds.ReadAll(ctx, kv)
	if err != nil {
		return fmt.Errorf("read feed state: %w", err)
	}
	printFeeds(e, states, leases, time.Now())
	return nil
}

func printFeeds(e *env, states map[string]*feeds.State, leases map[string]feeds.Lease, now time.Time) {
	names := map[string]bool{}
	for n := range states {
		names[n] = true
	}
	for n := range leases {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	ago := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339) + " (" + now.Sub(t).Round(time.Second).String() + " ago)"
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tHOLDER\tLAST POLL\tLAST SUCCESS\tLAST ITEM\tITEMS\tERROR")
	for _, n := range sorted {
		st := states[n]
		if st == nil {
			st = &feeds.State{}
		}
		holder := "-"
		if l, ok := leases[n]; ok && now.Before(l.Expires) {
			holder = l.Holder
		} else if ok {
			holder = "(expired: " + l.Holder + ")"
		}
		errText := "-"
		if st.Error != "" {
			errText = st.ErrorKind + ": " + st.Error
			if len(errText) > 120 {
				errText = errText[:120] + "…"
			}
		}
		last := ago(st.LastItem)
		if st.LastItemID != "" {
			last += " " + st.LastItemID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", proto.Printable(n), proto.Printable(holder), ago(st.LastPoll), ago(st.LastSuccess),
			proto.Printable(last), st.Items, proto.Printable(errText))
	}
	_ = tw.Flush()
}
