package replica

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// TestnetOptions describes a testnet of replicas on one host.
type TestnetOptions struct {
	// Dir receives one home per replica, replica-0 … replica-(n-1).
	Dir      string
	Replicas int
	// Genesis is the lightkeeper genesis (chain id, genesis time, keepers,
	// parameters); CometBFT's genesis carries it as app_state.
	Genesis *lightkeeperv1.Genesis
	// Host the replicas listen on and dial each other at.
	Host string
	// Ports for p2p, one per replica; empty: free ports picked now.
	P2PPorts []int
	// Ports of the Connect API, one per replica, written to each home's
	// APIConfigFile; empty: free ports picked now.
	APIPorts []int
	// Metrics turns on CometBFT's Prometheus metrics (consensus: height,
	// missing and Byzantine validators, block interval) at MetricsPorts,
	// one per replica (empty: free ports picked now). CometBFT registers
	// them in the process-wide registry, so only one replica per process
	// can have them: a testnet of separate processes.
	Metrics      bool
	MetricsPorts []int
	// TimeoutPropose and TimeoutCommit override CometBFT's defaults (3 s
	// and 1 s) when set: a loopback testnet wants short blocks.
	TimeoutPropose, TimeoutCommit time.Duration
	// ChallengerKeys, one per replica when set, are written to each
	// home's ChallengerKeyFile; the genesis lists their public keys in
	// params.challenges (ReplicatedParams makes both).
	ChallengerKeys []ed25519.PrivateKey
}

// ReplicatedParams are the parameters of a replicated chain's genesis
// (protocol.DefaultReplicatedParams) with sealed challenges: a fresh
// challenger key per replica, listed in params.challenges
// (protocol.DefaultChallengeRules). Pass the keys to InitTestnet.
func ReplicatedParams(replicas int) (*lightkeeperv1.ConsensusParams, []ed25519.PrivateKey) {
	p := protocol.DefaultReplicatedParams()
	keys := make([]ed25519.PrivateKey, replicas)
	pubs := make([][]byte, replicas)
	for i := range keys {
		keys[i] = setup.NewKey()
		pubs[i] = bytes.Clone(keys[i].Public().(ed25519.PublicKey))
	}
	p.Challenges = protocol.DefaultChallengeRules(pubs)
	return p, keys
}

