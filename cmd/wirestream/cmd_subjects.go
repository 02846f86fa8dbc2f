package main

import (
	"context"
	"fmt"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
)

func cmdSubjects(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "subjects", "--region CODE | --topic CODE | --city NAME|GEONAMES_ID | --all")
	region := fs.String("region", "", "region: ISO 3166-1 alpha-2 (UZ), UN M49 code (143) or name (central-asia)")
	topic := fs.String("topic", "", "IPTC Media Topic code (medtop:11000000) or label (politics)")
	city := fs.String("city", "", "city: GeoNames id (1216265), name (Samarkand) or name with country or state (\"Paris, Texas\")")
	all := fs.Bool("all", false, "the subject carrying every enriched story")
	namespace := fs.String("namespace", "", "an isolated namespace (replay --into NAME)")
	if err := parse(fs, args); err != nil {
		return err
	}
	given := 0
	for _, b := range []bool{*region != "", *topic != "", *city != "", *all} {
		if b {
			given++
		}
	}
	if given != 1 || fs.NArg() > 0 {
		return usagef("give exactly one of --region CODE, --topic CODE, --city NAME, --all")
	}
	names, err := proto.Namespace(*namespace)
	if err != nil {
		return usagef("--namespace: %v", err)
	}
	var subject string
	switch {
	case *all:
		subject = names.OutAll()
	case *region != "":
		if subject, _, err = new(wiring.Data).RegionSubject(names, *region); err != nil {
			return usagef("%v", err)
		}
	case *city != "":
		if subject, _, err = new(wiring.Data).CitySubject(names, *city); err != nil {
			return usagef("%v", err)
		}
	default:
		if subject, _, err = new(wiring.Data).TopicSubject(names, *topic); err != nil {
			return usagef("%v", err)
		}
	}
	fmt.Fprintln(e.stdout, subject)
	return nil
}
