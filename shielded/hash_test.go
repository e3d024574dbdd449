package shielded

import (
	"crypto/sha256"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/mimc"
)

// Golden values: they are consensus. If one changes, every commitment,
// root and nullifier changes with it (a new pool, a new setup).
func TestGoldenVectors(t *testing.T) {
	n := Note{Secret: ScalarFromUint64(1), NullifierKey: ScalarFromUint64(2), Amount: 1000}
	for name, c := range map[string]struct{ got Scalar }{
		"0x22c3ac6e84ba82884f816914908f47ed58e529a4e82ae8ba9413ea28a3a7d43a": {DomainIV(DomainNode)},
		"0x0c203b4018938ee69111edae0d38de4b2c44be32b622faa817ff9ed88936ec76": {DomainIV(DomainPrecommitment)},
		"0x02af176084e6c58c0f59ad6f8743f023dd1253da8abad0212638fcf778c7dd46": {DomainIV(DomainCommitment)},
		"0x0b641e549d2c7625ed5d6634d54918f446dc0b90ae5901816388e7025e928efd": {DomainIV(DomainNullifier)},
		"0x28ee6b632a89f5affe9064faa195fd918b60fac524e53096861a6ae233877cf1": {EmptyLeaf()},
		"0x245801a12dee9a7cc5c5fe806f6744a9d4b674bb1aa606d6f09117d2ad7f0d55": {ZeroHash(20)},
		"0x1b30487625961093fa0bfd3f85ba88aa844a61d55bc449e4b79282d53d9dc52c": {n.Precommitment()},
		"0x261bf46cb19dc38f0c7496caba19713bc83a8dcbf786ea8cbb88e57633ec19b0": {n.Commitment()},
		"0x0b53d56e624f473eb9ca99fbc677388e49dd3714fcb53450f308e9d3b9f55cce": {n.Nullifier(5)},
		"0x146c65f6bb268f3e1ee28164a290982bb6825bb39b38ed185db4b5bab3d87a27": {HashNode(ScalarFromUint64(1), ScalarFromUint64(2))},
		"0x13031fc64480dcb5e6d64446c740a1f5925098139299cf96e9e670055ea27566": {RecipientFromAddress([]byte("lk1recipient"))},
	} {
		if c.got.String() != name {
			t.Errorf("got %s, want %s", c.got, name)
		}
	}
}

// mimcReference is the hash as docs/withdrawals.md defines it, written
// from gnark-crypto's round constants only: Miyaguchi–Preneel over the
// MiMC-x⁵ block cipher, h₀ = IV, hᵢ = E_{hᵢ₋₁}(mᵢ) + hᵢ₋₁ + mᵢ, with
// E_k(x) = (rounds of x ← (x + k + cᵢ)⁵) + k.
func mimcReference(iv Scalar, msgs ...Scalar) Scalar {
	consts := mimc.GetConstants()
	h := iv.element()
	for _, m := range msgs {
		x, k := m.element(), h
		for i := range consts {
			var c, t fr.Element
			c.SetBigInt(&consts[i])
			t.Add(&x, &k).Add(&t, &c)
			x.Square(&t).Square(&x).Mul(&x, &t)
		}
		x.Add(&x, &k)
		h.Add(&x, &h)
		mm := m.element()
		h.Add(&h, &mm)
	}
	return Scalar{h}
}

