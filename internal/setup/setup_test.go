package setup

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

func TestInitWritesAStartableChain(t *testing.T) {
	dir := t.TempDir()
	keys, g, err := Init(dir, "test-chain", 4)
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadKeys(dir)
	if err != nil || len(read) != 4 {
		t.Fatalf("ReadKeys: %d keys, %v", len(read), err)
	}
	for i := range keys {
		if !bytes.Equal(keys[i], read[i]) || g.Keepers[i].GetKeeperId() != KeyID(keys[i]) {
			t.Fatalf("key %d does not round-trip or is not in genesis", i)
		}
	}
	g2, err := ReadGenesis(filepath.Join(dir, GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(filepath.Join(dir, ConfigFile)); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(g2.GetParams(), protocol.DefaultParams()) {
		t.Fatalf("genesis params %v, want the defaults", g2.GetParams())
	}
	if _, _, err := state.New(g2); err != nil {
		t.Fatalf("the state machine refuses the written genesis: %v", err)
	}
	if info, err := os.Stat(KeyPath(dir, 0)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", info.Mode(), err)
	}
	if _, _, err := Init(dir, "test-chain", 4); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second init: %v", err)
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add([]byte(strings.Repeat("ab", 32) + "\n"))
	f.Add([]byte("zz"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKey(b)
		if err == nil && len(k) != 64 {
			t.Fatalf("key of %d bytes", len(k))
		}
	})
}

func FuzzParseGenesis(f *testing.F) {
	f.Add([]byte(`{"chainId":"c","keepers":[{"keeperId":"` + strings.Repeat("ab", 32) + `","stake":"5"}]}`))
	f.Add([]byte(`{"chainId":""}`))
	f.Add([]byte(`{"bogus":1}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGenesis(b)
		if err == nil && g.GetChainId() == "" {
			t.Fatal("accepted a genesis without chain id")
		}
	})
}
