package verifier_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	blsfp "github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/plonk"
	"github.com/consensys/gnark/backend/witness"

	"github.com/lightkeeper-net/lightkeeper/internal/proofgen"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

type combo struct {
	scheme verifier.Scheme
	curve  verifier.Curve
}

func (c combo) String() string { return c.scheme.String() + "/" + c.curve.String() }

var combos = []combo{
	{verifier.SchemeGroth16, verifier.CurveBN254},
	{verifier.SchemeGroth16, verifier.CurveBLS12_381},
	{verifier.SchemePlonk, verifier.CurveBN254},
	{verifier.SchemePlonk, verifier.CurveBLS12_381},
}

// kit is a fixture with one valid proof (secret 3) and a second fixture of
// the same scheme and curve for a different circuit.
type kit struct {
	f, other, committed *proofgen.Fixture
	p, pc               proofgen.Proof // valid proofs for f and committed
}

type kitOnce struct {
	once sync.Once
	k    *kit
	err  error
}

// kits caches fixtures per combo for the whole test binary (setup costs
// ~100 ms each).
var kits = map[combo]*kitOnce{}

func init() {
	for _, c := range combos {
		kits[c] = &kitOnce{}
	}
}

func getKit(tb testing.TB, c combo) *kit {
	tb.Helper()
	ko := kits[c]
	ko.once.Do(func() {
		k := &kit{}
		if k.f, ko.err = proofgen.New(c.scheme, c.curve); ko.err != nil {
			return
		}
		if k.other, ko.err = proofgen.NewWithSize(c.scheme, c.curve, 12); ko.err != nil {
			return
		}
		if k.committed, ko.err = proofgen.NewCommitted(c.scheme, c.curve); ko.err != nil {
			return
		}
		if k.p, ko.err = k.f.Prove(3); ko.err != nil {
			return
		}
		if k.pc, ko.err = k.committed.Prove(5); ko.err != nil {
			return
		}
		ko.k = k
	})
	if ko.err != nil {
		tb.Fatalf("fixture %s: %v", c, ko.err)
	}
	return ko.k
}

func curveID(c verifier.Curve) ecc.ID {
	if c == verifier.CurveBN254 {
		return ecc.BN254
	}
	return ecc.BLS12_381
}

// gnarkResult is what gnark v0.16.1's own code says about a job.
type gnarkResult struct {
	vkOK, proofOK, inputsOK bool // decoded completely, no trailing bytes
	verifyErr               error
}

func (g gnarkResult) accepts() bool { return g.vkOK && g.proofOK && g.inputsOK && g.verifyErr == nil }

// gnarkCheck decodes and verifies a job with gnark itself. Binary public
// inputs only. Only call it on byte strings whose length prefixes are sane
// (gnark allocates whatever a prefix says).
func gnarkCheck(job verifier.ProofJob) (res gnarkResult) {
	defer func() {
		if r := recover(); r != nil {
			res.verifyErr = fmt.Errorf("gnark panicked: %v", r)
		}
	}()
	id := curveID(job.Curve)
	pub, err := witness.New(id.ScalarField())
	if err != nil {
		panic(err)
	}
	r := bytes.NewReader(job.PublicInputs)
	if _, err := pub.ReadFrom(r); err == nil && r.Len() == 0 {
		res.inputsOK = true
	}
	switch job.Scheme {
	case verifier.SchemeGroth16:
		vk, proof := groth16.NewVerifyingKey(id), groth16.NewProof(id)
		r := bytes.NewReader(job.VerifyingKey)
		_, err := vk.ReadFrom(r)
		res.vkOK = err == nil && r.Len() == 0
		r = bytes.NewReader(job.Proof)
		_, err = proof.ReadFrom(r)
		res.proofOK = err == nil && r.Len() == 0
		if res.vkOK && res.proofOK && res.inputsOK {
			res.verifyErr = groth16.Verify(proof, vk, pub)
		}
	case verifier.SchemePlonk:
		vk, proof := plonk.NewVerifyingKey(id), plonk.NewProof(id)
		r := bytes.NewReader(job.VerifyingKey)
		_, err := vk.ReadFrom(r)
		res.vkOK = err == nil && r.Len() == 0
		r = bytes.NewReader(job.Proof)
		_, err = proof.ReadFrom(r)
		res.proofOK = err == nil && r.Len() == 0
		if res.vkOK && res.proofOK && res.inputsOK {
			res.verifyErr = plonk.Verify(proof, vk, pub)
		}
	}
	return res
}

func wantVerdict(t *testing.T, job verifier.ProofJob, limits verifier.Limits, vote verifier.VoteKind, reason verifier.RejectReason) verifier.Verdict {
	t.Helper()
	got := verifier.VerifyProof(job, limits)
	if got.Vote != vote || got.Reason != reason {
		t.Fatalf("verdict = %v, want %v/%v", got, vote, reason)
	}
	if vote == verifier.VoteReject && got.Detail == "" {
		t.Fatalf("reject without detail: %v", got)
	}
	return got
}

// Point sizes (compressed) per curve.
func g1Size(c verifier.Curve) int {
	if c == verifier.CurveBN254 {
		return bn254.SizeOfG1AffineCompressed
	}
	return bls12381.SizeOfG1AffineCompressed
}

// offCurveG1 returns the uncompressed encoding of (1, 1), a point on
// neither curve.
func offCurveG1(c verifier.Curve) []byte {
	n := 2 * g1Size(c)
	b := make([]byte, n)
	b[n/2-1], b[n-1] = 1, 1
	return b
}

// nonSubgroupG1BLS returns the uncompressed encoding of a BLS12-381 G1
// point on the curve but outside the prime-order subgroup.
func nonSubgroupG1BLS() []byte {
	var four blsfp.Element
	four.SetUint64(4)
	for x := uint64(1); ; x++ {
		var p bls12381.G1Affine
		p.X.SetUint64(x)
		var rhs blsfp.Element
		rhs.Square(&p.X).Mul(&rhs, &p.X).Add(&rhs, &four)
		if rhs.Legendre() != 1 {
			continue
		}
		p.Y.Sqrt(&rhs)
		if p.IsOnCurve() && !p.IsInSubGroup() {
			b := p.RawBytes()
			return b[:]
		}
	}
}

// nonSubgroupG2BN254 returns the uncompressed encoding of a BN254 G2 point
// on the twist but outside the prime-order subgroup.
func nonSubgroupG2BN254() []byte {
	_, _, _, g2 := bn254.Generators()
	// b' = y² - x³ from the generator.
	var x3 bn254.G2Affine
	bTwist := g2.Y
	bTwist.Square(&bTwist)
	x3.X.Square(&g2.X).Mul(&x3.X, &g2.X)
	bTwist.Sub(&bTwist, &x3.X)
	for k := uint64(1); ; k++ {
		var p bn254.G2Affine
		p.X.A0.SetUint64(k)
		p.X.A1.SetOne()
		rhs := p.X
		rhs.Square(&rhs).Mul(&rhs, &p.X).Add(&rhs, &bTwist)
		if rhs.Legendre() != 1 {
			continue
		}
		p.Y.Sqrt(&rhs)
		if p.IsOnCurve() && !p.IsInSubGroup() {
			b := p.RawBytes()
			return b[:]
		}
	}
}

// splice replaces b[off:off+n] with repl.
func splice(b []byte, off, n int, repl []byte) []byte {
	out := append([]byte{}, b[:off]...)
	out = append(out, repl...)
	return append(out, b[off+n:]...)
}