func TestHashesFollowTheirDefinition(t *testing.T) {
	if len(mimc.GetConstants()) != 110 {
		t.Fatalf("MiMC-BN254 has %d rounds, want 110", len(mimc.GetConstants()))
	}
	r := testRand(19)
	for range 20 {
		a, b := randScalar(r), randScalar(r)
		amount, idx := r.Uint64(), r.Uint64()
		if HashNode(a, b) != mimcReference(DomainIV(DomainNode), a, b) {
			t.Fatal("HashNode")
		}
		if Precommitment(a, b) != mimcReference(DomainIV(DomainPrecommitment), a, b) {
			t.Fatal("Precommitment")
		}
		if Commitment(a, amount) != mimcReference(DomainIV(DomainCommitment), a, ScalarFromUint64(amount)) {
			t.Fatal("Commitment")
		}
		if Nullifier(a, idx) != mimcReference(DomainIV(DomainNullifier), a, ScalarFromUint64(idx)) {
			t.Fatal("Nullifier")
		}
	}
	// The IVs and the empty leaf are SHA-256 of their labels modulo r.
	mod := fr.Modulus()
	for d := DomainNode; d <= DomainNullifier; d++ {
		sum := sha256.Sum256([]byte(domainLabels[d]))
		want := new(big.Int).Mod(new(big.Int).SetBytes(sum[:]), mod)
		if DomainIV(d).BigInt().Cmp(want) != 0 {
			t.Fatalf("IV of domain %d", d)
		}
	}
	seen := map[Scalar]bool{EmptyLeaf(): true}
	for d := DomainNode; d <= DomainNullifier; d++ {
		if seen[DomainIV(d)] {
			t.Fatal("two domains share an IV")
		}
		seen[DomainIV(d)] = true
	}
	// Same inputs, different domains, different outputs.
	a, b := ScalarFromUint64(3), ScalarFromUint64(4)
	if HashNode(a, b) == Precommitment(a, b) || Nullifier(a, 4) == Commitment(a, 4) || HashNode(a, b) == Nullifier(a, 4) {
		t.Fatal("domain separation failed")
	}
}

func TestZeroHashes(t *testing.T) {
	if ZeroHash(0) != EmptyLeaf() {
		t.Fatal("ZeroHash(0) is not the empty leaf")
	}
	for l := 1; l <= MaxDepth; l++ {
		if ZeroHash(l) != HashNode(ZeroHash(l-1), ZeroHash(l-1)) {
			t.Fatalf("ZeroHash(%d)", l)
		}
	}
	for _, h := range []int{-1, MaxDepth + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ZeroHash(%d) did not panic", h)
				}
			}()
			ZeroHash(h)
		}()
	}
}

func TestRecipientFromAddress(t *testing.T) {
	bound := new(big.Int).Lsh(big.NewInt(1), 253)
	seen := map[Scalar]bool{}
	for i := range 300 {
		addr := []byte{byte(i), byte(i >> 8)}
		s := RecipientFromAddress(addr)
		if s.BigInt().Cmp(bound) >= 0 {
			t.Fatalf("recipient %s ≥ 2²⁵³", s)
		}
		if s != RecipientFromAddress(addr) {
			t.Fatal("not deterministic")
		}
		seen[s] = true
	}
	if len(seen) != 300 {
		t.Fatal("recipient collision among 300 addresses")
	}
}

func TestScalarEncodings(t *testing.T) {
	r := testRand(23)
	for range 50 {
		s := randScalar(r)
		b := s.Bytes()
		p, err := ParseScalar(b[:])
		if err != nil || p != s {
			t.Fatal("bytes round trip")
		}
		var u Scalar
		if err := u.UnmarshalText([]byte(s.String())); err != nil || u != s {
			t.Fatal("text round trip")
		}
	}
	j, err := json.Marshal(struct{ S Scalar }{ScalarFromUint64(258)})
	if err != nil || string(j) != `{"S":"0x0000000000000000000000000000000000000000000000000000000000000102"}` {
		t.Fatalf("JSON: %s %v", j, err)
	}
	// The modulus itself and anything above are not canonical.
	mod := fr.Modulus()
	var m [ScalarSize]byte
	mod.FillBytes(m[:])
	if _, err := ParseScalar(m[:]); err == nil {
		t.Fatal("r accepted")
	}
	mod.Sub(mod, big.NewInt(1)).FillBytes(m[:])
	if _, err := ParseScalar(m[:]); err != nil {
		t.Fatal("r-1 rejected")
	}
	for _, bad := range []string{"", "0x", "0x12", "12" + ScalarFromUint64(1).String()[2:] + "00", "0y" + ScalarFromUint64(1).String()[2:],
		"0x" + string(make([]byte, 64)), "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"} {
		var s Scalar
		if s.UnmarshalText([]byte(bad)) == nil {
			t.Errorf("UnmarshalText(%q) accepted", bad)
		}
	}
	if _, err := ParseScalar(make([]byte, 31)); err == nil {
		t.Fatal("31 bytes accepted")
	}
}
