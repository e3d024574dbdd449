package devnet

import (
	"crypto/ed25519"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// PoolGenesis enables the shielded pool in a new chain's genesis with the
// pool's verifying key and gives every keeper key a balance to deposit
// from ('devnet --pool-vk', the demo). It is an Options.Genesis.
func PoolGenesis(vk []byte, balance uint64) func(*lightkeeperv1.Genesis, []ed25519.PrivateKey) {
	return func(g *lightkeeperv1.Genesis, keys []ed25519.PrivateKey) {
		g.WithdrawalVerifyingKey = vk
		for _, k := range keys {
			g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: setup.KeyID(k), Amount: balance})
		}
	}
}
