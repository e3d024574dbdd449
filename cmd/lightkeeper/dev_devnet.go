package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/replicanet"
)

func init() { register(newDevnetCmd) }

func newDevnetCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "devnet [--keepers N] [--byzantine N --byzantine-strategy S] [--wasm-keepers N [--wasm FILE]] [--replicas N]",
		Short: "run a coordinator and keepers in one process (development)",
		Args:  exactArgs(0, ""),
	}
	fs := c.Flags()
	listen := fs.String("listen", "127.0.0.1:8080", "coordinator address")
	data := fs.String("data", "", "directory for keys, genesis and data (temporary when empty)")
	n := fs.Int("keepers", 10, "keepers to run")
	byz := fs.Int("byzantine", 0, "how many of them are Byzantine")
	strategy := fs.String("byzantine-strategy", string(byzantine.ApproveAll), "approve-all, reject-all, random, silent, equivocate or wrong-output")
	nwasm := fs.Int("wasm-keepers", 0, "how many of them (the first ones) check tasks in the wasip1 module under wazero")
	wf := wasmFlags(fs)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	poolVK := fs.String("pool-vk", "", "enable the shielded pool with this verifying key (from 'wallet setup'); a new chain only")
	replicas := fs.Int("replicas", 0, "run a replicated devnet instead: this many replicas of a CometBFT chain as separate 'lightkeeper node' processes, the keepers spread over them (--data keeps their homes)")
	poolBalance := fs.Uint64("pool-balance", 1_000_000, "with --pool-vk: the genesis balance of every keeper key, to deposit from")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		log, err := newLogger(*logLevel)
		if err != nil {
			return err
		}
		var poolKey []byte
		if *poolVK != "" {
			if poolKey, err = os.ReadFile(*poolVK); err != nil {
				return err
			}
		}
		st, err := byzantine.ParseStrategy(*strategy)
		if err != nil {
			return usageError{err}
		}
		if *byz < 0 || *byz > *n {
			return usagef("--byzantine %d: want 0..%d", *byz, *n)
		}
		if *replicas != 0 {
			if *replicas < 1 || *nwasm != 0 || poolKey != nil {
				return usagef("--replicas %d: want 1 or more, without --wasm-keepers or --pool-vk", *replicas)
			}
			return runReplicatedDevnet(ctx, *data, *replicas, *n, slices.Repeat([]byzantine.Strategy{st}, *byz), log)
		}
		if *nwasm < 0 || *nwasm > *n {
			return usagef("--wasm-keepers %d: want 0..%d", *nwasm, *n)
		}
		opts := devnet.Options{
			Dir: *data, Listen: *listen, Keepers: *n, Byzantine: slices.Repeat([]byzantine.Strategy{st}, *byz), Logger: log,
		}
		if poolKey != nil {
			opts.Genesis = devnet.PoolGenesis(poolKey, *poolBalance)
		}
		if *nwasm > 0 {
			// One host (one compiled module, pooled instances) serves every
			// wasm keeper.
			h, err := wf.open(ctx, log)
			if err != nil {
				return err
			}
			defer h.Close(context.WithoutCancel(ctx))
			opts.WasmKeepers, opts.WasmEngine = *nwasm, h.Engine()
		}
		d, err := devnet.Start(ctx, opts)
		if err != nil {
			return err
		}
		if err := d.WaitOnline(ctx, *n, 30*time.Second); err != nil {
			d.Close()
			return err
		}
		fmt.Printf("devnet ready: %s (chain %s, %d keepers, %d %s, %d wasm; data in %s)\n", d.URL, d.Genesis.GetChainId(), *n, *byz, st, *nwasm, d.Dir)
		<-ctx.Done()
		return d.Close()
	}
	return c
}

// runReplicatedDevnet runs replicanet until ctx is done: it prints every
// replica's API, process id and the command that restarts it, so that a
// user can kill one and bring it back (README, "A replicated devnet").
func runReplicatedDevnet(ctx context.Context, dir string, replicas, keepers int, byz []byzantine.Strategy, log *slog.Logger) error {
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	n, err := replicanet.Start(ctx, replicanet.Options{Binary: bin, Dir: dir, Replicas: replicas, Keepers: keepers, Byzantine: byz, Logger: log})
	if err != nil {
		return err
	}
	if err := n.WaitOnline(ctx, 0, keepers, time.Minute); err != nil {
		n.Close()
		return err
	}
	fmt.Printf("replicated devnet ready: chain %s, %d keepers (%d Byzantine), data in %s\n", n.Genesis.GetChainId(), keepers, len(byz), n.Dir)
	// One line per replica, every field "name value", so that the README
	// walkthrough (and its test, tests/walkthrough_test.go) can read them.
	for i, u := range n.URLs {
		fmt.Printf("  replica %d  api %s  pid %d  home %s  log %s.log\n", i, u, n.Pid(i), n.Home(i), n.Home(i))
	}
	fmt.Printf("restart a stopped replica: %s node --home %s\n", bin, filepath.Join(n.Dir, "replica-N"))
	fmt.Printf("compare the replicas: %s query chain --coordinator %s\n", bin, strings.Join(n.URLs, ","))
	<-ctx.Done()
	return n.Close()
}
