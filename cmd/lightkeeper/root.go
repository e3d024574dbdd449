package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// CoordinatorEnv is the environment default of every --coordinator flag
// that talks to a running coordinator.
const CoordinatorEnv = "LIGHTKEEPER_COORDINATOR"

// defaultCoordinator is --coordinator's default without $LIGHTKEEPER_COORDINATOR.
const defaultCoordinator = "http://127.0.0.1:8080"

// envAnnotation marks the flags that take their default from an
// environment variable (read after parsing, so -h shows the built-in
// default and the golden usage files do not depend on the environment).
const envAnnotation = "lightkeeper_env"

// commands are the constructors of the root's sub-commands, added by each
// cmd_*.go (and dev_*.go) file's init. A constructor builds a fresh
// command each time, so tests can build as many trees as they like.
var commands []func() *cobra.Command

func register(newCmd func() *cobra.Command) { commands = append(commands, newCmd) }

// usageError marks errors caused by how the command was called (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// newRoot builds the whole command tree.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "lightkeeper",
		Short: "run and use a Lightkeeper network: coordinators, keepers, rounds, the economy, the shielded pool",
		Long: `lightkeeper runs coordinators and keepers, submits work, inspects rounds,
checks certificates offline and signs economy transactions.

Commands that talk to a coordinator take --coordinator URL (default: $` + CoordinatorEnv + `,
else ` + defaultCoordinator + `) and --ca FILE for https URLs; those that print records
take --json; those that sign take --key FILE. Shell completion:
'lightkeeper completion bash|zsh|fish -h'.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0], "command")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			_ = cmd.Usage()
			return usageError{errors.New("a command is required")}
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnvDefaults(cmd.Flags()); err != nil {
				return err
			}
			if _, err := apiClient(); err != nil {
				return usageError{err}
			}
			return nil
		},
		SilenceErrors:              true,
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
	}
	root.PersistentFlags().StringVar(&caFile, "ca", "", "PEM file of a CA to trust for https coordinator URLs, besides the system's (default $"+CAEnv+")")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{flagSuggestion(cmd, err)}
	})
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
}

// run executes args and returns the exit status: 0, 1 for a failure, 2
// for a usage error (unknown command or flag, missing or bad argument).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	name := "lightkeeper"
	if cmd != nil && cmd != root {
		name = cmd.CommandPath()
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Run '%s -h' for usage.\n", name)
		return 2
	}
	return 1
}

// group returns a command that only holds sub-commands: called alone or
// with an unknown one, it is a usage error naming the choices. noun names
// what the sub-commands are ("transaction kind", "query").
func group(use, short, long, noun string, children ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use: use, Short: short, Long: long,
		Args:                       cobra.ArbitraryArgs,
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				var names []string
				for _, s := range cmd.Commands() {
					if s.IsAvailableCommand() {
						names = append(names, s.Name())
					}
				}
				return usagef("%s needs a %s: %s", cmd.CommandPath(), noun, strings.Join(names, ", "))
			}
			return unknownCommand(cmd, args[0], noun)
		},
	}
	c.AddCommand(children...)
	return c
}

func unknownCommand(cmd *cobra.Command, name, noun string) error {
	msg := fmt.Sprintf("unknown %s %q for %q", noun, name, cmd.CommandPath())
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{errors.New(msg)}
}

// flagSuggestion adds to pflag's "unknown flag: --x" the flags of cmd
// that x is probably a misspelling of.
func flagSuggestion(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	var near []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && (distance(name, f.Name) <= 2 || strings.HasPrefix(f.Name, name)) {
			near = append(near, "--"+f.Name)
		}
	})
	if len(near) == 0 {
		return err
	}
	return fmt.Errorf("%w; did you mean %s?", err, strings.Join(near, " or "))
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// applyEnvDefaults sets every flag marked with envAnnotation that was not
// given from its environment variable, when that is set.
func applyEnvDefaults(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		env := f.Annotations[envAnnotation]
		if f.Changed || len(env) == 0 || err != nil {
			return
		}
		if v := os.Getenv(env[0]); v != "" {
			if serr := f.Value.Set(v); serr != nil {
				err = usagef("$%s: %v", env[0], serr)
			}
		}
	})
	return err
}

// coordinatorFlag is the --coordinator flag of the commands that talk to a
// running coordinator.
func coordinatorFlag(fs *pflag.FlagSet, usage string) *string {
	if usage == "" {
		usage = "coordinator URL"
	}
	p := fs.String("coordinator", defaultCoordinator, usage+" (or $"+CoordinatorEnv+")")
	_ = fs.SetAnnotation("coordinator", envAnnotation, []string{CoordinatorEnv})
	return p
}

// jsonFlag is the --json flag of the commands that print a record.
func jsonFlag(fs *pflag.FlagSet, usage string) *bool {
	if usage == "" {
		usage = "print one JSON object"
	}
	return fs.Bool("json", false, usage)
}

// keyFlag is the --key flag of the commands that sign or name an account
// by its key file.
func keyFlag(fs *pflag.FlagSet, usage string) *string {
	return fs.String("key", "", usage)
}

// exactArgs is cobra.ExactArgs with the names of the arguments in its
// error, as a usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			if n == 0 {
				return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
			}
			return usagef("%s takes %s", cmd.CommandPath(), names)
		}
		return nil
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
