package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

func cmdTail(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tail", "[--nats URL] [--region CODE | --topic CODE | --city NAME|GEONAMES_ID] [--count N] [--from-start | --since RFC3339]")
	conn := addConnFlags(fs, e)
	region := fs.String("region", "", "region: ISO 3166-1 alpha-2 (UZ), UN M49 code (143) or name (central-asia)")
	topic := fs.String("topic", "", "IPTC Media Topic code (medtop:11000000) or label (politics)")
	city := fs.String("city", "", "city: GeoNames id (1216265), name (Samarkand) or name with country or state (\"Paris, Texas\")")
	count := fs.Int("count", 0, "stop after N stories (0: run until interrupted)")
	fromStart := fs.Bool("from-start", false, "start from the oldest retained story")
	since := fs.String("since", "", "start from this time (RFC 3339)")
	namespace := fs.String("namespace", "", "read an isolated namespace (replay --into NAME) instead of the live output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if n := btoi(*region != "") + btoi(*topic != "") + btoi(*city != ""); n > 1 {
		return usagef("give one of --region, --topic and --city, not several")
	}
	if *fromStart && *since != "" {
		return usagef("give --from-start or --since, not both")
	}
	if *count < 0 {
		return usagef("--count %d is negative", *count)
	}
	names, err := proto.Namespace(*namespace)
	if err != nil {
		return usagef("--namespace: %v", err)
	}
	cfg := pipeline.SubscribeConfig{Names: names, FromStart: *fromStart}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return usagef("--since %q is not RFC 3339 (2006-01-02T15:04:05Z)", *since)
		}
		cfg.Since = t
	}
	switch {
	case *region != "":
		if cfg.Subject, _, err = new(wiring.Data).RegionSubject(names, *region); err != nil {
			return usagef("%v", err)
		}
	case *topic != "":
		if cfg.Subject, _, err = new(wiring.Data).TopicSubject(names, *topic); err != nil {
			return usagef("%v", err)
		}
	case *city != "":
		if cfg.Subject, _, err = new(wiring.Data).CitySubject(names, *city); err != nil {
			return usagef("%v", err)
		}
	}
	nc, js, err := conn.connect("wirestream tail", nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	n := 0
	var buf []byte
	err = pipeline.Subscribe(ctx, js, cfg, func(d pipeline.Delivery) error {
		buf, err = proto.AppendJSON(buf[:0], d.Story)
		if err != nil {
			return err
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
		n++
		if *count > 0 && n >= *count {
			return pipeline.ErrStop
		}
		// Flush when nothing else is waiting, so a watcher sees stories at once.
		return w.Flush()
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("no output stream %s on the server: is 'wirestream run' running there? (%w)", names.OutStream(), err)
	}
	return err
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
