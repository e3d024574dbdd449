package replica

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestInitChain: a genesis that does not fit CometBFT's is refused with a
// reason; a second InitChain of the same genesis (CometBFT crashed before
// recording the first answer) answers the same app hash.
func TestInitChain(t *testing.T) {
	g := testGenesis(genesisTime)
	appState, err := protojson.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	good := abci.RequestInitChain{Time: genesisTime, ChainId: testChain, InitialHeight: 1, AppStateBytes: appState}
	for _, c := range []struct {
		name string
		edit func(r *abci.RequestInitChain)
		want string
	}{
		{"not a genesis", func(r *abci.RequestInitChain) { r.AppStateBytes = []byte("{") }, "not a lightkeeper genesis"},
		{"other chain", func(r *abci.RequestInitChain) { r.ChainId = "other" }, `CometBFT's for "other"`},
		{"other time", func(r *abci.RequestInitChain) { r.Time = genesisTime.Add(time.Second) }, "must be equal"},
		{"initial height", func(r *abci.RequestInitChain) { r.InitialHeight = 5 }, "initial_height is 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := Open(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			req := good
			c.edit(&req)
			if _, err := a.InitChain(context.Background(), &req); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("InitChain: %v, want an error naming %q", err, c.want)
			}
		})
	}

	dir := t.TempDir()
	a, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.InitChain(context.Background(), &good)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if a, err = Open(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	again, err := a.InitChain(context.Background(), &good)
	if err != nil || !bytes.Equal(again.AppHash, first.AppHash) || len(first.AppHash) != 32 {
		t.Fatalf("second InitChain: %X, %v; first %X", again.GetAppHash(), err, first.AppHash)
	}
}

// TestTestnetFiles: the homes InitTestnet writes load back through
// LoadConfig as CometBFT reads them, with the settings the replicas rely
// on; a second init into the same directory is refused.
func TestTestnetFiles(t *testing.T) {
	dir := t.TempDir()
	configs, err := InitTestnet(TestnetOptions{Dir: dir, Replicas: 3, Genesis: testGenesis(genesisTime), P2PPorts: []int{40001, 40002, 40003}, TimeoutCommit: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(filepath.Join(dir, "replica-1"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.P2P.ListenAddress != "tcp://127.0.0.1:40002" || cfg.DBBackend != "pebbledb" || cfg.TxIndex.Indexer != "null" ||
		cfg.Consensus.TimeoutCommit != 250*time.Millisecond || strings.Count(cfg.P2P.PersistentPeers, "@127.0.0.1:") != 2 ||
		cfg.PrivValidatorKeyFile() != configs[1].PrivValidatorKeyFile() {
		t.Fatalf("replica-1 config as loaded: p2p %s, db %s, indexer %s, timeout_commit %s, peers %s",
			cfg.P2P.ListenAddress, cfg.DBBackend, cfg.TxIndex.Indexer, cfg.Consensus.TimeoutCommit, cfg.P2P.PersistentPeers)
	}
	if _, err := InitTestnet(TestnetOptions{Dir: dir, Replicas: 3, Genesis: testGenesis(genesisTime)}); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second init: %v", err)
	}
	if _, err := LoadConfig(t.TempDir()); err == nil || !strings.Contains(err.Error(), "testnet init") {
		t.Fatalf("LoadConfig of an empty directory: %v", err)
	}
}
