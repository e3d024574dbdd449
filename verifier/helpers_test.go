package verifier_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	blsfp "github.com/consensys/gnark-crypto/ecc/bls12-381/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/plonk"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/protocol"
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
	skipUnbuilt(tb, c.scheme, c.curve)
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

// skipUnbuilt skips a test of a pair this build's tags leave out
// (lightkeeper_nobls12381, lightkeeper_noplonk): TestSupportedByBuild
// checks what those get instead.
func skipUnbuilt(tb testing.TB, s verifier.Scheme, c verifier.Curve) {
	tb.Helper()
	if !verifier.Supported(s, c) {
		tb.Skipf("%s/%s is not built in (build tags)", s, c)
	}
}

func curveID(c verifier.Curve) ecc.ID {
	if c == verifier.CurveBN254 {
		return ecc.BN254
	}
	return ecc.BLS12_381
}

// rawJob re-encodes the key and the proof of job uncompressed, with gnark's
// WriteRawTo (the pre-check must follow gnark's decoder through both
// encodings).
func rawJob(tb testing.TB, job verifier.ProofJob) verifier.ProofJob {
	tb.Helper()
	id := curveID(job.Curve)
	type object interface {
		io.ReaderFrom
		WriteRawTo(io.Writer) (int64, error)
	}
	var vk, proof object
	if job.Scheme == verifier.SchemeGroth16 {
		vk, proof = groth16.NewVerifyingKey(id), groth16.NewProof(id)
	} else {
		vk, proof = plonk.NewVerifyingKey(id), plonk.NewProof(id)
	}
	reencode := func(o object, b []byte) []byte {
		if _, err := o.ReadFrom(bytes.NewReader(b)); err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := o.WriteRawTo(&buf); err != nil {
			tb.Fatal(err)
		}
		return buf.Bytes()
	}
	job.VerifyingKey = reencode(vk, job.VerifyingKey)
	job.Proof = reencode(proof, job.Proof)
	return job
}

// unusedKeyByte reports whether byte off of a compressed key (as WriteTo
// makes it) belongs to a field that is decoded but never used by
// verification, so that changing it may leave the verdict unchanged:
// [β]1 and [δ]1 of Groth16 keys, and the precomputed PLONK pairing lines
// [j][1][i] where the Miller loop counter is zero (zeros in honest keys).
func unusedKeyByte(c combo, vk []byte, off int) bool {
	g1 := g1Size(c.curve)
	g2 := 2 * g1
	if c.scheme == verifier.SchemeGroth16 {
		return (off >= g1 && off < 2*g1) || (off >= 2*g1+2*g2 && off < 3*g1+2*g2)
	}
	qcp := 8 + 8 + 8 + 32 + 32 + 8 + 32 + 8*g1 // versioned header, scalars, S and Q*
	nQcp := int(binary.BigEndian.Uint32(vk[qcp:]))
	lines := qcp + 4 + nQcp*g1 + g1 + 2*g2
	var loop []int8
	var lineSize int
	if c.curve == verifier.CurveBN254 {
		loop, lineSize = bn254.LoopCounter[:], binary.Size(bn254.LineEvaluationAff{})
	} else {
		// One line fewer than loop steps: the last step has no line.
		loop, lineSize = bls12381.LoopCounter[:len(bls12381.LoopCounter)-1], binary.Size(bls12381.LineEvaluationAff{})
	}
	if off < lines || off >= lines+4*len(loop)*lineSize {
		return false
	}
	i := (off - lines) / lineSize
	return (i/len(loop))%2 == 1 && loop[i%len(loop)] == 0
}

func wantVerdict(t *testing.T, job verifier.ProofJob, limits protocol.Limits, vote protocol.VoteKind, reason verifier.RejectReason) verifier.Verdict {
	t.Helper()
	got := verifier.VerifyProof(job, limits)
	if got.Vote != vote || got.Reason != reason {
		t.Fatalf("verdict = %v, want %v/%v", got, vote, reason)
	}
	if vote == protocol.VoteReject && got.Detail == "" {
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
