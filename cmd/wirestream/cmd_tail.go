package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

func cmdTail(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "tail", "[--nats URL] [--region CODES] [--topic CODES] [--urgency N] [--language TAGS] [--status new,update,kill] [--city NAME|GEONAMES_ID] [--durable NAME [--delete]] [--count N] [--from-start | --since RFC3339]")
	conn := addConnFlags(fs, e)
	region := fs.String("region", "", "regions, comma-separated: ISO 3166-1 alpha-2 (UZ), UN M49 code (143) or name (central-asia); any of them matches")
	topic := fs.String("topic", "", "topics, comma-separated: IPTC Media Topic code (medtop:11000000) or label (politics); any of them matches")
	urgency := fs.Int("urgency", 0, "only stories of at most this urgency, 1 (most urgent) to 9 (0: any)")
	language := fs.String("language", "", "languages, comma-separated BCP 47 tags (en matches en-GB too)")
	status := fs.String("status", "", "statuses, comma-separated: new, update, kill")
	durable := fs.String("durable", "", "read with this named durable consumer: created on first use, resumed where it stopped; each story acknowledged once printed")
	del := fs.Bool("delete", false, "with --durable: delete that consumer and exit")
	city := fs.String("city", "", "city: GeoNames id (1216265), name (Samarkand) or name with country or state (\"Paris, Texas\"); combines with the other filters")
	count := fs.Int("count", 0, "stop after N stories (0: run until interrupted)")
	fromStart := fs.Bool("from-start", false, "start from the oldest retained story")
	since := fs.String("since", "", "start from this time (RFC 3339)")
	format := fs.String("format", "ninjs1", "output format, one JSON object a line: "+strings.Join(proto.RenderFormats, ", "))
	namespace := fs.String("namespace", "", "read an isolated namespace (replay --into NAME) instead of the live output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *fromStart && *since != "" {
		return usagef("give --from-start or --since, not both")
	}
	if *count < 0 {
		return usagef("--count %d is negative", *count)
	}
	if *del && *durable == "" {
		return usagef("--delete needs --durable NAME")
	}
	if *durable != "" && proto.Token(*durable) != *durable {
		return usagef("--durable %q: letters, digits, '-' and '_' only", *durable)
	}
	if !slices.Contains(proto.RenderFormats, *format) {
		return usagef("--format %q: one of %s", *format, strings.Join(proto.RenderFormats, ", "))
	}
	names, err := proto.Namespace(*namespace)
	if err != nil {
		return usagef("--namespace: %v", err)
	}
	cfg := pipeline.SubscribeConfig{Names: names, FromStart: *fromStart, Durable: *durable}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return usagef("--since %q is not RFC 3339 (2006-01-02T15:04:05Z)", *since)
		}
		cfg.Since = t
	}
	data := new(wiring.Data)
	for _, r := range splitList(*region) {
		tok, err := proto.RegionToken(r)
		if err != nil {
			subj, _, lerr := data.RegionSubject(names, r)
			if lerr != nil {
				return usagef("--region: %v", lerr)
			}
			tok = strings.TrimPrefix(subj, names.Region(""))
		}
		cfg.Filter.Regions = append(cfg.Filter.Regions, tok)
	}
	for _, tp := range splitList(*topic) {
		tok, err := proto.TopicToken(tp)
		if err != nil {
			subj, _, lerr := data.TopicSubject(names, tp)
			if lerr != nil {
				return usagef("--topic: %v", lerr)
			}
			tok = strings.TrimPrefix(subj, names.Topic(""))
		}
		cfg.Filter.Topics = append(cfg.Filter.Topics, proto.SchemeMedTop+":"+tok)
	}
	cfg.Filter.MaxUrgency = *urgency
	cfg.Filter.Languages = splitList(*language)
	for _, st := range splitList(*status) {
		cfg.Filter.Statuses = append(cfg.Filter.Statuses, strings.ToLower(st))
	}
	if err := cfg.Filter.Validate(); err != nil {
		return usagef("%s", strings.TrimPrefix(err.Error(), pipeline.ErrConfig.Error()+": "))
	}
	if *city != "" {
		if cfg.Subject, _, err = data.CitySubject(names, *city); err != nil {
			return usagef("--city: %v", err)
		}
	}
	nc, js, err := conn.connect("wirestream tail", nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	if *del {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := pipeline.DeleteDurable(dctx, js, names, *durable); err != nil {
			if errors.Is(err, jetstream.ErrConsumerNotFound) {
				return fmt.Errorf("no durable %q on %s", *durable, names.OutStream())
			}
			return err
		}
		fmt.Fprintf(e.stderr, "deleted durable %s on %s\n", *durable, names.OutStream())
		return nil
	}
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	n := 0
	var buf []byte
	err = pipeline.Subscribe(ctx, js, cfg, func(d pipeline.Delivery) error {
		buf, err = proto.Render(buf[:0], d.Story, *format)
		if err != nil {
			return err
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
		// Flushed before the story is acknowledged (--durable) and so a
		// watcher sees it at once.
		if err := w.Flush(); err != nil {
			return err
		}
		n++
		if *count > 0 && n >= *count {
			return pipeline.ErrStop
		}
		return nil
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("no output stream %s on the server: is 'wirestream run' running there? (%w)", names.OutStream(), err)
	}
	return err
}
