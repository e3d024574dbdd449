package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"strings"
	"testing"
)

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func TestVoteSignBytesLayout(t *testing.T) {
	key := testKey(1)
	pub := key.Public().(ed25519.PublicKey)
	var round, result [32]byte
	for i := range round {
		round[i] = byte(i)
		result[i] = byte(0xa0 + i)
	}
	got := VoteSignBytes("lk-1", round, pub, VoteReject, result)
	var want []byte
	want = append(want, "lightkeeper/vote/v1\x00"...)
	want = append(want, 0x00, 0x04)
	want = append(want, "lk-1"...)
	want = append(want, round[:]...)
	want = append(want, pub...)
	want = append(want, 2)
	want = append(want, result[:]...)
	if !bytes.Equal(got, want) {
		t.Fatalf("VoteSignBytes =\n%x\nwant\n%x", got, want)
	}
	if len(got) != 20+2+4+32+32+1+32 {
		t.Fatalf("length %d", len(got))
	}

	reg := RegisterSignBytes("lk-1", pub)
	wantReg := append(append(append([]byte("lightkeeper/register/v1\x00"), 0, 4), "lk-1"...), pub...)
	if !bytes.Equal(reg, wantReg) {
		t.Fatalf("RegisterSignBytes =\n%x\nwant\n%x", reg, wantReg)
	}
}

func TestVoteRoundTrip(t *testing.T) {
	key := testKey(2)
	pub := key.Public().(ed25519.PublicKey)
	other := testKey(3).Public().(ed25519.PublicKey)
	const chain = "lightkeeper-test"
	var round, result [32]byte
	round[0], result[31] = 9, 7

	for _, vote := range []VoteKind{VoteApprove, VoteReject, VoteAbstain} {
		sig := SignVote(key, chain, round, vote, result)
		if len(sig) != ed25519.SignatureSize {
			t.Fatalf("signature length %d", len(sig))
		}
		if !VerifyVote(chain, round, pub, vote, result, sig) {
			t.Fatalf("%v: valid signature rejected", vote)
		}
		// Changing any field breaks the signature.
		flipRound, flipResult := round, result
		flipRound[31] ^= 1
		flipResult[0] ^= 1
		otherVote := VoteApprove
		if vote == VoteApprove {
			otherVote = VoteReject
		}
		badSig := bytes.Clone(sig)
		badSig[10] ^= 1
		cases := map[string]bool{
			"chain":       VerifyVote(chain+"x", round, pub, vote, result, sig),
			"chain-empty": VerifyVote("", round, pub, vote, result, sig),
			"round":       VerifyVote(chain, flipRound, pub, vote, result, sig),
			"keeper":      VerifyVote(chain, round, other, vote, result, sig),
			"vote":        VerifyVote(chain, round, pub, otherVote, result, sig),
			"result":      VerifyVote(chain, round, pub, vote, flipResult, sig),
			"signature":   VerifyVote(chain, round, pub, vote, result, badSig),
			"short-sig":   VerifyVote(chain, round, pub, vote, result, sig[:63]),
			"nil-sig":     VerifyVote(chain, round, pub, vote, result, nil),
			"short-key":   VerifyVote(chain, round, pub[:31], vote, result, sig),
			"nil-key":     VerifyVote(chain, round, nil, vote, result, sig),
			"bad-vote":    VerifyVote(chain, round, pub, vote+256, result, sig),
			"registration-sig-as-vote": VerifyVote(chain, round, pub, vote, result,
				SignRegistration(key, chain)),
		}
		for name, ok := range cases {
			if ok {
				t.Errorf("%v: %s: tampered vote verified", vote, name)
			}
		}
	}
}

func TestRegistrationRoundTrip(t *testing.T) {
	key := testKey(4)
	pub := key.Public().(ed25519.PublicKey)
	sig := SignRegistration(key, "chain-a")
	if !VerifyRegistration("chain-a", pub, sig) {
		t.Fatal("valid registration rejected")
	}
	if VerifyRegistration("chain-b", pub, sig) {
		t.Fatal("registration replayed on another chain")
	}
	if VerifyRegistration("chain-a", testKey(5).Public().(ed25519.PublicKey), sig) {
		t.Fatal("registration verified for another key")
	}
	if VerifyRegistration("chain-a", pub[:5], sig) || VerifyRegistration("chain-a", pub, sig[:5]) {
		t.Fatal("malformed inputs verified")
	}
}

// TestChainIDPrefix shows why the chain id is length-prefixed: the same
// concatenation with a different split must give different bytes.
func TestChainIDPrefix(t *testing.T) {
	pub := testKey(6).Public().(ed25519.PublicKey)
	var r1, r2, res [32]byte
	copy(r1[:], "bcdefghijklmnopqrstuvwxyz0123456")
	copy(r2[:], "cdefghijklmnopqrstuvwxyz0123456"+string(pub[0]))
	a := VoteSignBytes("a", r1, pub, VoteApprove, res)
	b := VoteSignBytes("ab", r2, pub, VoteApprove, res)
	if bytes.Equal(a, b) {
		t.Fatal("ambiguous encoding")
	}
}

func TestVoteInvalidArguments(t *testing.T) {
	key := testKey(7)
	pub := key.Public().(ed25519.PublicKey)
	var z [32]byte
	long := strings.Repeat("x", MaxSignedChainIDLen+1)
	if VoteSignBytes(long, z, pub, VoteApprove, z) != nil ||
		VoteSignBytes("c", z, pub[:31], VoteApprove, z) != nil ||
		VoteSignBytes("c", z, pub, 0, z) != nil ||
		VoteSignBytes("c", z, pub, 4, z) != nil ||
		RegisterSignBytes(long, pub) != nil ||
		RegisterSignBytes("c", nil) != nil {
		t.Fatal("invalid arguments encoded")
	}
	if VoteSignBytes(long[:MaxSignedChainIDLen], z, pub, VoteApprove, z) == nil {
		t.Fatal("longest chain id refused")
	}
	if SignVote(key[:10], "c", z, VoteApprove, z) != nil ||
		SignVote(key, long, z, VoteApprove, z) != nil ||
		SignVote(key, "c", z, 0, z) != nil ||
		SignRegistration(nil, "c") != nil {
		t.Fatal("signed invalid arguments")
	}
}

// TestVoteGolden pins the signature bytes: ed25519 is deterministic, so a
// change here means the signed message changed (a protocol break).
func TestVoteGolden(t *testing.T) {
	var round, result [32]byte
	round[0], result[0] = 1, 2
	sig := SignVote(testKey(8), "lightkeeper-1", round, VoteApprove, result)
	const want = "daf637d934e5fb6c7dd829e2e54cef3152fe4663f14bcd2c29b8a59b1c9560ae"
	if got := hex.EncodeToString(sig[:32]); got != want {
		t.Logf("signature prefix %s", got)
		t.Fatalf("golden signature changed")
	}
}
