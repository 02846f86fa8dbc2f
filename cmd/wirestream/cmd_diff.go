package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/internal/replay"
	"github.com/wirestream/wirestream/proto"
)

func cmdDiff(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "diff", "[--nats URL] --namespace NAME [--against live|NAME2] [--threshold N] [--json]")
	conn := addConnFlags(fs, e)
	namespace := fs.String("namespace", "", "the replay namespace to compare (replay --into NAME)")
	against := fs.String("against", "live", "what to compare it with: live, or another namespace")
	threshold := fs.Int("threshold", 10, "smallest relevance move (of 100) reported for a place or topic both sides have")
	asJSON := fs.Bool("json", false, "one JSON line per changed story on stdout (the summary still goes to stderr)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *namespace == "" {
		return usagef("--namespace NAME is required")
	}
	if *threshold < 1 || *threshold > 100 {
		return usagef("--threshold %d: 1 to 100", *threshold)
	}
	a, err := proto.Namespace(*namespace)
	if err != nil {
		return usagef("--namespace: %v", err)
	}
	b := proto.Live()
	if *against != "live" {
		if b, err = proto.Namespace(*against); err != nil {
			return usagef("--against: %v", err)
		}
	}
	if a == b {
		return usagef("--namespace and --against name the same output")
	}
	nc, js, err := conn.connect("wirestream diff", nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	enc := json.NewEncoder(e.stdout)
	sum, err := replay.Diff(ctx, js, replay.DiffConfig{A: a, B: b, Threshold: *threshold}, func(c replay.Change) error {
		if *asJSON {
			return enc.Encode(c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	w := e.stderr
	if !*asJSON {
		w = e.stdout
	}
	fmt.Fprintf(w, "diff %s against %s: %d stories there, %d here; %d on both sides, %d changed\n",
		*namespace, *against, sum.StoriesA, sum.StoriesB, sum.Compared, sum.Changed)
	kinds := make([]string, 0, len(sum.Kinds))
	for k := range sum.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-16s %d stories\n", k, sum.Kinds[k])
	}
	if top := replay.Top(sum.Gained, 10); len(top) > 0 {
		fmt.Fprintf(w, "  gained most:     %s\n", strings.Join(top, ", "))
	}
	if top := replay.Top(sum.Lost, 10); len(top) > 0 {
		fmt.Fprintf(w, "  lost most:       %s\n", strings.Join(top, ", "))
	}
	return nil
}

func cmdNamespaces(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "namespaces", "[--nats URL] [--drop NAME]")
	conn := addConnFlags(fs, e)
	drop := fs.String("drop", "", "delete the replay namespace NAME (its streams, dedupe state and checkpoint) and exit")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *drop != "" {
		if _, err := proto.Namespace(*drop); err != nil {
			return usagef("--drop: %v", err)
		}
	}
	nc, js, err := conn.connect("wirestream namespaces", nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	if *drop != "" {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := replay.Drop(dctx, js, proto.Live(), *drop); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "namespaces: %s dropped\n", *drop)
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	list, err := replay.Namespaces(lctx, js, proto.Live())
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stderr, "no replay namespaces (wirestream replay --into NAME makes one)")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tRAW\tPUBLISHED\tAUDITED\tDEAD LETTERS\tSIZE\tAGE\tSTATE")
	for _, n := range list {
		state := "done"
		if n.Interrupted {
			state = "running, or interrupted (replay --resume)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f MB\t%s\t%s\n", n.Name, n.Raw, n.Published, n.Audited, n.DeadLettered,
			float64(n.Bytes)/1e6, time.Since(n.Created).Round(time.Second), state)
	}
	return tw.Flush()
}
