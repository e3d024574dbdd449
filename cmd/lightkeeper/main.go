// Command lightkeeper is the one CLI of the network: it runs coordinators,
// keepers and devnets, submits work, inspects rounds and checks
// certificates offline.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

// usageError marks errors caused by how the command was called (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// shutdownGrace is how long a command may take to shut down after SIGTERM
// or an interrupt. Shutting down cancels every context, which stops
// servers, keepers and compute runs (a compile nobody waits for is
// abandoned); whatever still holds the process after this long (a compile
// inside one function, a stuck handler) does not get to keep it: the
// process exits with status 1. The chain loses nothing: every block is
// synced before it is acknowledged.
const shutdownGrace = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go exitAfterGrace(ctx, stop, shutdownGrace, os.Stderr)
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// exitAfterGrace exits the process grace after ctx ends (the first
// signal). It also restores the signals' default action, so a second
// SIGTERM or interrupt ends the process at once.
func exitAfterGrace(ctx context.Context, stop context.CancelFunc, grace time.Duration, stderr io.Writer) {
	<-ctx.Done()
	stop()
	time.Sleep(grace)
	fmt.Fprintf(stderr, "lightkeeper: still shutting down %v after the signal; exiting\n", grace)
	os.Exit(1)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "lightkeeper: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
	if err := cmd.run(ctx, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "lightkeeper %s: %v\n", args[0], err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: lightkeeper <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'lightkeeper <command> -h' for a command's flags.")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&caFile, "ca", "", "PEM file of a CA to trust for https coordinator URLs, besides the system's (default $"+CAEnv+")")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: lightkeeper %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses flags placed before or after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			if _, err := apiClient(); err != nil {
				return nil, usageError{err}
			}
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// newLogger returns a text logger on stderr at the given level name.
func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, usagef("--log-level: %v", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
