// Command wirestream runs the wirestream pipeline and talks to it: run the
// stages (on an embedded NATS server by default), ingest files, tail
// enriched stories, enrich files offline, and print subjects to subscribe to.
//
// Usage: wirestream <command> [flags]; wirestream <command> --help.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/wirestream/wirestream/proto"
)

// errUsage marks a wrong-usage error: exit status 2.
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (e usageError) Error() string   { return e.msg }
func (e usageError) Is(t error) bool { return t == errUsage }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// interrupted is a command stopped by SIGINT or SIGTERM before it was
// done: one line saying where it stands, exit status 130 (as a shell
// reports a process ended by SIGINT).
type interrupted struct{ msg string }

func (e interrupted) Error() string { return e.msg }

type command struct {
	name, summary string
	run           func(ctx context.Context, env *env, args []string) error
}

// env is the process environment a command sees (swapped in tests).
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// lookupEnv is getenv for ${VAR} expansion: an empty variable counts as unset.
func (e *env) lookupEnv(k string) (string, bool) {
	v := e.getenv(k)
	return v, v != ""
}

func commands() []command {
	return []command{
		{"run", "run pipeline stages (on an embedded NATS server unless --nats is given)", cmdRun},
		{"ingest", "publish story files (or stdin) to the pipeline", cmdIngest},
		{"tail", "print enriched stories as ninjs JSON lines, by region or topic", cmdTail},
		{"enrich", "run the stages offline over files (or stdin), no NATS", cmdEnrich},
		{"webhooks", "list the webhooks' delivery state (pending, in flight, dead letters)", cmdWebhooks},
		{"subjects", "print the NATS subject of a region or topic", cmdSubjects},
		{"feeds", "print the state of each polled feed (last poll, last item, error, lease holder)", cmdFeeds},
		{"replay", "re-run stories from the history or from archives through the current stages", cmdReplay},
		{"diff", "compare a replay namespace's enriched output with the live output or another namespace", cmdDiff},
		{"namespaces", "list replay namespaces with their size and age; --drop NAME deletes one", cmdNamespaces},
		{"bench", "measure relay ceiling, pipeline, latency and enrich throughput on an embedded server", cmdBench},
		{"version", "print the version, commit and the Go and NATS versions built in", cmdVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, e, args[1:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, new(interrupted)):
				fmt.Fprintf(e.stderr, "wirestream %s: %v\n", c.name, err)
				return 130
			case errors.Is(err, errUsage):
				fmt.Fprintf(e.stderr, "wirestream %s: %s (see wirestream %s --help)\n", c.name, proto.Printable(err.Error()), c.name)
				return 2
			default:
				fmt.Fprintf(e.stderr, "wirestream %s: %s\n", c.name, proto.Printable(err.Error()))
				return 1
			}
		}
	}
	fmt.Fprintf(e.stderr, "wirestream: unknown command %q (see wirestream --help)\n", args[0])
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "wirestream: an event-driven stream processor for news wire stories on NATS JetStream.")
	fmt.Fprintln(w, "\nUsage: wirestream <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'wirestream <command> --help' for the flags of a command.")
}

// newFlags returns a flag set whose errors are usage errors and whose
// --help prints a one-line synopsis and the flags.
func newFlags(e *env, name, synopsis string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // errors are reported in one line by run
	return &flags{FlagSet: fs, help: func() {
		fmt.Fprintf(e.stdout, "Usage: wirestream %s %s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}}
}

// flags is a command's flag set and its --help printer. Flags and
// arguments may be interleaved (replay --from-files a.jsonl --into x); "--"
// ends the flags.
type flags struct {
	*flag.FlagSet
	help func()
	args []string
}

// Args, NArg and Arg are the positional arguments, wherever they stood.
func (f *flags) Args() []string { return f.args }
func (f *flags) NArg() int      { return len(f.args) }
func (f *flags) Arg(i int) string {
	if i < len(f.args) {
		return f.args[i]
	}
	return ""
}

// parse parses flags; --help prints usage and returns flag.ErrHelp.
func parse(fs *flags, args []string) error {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.help()
				return flag.ErrHelp
			}
			return usagef("%s", err.Error())
		}
		args = fs.FlagSet.Args()
		if len(args) == 0 {
			break
		}
		fs.args = append(fs.args, args[0])
		args = args[1:]
	}
	fs.args = append(fs.args, rest...)
	return nil
}
