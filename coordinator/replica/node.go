package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/spf13/viper"
)

// Node is one replica: a CometBFT node running the application in
// process.
type Node struct {
	App   *App
	Comet *node.Node
}

// DataDir is where a replica keeps the lightkeeper state, inside its
// CometBFT home's data directory (beside CometBFT's block and state
// stores).
func DataDir(cfg *cmtcfg.Config) string { return filepath.Join(cfg.DBDir(), "lightkeeper") }

// NewNode opens the replica's state and creates its CometBFT node from a
// home InitTestnet (or an operator) wrote. Start it with Start.
func NewNode(cfg *cmtcfg.Config, log *slog.Logger, cometLog cmtlog.Logger) (*Node, error) {
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
	app, err := Open(DataDir(cfg), log)
	if err != nil {
		return nil, err
	}
	n, err := node.NewNode(cfg, pv, nodeKey, proxy.NewLocalClientCreator(app),
		node.DefaultGenesisDocProviderFunc(cfg), PebbleDBProvider(log),
		node.DefaultMetricsProvider(cfg.Instrumentation), cometLog)
	if err != nil {
		app.Close()
		return nil, fmt.Errorf("replica: %w", err)
	}
	return &Node{App: app, Comet: n}, nil
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
func (n *Node) Start() error { return n.Comet.Start() }

// Stop stops the node and closes the application's store.
func (n *Node) Stop() error {
	var err error
	if n.Comet.IsRunning() {
		err = n.Comet.Stop()
		n.Comet.Wait()
	}
	return errors.Join(err, n.App.Close())
}

// BroadcastTx submits a transaction to this replica's mempool, which
// gossips it to the others, and returns CheckTx's refusal if any. It does
// not wait for a block.
func (n *Node) BroadcastTx(tx []byte) error {
	done := make(chan *abci.ResponseCheckTx, 1)
	err := n.Comet.Mempool().CheckTx(cmttypes.Tx(tx), func(r *abci.ResponseCheckTx) { done <- r }, mempool.TxInfo{})
	if err != nil {
		return err
	}
	if r := <-done; r.Code != CodeOK {
		return fmt.Errorf("check tx: code %d: %s", r.Code, r.Log)
	}
	return nil
}

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
