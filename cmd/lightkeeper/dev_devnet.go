package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
)

func init() { register(newDevnetCmd) }

func newDevnetCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "devnet [--keepers N] [--byzantine N --byzantine-strategy S] [--wasm-keepers N [--wasm FILE]]",
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
