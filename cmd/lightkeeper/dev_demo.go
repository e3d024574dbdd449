package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/demo"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/internal/progress"
)

func init() { register(newDemoCmd) }

func newDemoCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "demo [--valid N] [--keepers N] [--byzantine LIST] [--pool-keys DIR] [--exit] [--replicas N]",
		Short: "run a devnet with Byzantine keepers through real proofs and compute jobs (development)",
		Long: `demo runs a devnet with Byzantine keepers through real gnark proofs (valid
and invalid, 2 schemes × 2 curves), WebAssembly compute jobs, shielded-pool
withdrawals and an epoch turning over, and prints what became of each
request next to what was expected (the script: devtools/demo). Progress
bars go to stderr when it is a terminal; otherwise each phase prints one
line. Run from a terminal, it keeps the first devnet serving at the end
until Ctrl-C, unless --exit.

With --replicas N it runs the replicated demo instead (make
demo-replicated): N replicas of a CometBFT chain as separate 'lightkeeper
node' processes and the keepers spread over them; proofs go in through
replica 0, replica 0 is killed with SIGKILL while the others decide more,
a certificate is read from replica 2 and checked offline, and replica 0
is restarted and rejoins at the others' app hash.`,
		Args: exactArgs(0, ""),
	}
	fs := c.Flags()
	valid := fs.Int("valid", 6, "valid proofs per scheme × curve")
	n := fs.Int("keepers", 10, "keepers")
	byzList := fs.String("byzantine", "approve-all,reject-all,equivocate", "strategies of the Byzantine keepers, comma separated")
	logLevel := fs.String("log-level", "error", "coordinator and keeper log level")
	epochSection := fs.Bool("epoch", true, "end with an epoch turning over: election, rewards, a Byzantine keeper slashed out of the active set")
	computeSection := fs.Bool("compute", true, "also run COMPUTE rounds over the example programs (built with the go command)")
	poolSection := fs.Bool("pool", true, "also run the shielded pool: deposits, and WITHDRAWAL rounds on a demo setup of the pool's keys")
	poolKeys := fs.String("pool-keys", "", "reuse the pool's key pair in `DIR` (pool.pk, pool.vk), making it there on the first run as 'wallet setup --fast --out DIR' does (default: a new demo setup every run)")
	replicas := fs.Int("replicas", 0, "run the replicated demo instead: this many replicas as separate processes (at least 3), one killed with SIGKILL and restarted")
	exit := fs.Bool("exit", false, "stop at the end instead of serving until Ctrl-C (the default when stdin is not a terminal)")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		var byz []byzantine.Strategy
		for _, s := range strings.Split(*byzList, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			st, err := byzantine.ParseStrategy(s)
			if err != nil {
				return usageError{err}
			}
			byz = append(byz, st)
		}
		log, err := newLogger(*logLevel)
		if err != nil {
			return err
		}
		if *replicas != 0 {
			if *replicas < 3 {
				return usagef("--replicas %d: the replicated demo needs at least 3", *replicas)
			}
			bin, err := os.Executable()
			if err != nil {
				return err
			}
			return demo.RunReplicated(cmd.Context(), demo.ReplicatedOptions{
				Binary: bin, Replicas: *replicas, Keepers: *n, Byzantine: byz, Valid: min(*valid, 2), Logger: log,
			}, os.Stdout)
		}
		o := demo.Options{
			Valid: *valid, Keepers: *n, Byzantine: byz, Logger: log,
			Epoch: *epochSection, Compute: *computeSection, Pool: *poolSection, PoolKeys: *poolKeys,
			Progress: os.Stderr,
		}
		if !*exit && progress.IsTerminal(os.Stdin) {
			o.End = demoEnd
		}
		return demo.Run(cmd.Context(), o, os.Stdout)
	}
	return c
}

// demoEnd is the end of an interactive demo: the first devnet keeps
// serving, for a look at it with the other commands (or a browser), until
// Ctrl-C.
func demoEnd(ctx context.Context, d *devnet.Devnet, out io.Writer) error {
	fmt.Fprintf(out, "\nexplorer: %s/explorer/\nthe devnet keeps serving at %s (try: lightkeeper round list --coordinator %s); Ctrl-C to stop\n", d.URL, d.URL, d.URL)
	<-ctx.Done()
	return nil
}
