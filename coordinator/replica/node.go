package replica

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/spf13/viper"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
)

// Node is one replica: a CometBFT node running the application in
// process, and the coordinator service over the application's state,
// which serves the Connect API (Serve).
type Node struct {
	App   *App
	Comet *node.Node

	stopService context.CancelFunc
	serviceDone chan struct{}
}

// prometheusTaken is set once a replica of this process has CometBFT's
// Prometheus metrics.
var prometheusTaken atomic.Bool

// NodeOptions configure NewNodeWith.
type NodeOptions struct {
	Logger      *slog.Logger
	CometLogger cmtlog.Logger
	// API is the Connect API's node-local settings (LoadAPIConfig);
	// config.Default() when nil.
	API *config.Config
	// Fault makes the replica misbehave, for tests (fault.go).
	Fault Fault
}

// APIConfigFile is the replica home's coordinator config (the
// single-node coordinator's config.toml format: listen address, request
// limits): the settings of the Connect API the replica serves.
func APIConfigFile(home string) string { return filepath.Join(home, "config", "lightkeeper.toml") }

// LoadAPIConfig reads a replica home's APIConfigFile over the defaults;
// a home without one gets the defaults.
func LoadAPIConfig(home string) (config.Config, error) {
	path := APIConfigFile(home)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return config.Default(), nil
	}
	return config.Load(path)
}

// DataDir is where a replica keeps the lightkeeper state, inside its
// CometBFT home's data directory (beside CometBFT's block and state
// stores).
func DataDir(cfg *cmtcfg.Config) string { return filepath.Join(cfg.DBDir(), "lightkeeper") }

// NewNode opens the replica's state and creates its CometBFT node from a
// home InitTestnet (or an operator) wrote. Start it with Start.
func NewNode(cfg *cmtcfg.Config, log *slog.Logger, cometLog cmtlog.Logger) (*Node, error) {
	return NewNodeWith(cfg, NodeOptions{Logger: log, CometLogger: cometLog})
}

// NewNodeWith is NewNode with the API's settings. CometBFT's handshake
// runs here: when it returns, the application holds the chain
// (App.Service is set) at the last block CometBFT stored.
func NewNodeWith(cfg *cmtcfg.Config, o NodeOptions) (*Node, error) {
	log, cometLog := o.Logger, o.CometLogger
	if err := cfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("replica config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cometLog == nil {
		cometLog = cmtlog.NewNopLogger()
	}
	nodeKey, err := p2p.LoadNodeKey(cfg.NodeKeyFile())
	if err != nil {
		return nil, fmt.Errorf("replica node key: %w", err)
	}
	pv, err := loadValidatorKey(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Instrumentation.Prometheus && !prometheusTaken.CompareAndSwap(false, true) {
		return nil, errors.New("replica config: instrumentation.prometheus is on, but another replica of this process has CometBFT's metrics (they live in the process-wide registry): turn it off for all but one")
	}
	ckey, err := loadChallengerKey(cfg.RootDir)
	if err != nil {
		return nil, err
	}
	app, err := OpenApp(DataDir(cfg), AppOptions{Logger: log, Config: o.API, Fault: o.Fault, ChallengerKey: ckey})
	if err != nil {
		return nil, err
	}
	cometLog = watchHalt(cometLog, app.consensusHalted)
	n, err := node.NewNode(cfg, pv, nodeKey, proxy.NewLocalClientCreator(app),
		node.DefaultGenesisDocProviderFunc(cfg), PebbleDBProvider(log),
		node.DefaultMetricsProvider(cfg.Instrumentation), cometLog)
	if err != nil {
		app.Close()
		return nil, fmt.Errorf("replica: %w", err)
	}
	app.SetMempool(n.Mempool())
	return &Node{App: app, Comet: n}, nil
}

// ChallengerKeyFile is the replica home's challenger key (the keeper key
// file format, internal/setup): the key it seals rounds and reveals
// challenges with, listed in the genesis params.challenges by lightkeeper
// testnet init.
func ChallengerKeyFile(home string) string {
	return filepath.Join(home, "config", "challenger_key.json")
}

// loadChallengerKey reads the home's challenger key; a home without one
// gets nil (the replica then seals nothing).
func loadChallengerKey(home string) (ed25519.PrivateKey, error) {
	path := ChallengerKeyFile(home)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	k, err := setup.ReadKey(path)
	if err != nil {
		return nil, fmt.Errorf("replica challenger key: %w", err)
	}
	return k, nil
}

// loadValidatorKey loads the validator key and its last-sign state.
// privval.LoadFilePV exits the process on a bad file, so the files are
// checked here first and a bad one is an error.
func loadValidatorKey(cfg *cmtcfg.Config) (*privval.FilePV, error) {
	for _, f := range []struct {
		path string
		into any
	}{
		{cfg.PrivValidatorKeyFile(), new(privval.FilePVKey)},
		{cfg.PrivValidatorStateFile(), new(privval.FilePVLastSignState)},
	} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("replica validator key: %w", err)
		}
		if err := cmtjson.Unmarshal(b, f.into); err != nil {
			return nil, fmt.Errorf("replica validator key: %s: %w", f.path, err)
		}
	}
	return privval.LoadFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile()), nil
}

// Start starts the node: CometBFT's handshake replays the blocks after
// the application's last committed one, then it joins consensus.
func (n *Node) Start() error {
	svc := n.App.Service()
	if svc == nil {
		return errors.New("replica: no chain after CometBFT's handshake")
	}
	if err := n.Comet.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.stopService, n.serviceDone = cancel, make(chan struct{})
	go func() {
		defer close(n.serviceDone)
		if err := svc.Run(ctx); err != nil {
			n.App.log.Error("replica service stopped", "err", err)
		}
	}()
	return nil
}

// Serve serves the Connect API on ln until ctx is done or the replica
// stops (service.Node.Serve): reads from its committed state, submissions
// through its mempool, answered once committed.
func (n *Node) Serve(ctx context.Context, ln net.Listener) error {
	svc := n.App.Service()
	if svc == nil {
		return errors.New("replica: no chain after CometBFT's handshake")
	}
	return svc.Serve(ctx, ln)
}

// Stop stops the node and closes the application's store.
func (n *Node) Stop() error {
	var err error
	if n.Comet.IsRunning() {
		err = n.Comet.Stop()
		n.Comet.Wait()
	}
	if n.stopService != nil {
		n.stopService()
		<-n.serviceDone
	}
	return errors.Join(err, n.App.Close())
}

// BroadcastTx submits a transaction to this replica's mempool, which
// gossips it to the others, and returns CheckTx's refusal if any. It does
// not wait for a block.
func (n *Node) BroadcastTx(tx []byte) error { return n.App.Broadcast(tx) }

// LoadConfig reads a replica home's config/config.toml the way CometBFT
// itself does (viper over its defaults), roots it at home and checks it.
func LoadConfig(home string) (*cmtcfg.Config, error) {
	path := filepath.Join(home, "config", "config.toml")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("replica home %s: %w (lightkeeper testnet init writes one)", home, err)
	}
	v := viper.New()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("replica config %s: %w", path, err)
	}
	cfg := cmtcfg.DefaultConfig()
	if err := v.Unmarshal(cfg); err != nil {
		return nil, fmt.Errorf("replica config %s: %w", path, err)
	}
	cfg.SetRoot(home)
	if err := cfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("replica config %s: %w", path, err)
	}
	return cfg, nil
}