// InitTestnet writes every replica's home: CometBFT's config.toml (p2p
// on Host, the others as persistent peers, RPC off), node and validator
// keys, and one genesis with equal voting power for every replica and the
// lightkeeper genesis as app_state, and the coordinator config of the
// Connect API each serves (APIConfigFile: the API on Host at its port).
// It returns the replicas' configs, in order. It refuses a Dir that already holds a replica home.
func InitTestnet(o TestnetOptions) ([]*cmtcfg.Config, error) {
	if o.Replicas < 1 {
		return nil, fmt.Errorf("testnet: %d replicas, want at least 1", o.Replicas)
	}
	if o.Genesis == nil || o.Genesis.GetChainId() == "" || o.Genesis.GetGenesisTime() == nil {
		return nil, errors.New("testnet: the lightkeeper genesis needs a chain id and a genesis time")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if n := len(o.ChallengerKeys); n != 0 && n != o.Replicas {
		return nil, fmt.Errorf("testnet: %d challenger keys for %d replicas", n, o.Replicas)
	}
	if len(o.P2PPorts) == 0 && len(o.APIPorts) == 0 && len(o.MetricsPorts) == 0 {
		// One call, so that no port is handed out twice.
		ports, err := freePorts(o.Host, 3*o.Replicas)
		if err != nil {
			return nil, err
		}
		o.P2PPorts, o.APIPorts, o.MetricsPorts = ports[:o.Replicas], ports[o.Replicas:2*o.Replicas], ports[2*o.Replicas:]
	}
	if len(o.P2PPorts) == 0 {
		ports, err := freePorts(o.Host, o.Replicas)
		if err != nil {
			return nil, err
		}
		o.P2PPorts = ports
	}
	if len(o.P2PPorts) != o.Replicas {
		return nil, fmt.Errorf("testnet: %d p2p ports for %d replicas", len(o.P2PPorts), o.Replicas)
	}
	if len(o.APIPorts) == 0 {
		ports, err := freePorts(o.Host, o.Replicas)
		if err != nil {
			return nil, err
		}
		o.APIPorts = ports
	}
	if len(o.APIPorts) != o.Replicas {
		return nil, fmt.Errorf("testnet: %d API ports for %d replicas", len(o.APIPorts), o.Replicas)
	}
	if len(o.MetricsPorts) == 0 {
		ports, err := freePorts(o.Host, o.Replicas)
		if err != nil {
			return nil, err
		}
		o.MetricsPorts = ports
	}
	if len(o.MetricsPorts) != o.Replicas {
		return nil, fmt.Errorf("testnet: %d metrics ports for %d replicas", len(o.MetricsPorts), o.Replicas)
	}
	appState, err := protojson.Marshal(o.Genesis)
	if err != nil {
		return nil, err
	}
	configs := make([]*cmtcfg.Config, o.Replicas)
	peers := make([]string, o.Replicas)
	doc := &cmttypes.GenesisDoc{
		GenesisTime:     o.Genesis.GetGenesisTime().AsTime().Truncate(time.Millisecond),
		ChainID:         o.Genesis.GetChainId(),
		InitialHeight:   1,
		ConsensusParams: cmttypes.DefaultConsensusParams(),
		AppState:        json.RawMessage(appState),
	}
	// A block must hold the largest transaction the chain admits.
	limits := limitsOf(o.Genesis.GetChainId(), o.Genesis.GetParams())
	doc.ConsensusParams.Block.MaxBytes = min(max(doc.ConsensusParams.Block.MaxBytes, int64(limits.maxTxBytes)+1<<20), cmttypes.MaxBlockSizeBytes)
	for i := range configs {
		home := filepath.Join(o.Dir, fmt.Sprintf("replica-%d", i))
		if _, err := os.Stat(filepath.Join(home, "config", "genesis.json")); err == nil {
			return nil, fmt.Errorf("testnet: %s already holds a replica: refusing to overwrite it", home)
		}
		for _, d := range []string{"config", "data"} {
			if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
				return nil, err
			}
		}
		cfg := cmtcfg.DefaultConfig()
		cfg.SetRoot(home)
		cfg.Moniker = fmt.Sprintf("replica-%d", i)
		// What NewNode opens (PebbleDBProvider), so that CometBFT's own
		// tools, which cannot open it without their pebbledb build,
		// refuse rather than start an empty goleveldb.
		cfg.DBBackend = string(dbm.PebbleDBBackend)
		cfg.P2P.ListenAddress = fmt.Sprintf("tcp://%s:%d", o.Host, o.P2PPorts[i])
		cfg.P2P.AllowDuplicateIP = true
		cfg.P2P.AddrBookStrict = false
		cfg.P2P.PexReactor = false
		cfg.RPC.ListenAddress = ""
		// A validator that stops signing (silent, or halted on an app hash
		// it computed alone) shows in the others' consensus metrics
		// (cometbft_consensus_missing_validators).
		cfg.Instrumentation.Prometheus = o.Metrics
		cfg.Instrumentation.PrometheusListenAddr = net.JoinHostPort(o.Host, strconv.Itoa(o.MetricsPorts[i]))
		// The ledger indexes what clients look up; CometBFT's transaction
		// index would be a second copy (and v0.38 never closes its
		// database, so a node could not restart in the same process).
		cfg.TxIndex.Indexer = "null"
		cfg.Mempool.MaxTxBytes = limits.maxTxBytes
		cfg.Mempool.MaxTxsBytes = max(cfg.Mempool.MaxTxsBytes, 4*int64(limits.maxTxBytes))
		if o.TimeoutPropose > 0 {
			cfg.Consensus.TimeoutPropose = o.TimeoutPropose
		}
		if o.TimeoutCommit > 0 {
			cfg.Consensus.TimeoutCommit = o.TimeoutCommit
		}
		if len(o.ChallengerKeys) > 0 {
			if err := setup.WriteKey(ChallengerKeyFile(home), o.ChallengerKeys[i]); err != nil {
				return nil, err
			}
		}
		nodeKey, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile())
		if err != nil {
			return nil, err
		}
		pv := privval.GenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
		pv.Save()
		pub, err := pv.GetPubKey()
		if err != nil {
			return nil, err
		}
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{
			Address: pub.Address(), PubKey: pub, Power: 10, Name: cfg.Moniker,
		})
		peers[i] = p2p.IDAddressString(nodeKey.ID(), fmt.Sprintf("%s:%d", o.Host, o.P2PPorts[i]))
		configs[i] = cfg
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("testnet: genesis: %w", err)
	}
	for i, cfg := range configs {
		var others []string
		for j, p := range peers {
			if j != i {
				others = append(others, p)
			}
		}
		cfg.P2P.PersistentPeers = strings.Join(others, ",")
		if err := doc.SaveAs(cfg.GenesisFile()); err != nil {
			return nil, err
		}
		cmtcfg.WriteConfigFile(filepath.Join(cfg.RootDir, "config", "config.toml"), cfg)
		if err := writeAPIConfig(cfg.RootDir, net.JoinHostPort(o.Host, strconv.Itoa(o.APIPorts[i]))); err != nil {
			return nil, err
		}
	}
	return configs, nil
}

// writeAPIConfig writes a home's APIConfigFile: the coordinator's
// commented config.toml with the API on listen.
func writeAPIConfig(home, listen string) error {
	const def = `listen = "127.0.0.1:8080"`
	if !strings.Contains(config.Template, def) {
		return errors.New("testnet: the coordinator config template has no default listen line")
	}
	text := strings.Replace(config.Template, def, fmt.Sprintf("listen = %q", listen), 1)
	return os.WriteFile(APIConfigFile(home), []byte(text), 0o600)
}

// freePorts asks the kernel for n free TCP ports on host. Another process
// may take one before the replica listens; a testnet on loopback accepts
// that small race.
func freePorts(host string, n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("testnet: pick a free port: %w", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}
