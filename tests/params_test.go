package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// A restart under a genesis.json whose chain parameters changed is refused
// with a message naming the parameter that differs and both values.
func TestRestartRefusesChangedParamsNamingKey(t *testing.T) {
	dir := initChain(t, 30)
	cfg := filepath.Join(dir, setup.ConfigFile)
	data := filepath.Join(dir, "data")
	coord, _ := startCoordinator(t, "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	coord.kill()
	editGenesis(t, dir, func(g *lightkeeperv1.Genesis) { g.Params.Threshold = 6 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, errOut, code := run(t, ctx, "coordinator", "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errOut, "params.threshold: the chain has 7, genesis.json has 6") {
		t.Fatalf("restart with a changed threshold: exit %d, stderr %q; want the key and both values", code, errOut)
	}
}

// The chain's parameters come from genesis.json: `lightkeeper init` writes
// them in full, and a chain started from a genesis with other values runs
// under those (query params shows the genesis's, not any default).
func TestGenesisCarriesParams(t *testing.T) {
	dir := initChain(t, 30)
	g, err := setup.ReadGenesis(filepath.Join(dir, setup.GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.DefaultParams()
	want.VerificationTimeout = g.Params.VerificationTimeout
	if !proto.Equal(g.Params, want) {
		t.Fatalf("init wrote params %v, want the defaults", g.Params)
	}
	editGenesis(t, dir, func(g *lightkeeperv1.Genesis) {
		g.Params.SizeLimits.MaxProofBytes = 1000
		g.Params.Staking.MinTxFee = 3
	})
	_, url := startCoordinator(t, "--config", filepath.Join(dir, setup.ConfigFile), "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := queryParams(t, ctx, url)
	if p.GetSizeLimits().GetMaxProofBytes() != 1000 || p.GetStaking().GetMinTxFee() != 3 {
		t.Fatalf("the chain runs under %v, not its genesis's params", p)
	}
}

// queryParams is `lightkeeper query params --json` of the chain at url.
func queryParams(t *testing.T, ctx context.Context, url string) *lightkeeperv1.ConsensusParams {
	t.Helper()
	out, errOut, code := run(t, ctx, "query", "params", "--json", "--coordinator", url)
	if code != 0 {
		t.Fatalf("query params: exit %d, %s", code, errOut)
	}
	p := new(lightkeeperv1.ConsensusParams)
	if err := protojson.Unmarshal([]byte(out), p); err != nil {
		t.Fatalf("query params: %v\n%s", err, out)
	}
	return p
}

// A config.toml from before the chain parameters moved to genesis.json is
// refused, naming the section and where it went; a genesis.json without
// params is refused for a new chain and, for a data directory created
// before the move, the parameters stored in it are used.
func TestOldConfigAndGenesisFormats(t *testing.T) {
	dir := initChain(t, 30)
	cfg := filepath.Join(dir, setup.ConfigFile)
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.toml")
	if err := os.WriteFile(old, append(b, "\n[consensus]\nthreshold = 7\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, ctx, "coordinator", "--config", old, "--genesis", filepath.Join(dir, setup.GenesisFile), "--data", data, "--listen", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errOut, "[consensus]") || !strings.Contains(errOut, "genesis.json") {
		t.Fatalf("config.toml with [consensus]: exit %d, stderr %q; want the section named and genesis.json", code, errOut)
	}

	var stored *lightkeeperv1.ConsensusParams
	editGenesis(t, dir, func(g *lightkeeperv1.Genesis) { stored, g.Params = g.Params, nil })
	_, errOut, code = run(t, ctx, "coordinator", "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errOut, "genesis has no params") {
		t.Fatalf("new chain from a genesis without params: exit %d, stderr %q", code, errOut)
	}

	// A data directory created under the parameters, restarted with a
	// genesis.json that has none (as every genesis before the move).
	editGenesis(t, dir, func(g *lightkeeperv1.Genesis) { g.Params = stored })
	coord, _ := startCoordinator(t, "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	coord.kill()
	editGenesis(t, dir, func(g *lightkeeperv1.Genesis) { g.Params = nil })
	_, url := startCoordinator(t, "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	if p := queryParams(t, ctx, url); !proto.Equal(p, stored) {
		t.Fatalf("restart with a genesis without params: the chain runs under %v, want the stored %v", p, stored)
	}
}
