package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lightkeeper-net/lightkeeper/coordinator/replica"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
)

func init() { register(newTestnetCmd) }

func newTestnetCmd() *cobra.Command {
	return group("testnet", "set up a replicated chain on CometBFT",
		`testnet sets up a chain whose state machine is replicated by CometBFT:
every replica runs the same blocks and answers for the same app hash,
and serves the whole Connect API: keepers and clients may use any
replica (docs/design.md, "Replication on CometBFT"; issue #11).`, "command", newTestnetInitCmd())
}

func newTestnetInitCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "init --dir DIR [--replicas N] [--keepers K] [--chain-id ID]",
		Short: "write the replicas' homes, one genesis and the keeper keys",
		Long: `init writes into DIR the keeper keys and genesis.json (as 'lightkeeper init'
does) and one CometBFT home per replica, DIR/replica-0 … DIR/replica-(N-1):
config/config.toml (p2p on --host at --base-port + i, the other replicas
as persistent peers), the node and validator keys, and one CometBFT
genesis with equal voting power that carries genesis.json as app_state,
and config/lightkeeper.toml (the coordinator's config format) with the
Connect API on --host at --api-base-port + i.
Run each replica with 'lightkeeper node --home DIR/replica-I'.`,
		Args: exactArgs(0, ""),
	}
	fs := c.Flags()
	dir := fs.String("dir", "", "directory to write into (required)")
	replicas := fs.Int("replicas", 4, "number of replicas (validators)")
	keepers := fs.Int("keepers", 10, "number of keeper keys in genesis")
	chainID := fs.String("chain-id", "lightkeeper-testnet", "chain id")
	host := fs.String("host", "127.0.0.1", "address the replicas listen on and dial each other at")
	basePort := fs.Int("base-port", 26656, "p2p port of replica 0; replica i listens on base-port + i")
	apiBasePort := fs.Int("api-base-port", 8080, "Connect API port of replica 0; replica i serves on api-base-port + i")
	metricsBasePort := fs.Int("metrics-base-port", 26760, "CometBFT Prometheus metrics port of replica 0 (consensus height, missing validators); replica i serves on metrics-base-port + i")
	timeoutCommit := fs.Duration("timeout-commit", time.Second, "CometBFT's pause after each block (the block interval when transactions keep coming)")
	c.RunE = func(*cobra.Command, []string) error {
		switch {
		case *dir == "":
			return usagef("--dir is required")
		case *replicas < 1 || *replicas > 100:
			return usagef("--replicas %d: want 1..100", *replicas)
		case *keepers < 0 || *keepers > 10000:
			return usagef("--keepers %d: want 0..10000", *keepers)
		case *basePort < 1 || *basePort+*replicas-1 > 65535:
			return usagef("--base-port %d: the ports of %d replicas must be within 1..65535", *basePort, *replicas)
		case *apiBasePort < 1 || *apiBasePort+*replicas-1 > 65535:
			return usagef("--api-base-port %d: the ports of %d replicas must be within 1..65535", *apiBasePort, *replicas)
		case overlap(*apiBasePort, *basePort, *replicas):
			return usagef("--api-base-port %d and --base-port %d: the API and p2p ports of %d replicas overlap", *apiBasePort, *basePort, *replicas)
		case *metricsBasePort < 1 || *metricsBasePort+*replicas-1 > 65535:
			return usagef("--metrics-base-port %d: the ports of %d replicas must be within 1..65535", *metricsBasePort, *replicas)
		case overlap(*metricsBasePort, *basePort, *replicas) || overlap(*metricsBasePort, *apiBasePort, *replicas):
			return usagef("--metrics-base-port %d: the metrics ports of %d replicas overlap their p2p (--base-port %d) or API ports (--api-base-port %d)", *metricsBasePort, *replicas, *basePort, *apiBasePort)
		case *timeoutCommit <= 0:
			return usagef("--timeout-commit %s: want a positive duration", *timeoutCommit)
		}
		params, challengers := replica.ReplicatedParams(*replicas)
		_, g, err := setup.InitWith(*dir, *chainID, *keepers, params)
		if err != nil {
			return err
		}
		ports, apiPorts, metricsPorts := make([]int, *replicas), make([]int, *replicas), make([]int, *replicas)
		for i := range ports {
			ports[i], apiPorts[i], metricsPorts[i] = *basePort+i, *apiBasePort+i, *metricsBasePort+i
		}
		if _, err := replica.InitTestnet(replica.TestnetOptions{
			Dir: *dir, Replicas: *replicas, Genesis: g, Host: *host, P2PPorts: ports, APIPorts: apiPorts,
			Metrics: true, MetricsPorts: metricsPorts, TimeoutCommit: *timeoutCommit, ChallengerKeys: challengers,
		}); err != nil {
			return err
		}
		fmt.Printf("wrote %d keeper keys, %s and %d replica homes in %s\n", *keepers, setup.GenesisFile, *replicas, *dir)
		fmt.Printf("start each replica: lightkeeper node --home %s\n", filepath.Join(*dir, "replica-I"))
		return nil
	}
	return c
}

// overlap reports whether the n ports from a and the n ports from b share
// one.
func overlap(a, b, n int) bool { return a <= b+n-1 && b <= a+n-1 }
