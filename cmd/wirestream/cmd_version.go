package main

import (
	"context"
	"fmt"

	"github.com/wirestream/wirestream/internal/buildinfo"
)

func cmdVersion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	fmt.Fprintln(e.stdout, buildinfo.Read())
	return nil
}
