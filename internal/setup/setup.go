package setup

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// File names inside an init directory.
const (
	GenesisFile = "genesis.json"
	ConfigFile  = "config.toml"
	KeysDir     = "keys"
)

// DefaultStake is each genesis keeper's bonded self-stake.
const DefaultStake = 1_000_000

// NewKey returns a fresh ed25519 key.
func NewKey() ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return k
}

// WriteKey writes a key file: the 32-byte seed in hex, readable by its
// owner only.
func WriteKey(path string, k ed25519.PrivateKey) error {
	return os.WriteFile(path, []byte(hex.EncodeToString(k.Seed())+"\n"), 0o600)
}

// ReadKey reads a key file written by WriteKey.
func ReadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParseKey decodes the content of a key file.
func ParseKey(b []byte) (ed25519.PrivateKey, error) {
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("not a key file (want %d hex-encoded bytes)", ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// KeyID returns the keeper id of a key.
func KeyID(k ed25519.PrivateKey) string {
	return hex.EncodeToString(k.Public().(ed25519.PublicKey))
}

// Init writes keys for n keepers, a genesis giving each DefaultStake under
// the default chain parameters (protocol.DefaultParams, written out in
// full so they can be edited before the chain starts), and a commented
// config.toml into dir. It refuses to overwrite an existing
// genesis.
func Init(dir, chainID string, n int) ([]ed25519.PrivateKey, *lightkeeperv1.Genesis, error) {
	return InitWith(dir, chainID, n, protocol.DefaultParams())
}

// InitWith is Init under the given chain parameters.
func InitWith(dir, chainID string, n int, params *lightkeeperv1.ConsensusParams) ([]ed25519.PrivateKey, *lightkeeperv1.Genesis, error) {
	if _, err := os.Stat(filepath.Join(dir, GenesisFile)); err == nil {
		return nil, nil, fmt.Errorf("%s already exists: refusing to overwrite a chain", filepath.Join(dir, GenesisFile))
	}
	if err := os.MkdirAll(filepath.Join(dir, KeysDir), 0o700); err != nil {
		return nil, nil, err
	}
	g := &lightkeeperv1.Genesis{
		ChainId:     chainID,
		GenesisTime: timestamppb.New(time.Now().Truncate(time.Second)),
		Params:      params,
	}
	keys := make([]ed25519.PrivateKey, n)
	for i := range keys {
		keys[i] = NewKey()
		if err := WriteKey(KeyPath(dir, i), keys[i]); err != nil {
			return nil, nil, err
		}
		g.Keepers = append(g.Keepers, &lightkeeperv1.GenesisKeeper{KeeperId: KeyID(keys[i]), Stake: DefaultStake})
	}
	if err := WriteGenesis(filepath.Join(dir, GenesisFile), g); err != nil {
		return nil, nil, err
	}
	cfgPath := filepath.Join(dir, ConfigFile)
	if _, err := os.Stat(cfgPath); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(cfgPath, []byte(config.Template), 0o644); err != nil {
			return nil, nil, err
		}
	}
	return keys, g, nil
}

// KeyPath is the path of keeper i's key in an init directory.
func KeyPath(dir string, i int) string {
	return filepath.Join(dir, KeysDir, fmt.Sprintf("keeper-%02d.key", i))
}

// ReadKeys reads every keeper key of an init directory, in order.
func ReadKeys(dir string) ([]ed25519.PrivateKey, error) {
	var keys []ed25519.PrivateKey
	for i := 0; ; i++ {
		k, err := ReadKey(KeyPath(dir, i))
		if errors.Is(err, os.ErrNotExist) {
			return keys, nil
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
}

// WriteGenesis writes a genesis file as protobuf JSON.
func WriteGenesis(path string, g *lightkeeperv1.Genesis) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(g)
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadGenesis reads a genesis file.
func ReadGenesis(path string) (*lightkeeperv1.Genesis, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g, err := ParseGenesis(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// ParseGenesis decodes genesis JSON, refusing unknown fields and an empty
// chain id. The state machine checks the rest (keeper ids, stakes).
func ParseGenesis(b []byte) (*lightkeeperv1.Genesis, error) {
	g := new(lightkeeperv1.Genesis)
	if err := protojson.Unmarshal(b, g); err != nil {
		return nil, err
	}
	if g.GetChainId() == "" {
		return nil, errors.New("chain_id is empty")
	}
	return g, nil
}
