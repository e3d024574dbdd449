package protocol

import (
	"crypto/ed25519"
	"testing"
)

// FuzzSession: session auth fields come from the network (chain id,
// keeper id, time, signature); VerifySession refuses what it cannot check
// without panicking, and a signature verifies only for the fields signed.
func FuzzSession(f *testing.F) {
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	f.Add("lightkeeper-devnet", []byte(key.Public().(ed25519.PublicKey)), int64(1_700_000_000_000), SignSession(key, "lightkeeper-devnet", 1_700_000_000_000))
	f.Add("", []byte{1, 2, 3}, int64(-1), []byte{})
	f.Fuzz(func(t *testing.T, chainID string, keeperID []byte, ms int64, sig []byte) {
		ok := VerifySession(chainID, ed25519.PublicKey(keeperID), ms, sig)
		if ok && (len(keeperID) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize || len(chainID) > MaxSignedChainIDLen) {
			t.Fatal("verified a session with malformed fields")
		}
		own := SignSession(key, chainID, ms)
		if own == nil {
			return
		}
		if !VerifySession(chainID, key.Public().(ed25519.PublicKey), ms, own) {
			t.Fatal("own signature does not verify")
		}
		if VerifySession(chainID, key.Public().(ed25519.PublicKey), ms+1, own) {
			t.Fatal("signature verifies for another time")
		}
	})
}
