package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/coordinator/replica"
)

func init() { register(newNodeCmd) }

func newNodeCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "node --home DIR [--api-listen ADDR]",
		Short: "run one replica of a replicated chain, serving the Connect API",
		Long: `node runs one replica: a CometBFT node with the Lightkeeper state machine
as its ABCI application, from a home 'lightkeeper testnet init' wrote. It
replays the blocks after its last committed one, then takes part in
consensus until interrupted.

It serves the whole Connect API (as 'lightkeeper coordinator' does) on the
address of the home's config/lightkeeper.toml (network.listen; the
coordinator's config format), or on --api-listen. Reads come from this
replica's committed state; a submission goes through its mempool and is
answered once a committed block carries it. Keepers may connect to any
replica. Random challenges are off on a replica; a keeper is online
while its own signed session, kept on the chain, lasts (on a chain
without params.sessions: once registered). A replica whose consensus
halts says so in GetChainInfo, health and metrics, and refuses what
needs a block (docs/design.md, "Replication on CometBFT").`,
		Args: exactArgs(0, ""),
	}
	home := c.Flags().String("home", "", "the replica's CometBFT home (required)")
	apiListen := c.Flags().String("api-listen", "", "address of the Connect API (default: network.listen of HOME/config/lightkeeper.toml)")
	logLevel := c.Flags().String("log-level", "info", "debug, info, warn or error (the application's log; CometBFT logs errors only below debug)")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		return runNode(cmd.Context(), *home, *apiListen, *logLevel)
	}
	return c
}

func runNode(ctx context.Context, home, apiListen, logLevel string) error {
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
	api, err := replica.LoadAPIConfig(home)
	if err != nil {
		return err
	}
	if apiListen != "" {
		api.Network.Listen = apiListen
	}
	if err := tlsSettings(&api.Network, replica.APIConfigFile(home), "", ""); err != nil {
		return err
	}
	cometLog := cmtlog.NewTMLogger(cmtlog.NewSyncWriter(os.Stderr))
	if logLevel == "debug" {
		cometLog = cmtlog.NewFilter(cometLog, cmtlog.AllowInfo())
	} else {
		cometLog = cmtlog.NewFilter(cometLog, cmtlog.AllowError())
	}
	// Listen first: a busy port fails before consensus starts.
	ln, err := net.Listen("tcp", api.Network.Listen)
	if err != nil {
		return fmt.Errorf("API: %w", err)
	}
	fault, err := replica.ParseFault(os.Getenv(replica.FaultEnv))
	if err != nil {
		ln.Close()
		return fmt.Errorf("%s: %w", replica.FaultEnv, err)
	}
	if fault != replica.FaultNone {
		log.Warn("TEST FAULT: this replica misbehaves on purpose; never run it outside a test", "fault", string(fault), "env", replica.FaultEnv)
	}
	n, err := replica.NewNodeWith(cfg, replica.NodeOptions{Logger: log, CometLogger: cometLog, API: &api, Fault: fault})
	if err != nil {
		ln.Close()
		return err
	}
	if err := n.Start(); err != nil {
		ln.Close()
		return errors.Join(err, n.Stop())
	}
	scheme := "http"
	if api.Network.TLSCert != "" {
		scheme = "https"
	}
	height, hash := n.App.Committed()
	fmt.Printf("replica %s running (height %d, app hash %X); p2p %s; API %s://%s\n", cfg.Moniker, height, hash, cfg.P2P.ListenAddress, scheme, ln.Addr())
	serveErr := n.Serve(ctx, ln)
	return errors.Join(serveErr, n.Stop())
}
