package verifier

// Parsed Groth16 keys for the key cache (keycache.go) and batch
// verification of Groth16 proofs on BN254. The BLS12-381 twin,
// groth16_batch_bls12381.go, is generated from this file by gen.go: edit
// this one only.

import (
	"crypto/rand"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"math/big"
	"slices"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
)

// groth16KeyBn254 is a decoded Groth16 key (gnark's decoder already
// precomputed e(α, β) inside it for Verify) plus what the batch check
// needs, prepared on the first batch: e(α, β) again (gnark keeps its copy
// private) and the Miller-loop lines of -[δ]2 and -[γ]2, which every proof
// under the key pairs with.
type groth16KeyBn254 struct {
	vk       *groth16.VerifyingKey
	prepOnce sync.Once
	prepErr  error
	e        curve.GT
	lines    []linesBn254
}

func newGroth16KeyBn254(b []byte, limits protocol.Limits) (*groth16KeyBn254, *Error) {
	vk, e := readGroth16VKBn254(b, limits)
	if e != nil {
		return nil, e
	}
	return &groth16KeyBn254{vk: vk}, nil
}

func (k *groth16KeyBn254) nbPublic() int { return groth16NbPublicBn254(k.vk) }

func (k *groth16KeyBn254) verify(job *ProofJob, limits protocol.Limits) *Error {
	proof, public, e := readGroth16JobBn254(k.vk, job, limits)
	if e != nil {
		return e
	}
	return verifyGroth16ParsedBn254(k.vk, proof, public)
}

// verifyBatch decodes every job, checks the well-formed ones with one
// combined pairing equation, and only if that fails (or cannot be used)
// checks them one by one with gnark's Verify. Keys with BSB22 commitments
// always take the one-by-one path: their proofs add a Pedersen
// proof-of-knowledge pairing check and a Fiat-Shamir hash of the
// commitment into the public inputs, which this package would have to
// re-derive from gnark's code to fold them into the batch.
func (k *groth16KeyBn254) verifyBatch(jobs []*ProofJob, limits protocol.Limits) []*Error {
	errs := make([]*Error, len(jobs))
	var (
		idx     []int
		proofs  []*groth16.Proof
		publics []fr.Vector
	)
	for i, job := range jobs {
		proof, public, e := readGroth16JobBn254(k.vk, job, limits)
		if e != nil {
			errs[i] = e
			continue
		}
		idx = append(idx, i)
		proofs = append(proofs, proof)
		publics = append(publics, public)
	}
	if len(idx) > 1 && len(k.vk.PublicAndCommitmentCommitted) == 0 && k.batchHolds(proofs, publics) {
		return errs
	}
	for n, i := range idx {
		errs[i] = verifyGroth16ParsedBn254(k.vk, proofs[n], publics[n])
	}
	return errs
}

func (k *groth16KeyBn254) prepare() error {
	k.prepOnce.Do(func() {
		k.e, k.prepErr = curve.Pair([]curve.G1Affine{k.vk.G1.Alpha}, []curve.G2Affine{k.vk.G2.Beta})
		var deltaNeg, gammaNeg curve.G2Affine
		deltaNeg.Neg(&k.vk.G2.Delta)
		gammaNeg.Neg(&k.vk.G2.Gamma)
		k.lines = []linesBn254{curve.PrecomputeLines(deltaNeg), curve.PrecomputeLines(gammaNeg)}
	})
	return k.prepErr
}

// batchHolds checks n proofs (no commitments, public inputs counted) at
// once. Each proof i satisfies
//
//	e(Ar_i, Bs_i) · e(Krs_i, -δ) · e(S_i, -γ) = e(α, β),  S_i = K_0 + Σ_j x_ij K_j,
//
// and with independent random r_i of batchCoeffBits bits the product of
// the i-th equations raised to r_i is
//
//	Π_i e(r_i·Ar_i, Bs_i) · e(Σ_i r_i·Krs_i, -δ) · e(Σ_i r_i·S_i, -γ) = e(α, β)^(Σ_i r_i),
//
// where Σ_i r_i·S_i = (Σ_i r_i)·K_0 + Σ_j (Σ_i r_i·x_ij)·K_j is one
// multi-scalar multiplication over the key. That is n+2 pairs in one
// Miller loop (the last two with -δ and -γ prepared) and one final
// exponentiation. If any proof is invalid the batch passes with
// probability at most 2^-batchCoeffBits over the coefficients, which the
// prover cannot know in advance (crypto/rand, drawn per batch). Every
// point was checked to be on its curve and in the prime-order subgroup by
// gnark's decoder.
func (k *groth16KeyBn254) batchHolds(proofs []*groth16.Proof, publics []fr.Vector) bool {
	if err := k.prepare(); err != nil {
		return false
	}
	n := len(proofs)
	r := make([]fr.Element, n)
	ar := make([]curve.G1Affine, n)
	bs := make([]curve.G2Affine, n)
	krs := make([]curve.G1Affine, n)
	s := make([]fr.Element, len(k.vk.G1.K))
	var (
		sum  fr.Element
		rBig big.Int
		buf  [batchCoeffBits / 8]byte
		t    fr.Element
	)
	for i, p := range proofs {
		if _, err := rand.Read(buf[:]); err != nil {
			return false
		}
		r[i].SetBytes(buf[:]) // below the modulus: no reduction, no bias
		r[i].BigInt(&rBig)
		ar[i].ScalarMultiplication(&p.Ar, &rBig)
		bs[i] = p.Bs
		krs[i] = p.Krs
		sum.Add(&sum, &r[i])
		for j := range publics[i] {
			t.Mul(&r[i], &publics[i][j])
			s[j+1].Add(&s[j+1], &t)
		}
	}
	s[0] = sum
	var krsSum, kSum curve.G1Affine
	if _, err := krsSum.MultiExp(krs, r, ecc.MultiExpConfig{}); err != nil {
		return false
	}
	if _, err := kSum.MultiExp(k.vk.G1.K, s, ecc.MultiExpConfig{}); err != nil {
		return false
	}
	variable, err := curve.MillerLoop(ar, bs)
	if err != nil {
		return false
	}
	// MillerLoopFixedQ evaluates the lines at the points in place: it gets
	// a copy, the cached lines serve the next batch.
	fixed, err := curve.MillerLoopFixedQ([]curve.G1Affine{krsSum, kSum}, slices.Clone(k.lines))
	if err != nil {
		return false
	}
	got := curve.FinalExponentiation(&variable, &fixed)
	sum.BigInt(&rBig)
	var want curve.GT
	want.CyclotomicExp(k.e, &rBig) // e(α, β) is in the cyclotomic subgroup
	return got.Equal(&want)
}
