package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/coordinator/replica"
)

func init() { register(newNodeCmd) }

func newNodeCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "node --home DIR",
		Short: "run one replica of a replicated chain (in progress, issue #11)",
		Long: `node runs one replica: a CometBFT node with the Lightkeeper state machine
as its ABCI application, from a home 'lightkeeper testnet init' wrote. It
replays the blocks after its last committed one, then takes part in
consensus until interrupted. It does not serve the Connect API yet.`,
		Args: exactArgs(0, ""),
	}
	home := c.Flags().String("home", "", "the replica's CometBFT home (required)")
	logLevel := c.Flags().String("log-level", "info", "debug, info, warn or error (the application's log; CometBFT logs errors only below debug)")
	c.RunE = func(cmd *cobra.Command, _ []string) error { return runNode(cmd.Context(), *home, *logLevel) }
	return c
}

func runNode(ctx context.Context, home, logLevel string) error {
	if home == "" {
		return usagef("--home is required")
	}
	log, err := newLogger(logLevel)
	if err != nil {
		return err
	}
	cfg, err := replica.LoadConfig(home)
	if err != nil {
		return err
	}
	cometLog := cmtlog.NewTMLogger(cmtlog.NewSyncWriter(os.Stderr))
	if logLevel == "debug" {
		cometLog = cmtlog.NewFilter(cometLog, cmtlog.AllowInfo())
	} else {
		cometLog = cmtlog.NewFilter(cometLog, cmtlog.AllowError())
	}
	n, err := replica.NewNode(cfg, log, cometLog)
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return errors.Join(err, n.Stop())
	}
	height, hash := n.App.Committed()
	fmt.Printf("replica %s running (height %d, app hash %X); p2p %s\n", cfg.Moniker, height, hash, cfg.P2P.ListenAddress)
	<-ctx.Done()
	return n.Stop()
}
