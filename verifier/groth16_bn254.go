package verifier

// Groth16 on BN254. The BLS12-381 twin, groth16_bls12381.go, is generated
// from this file (see gen.go): edit this one only.
//
// Decoding follows gnark v0.16.1 backend/groth16/bn254/marshal.go and
// verification follows backend/groth16/bn254/verify.go (Apache-2.0,
// Consensys Software Inc.), without logging, clocks or goroutines, with
// every length prefix bounded before allocation and with the index checks
// that keep a hostile key from panicking the verifier.

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/hash_to_field"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/pedersen"
)

// groth16VKBn254 mirrors gnark's groth16 VerifyingKey.
type groth16VKBn254 struct {
	alpha, betaG1, deltaG1 curve.G1Affine
	beta, gamma, delta     curve.G2Affine
	// k holds [Kvk]1: the ONE wire, the public inputs, then one point per
	// commitment.
	k []curve.G1Affine
	// publicAndCommitmentCommitted[i] lists the (1-based) public wires
	// hashed into commitment i.
	publicAndCommitmentCommitted [][]int
	commitmentKeys               []pedersen.VerifyingKey
}

// nbPublic is the number of public inputs a proof must come with.
func (vk *groth16VKBn254) nbPublic() int {
	return len(vk.k) - 1 - len(vk.publicAndCommitmentCommitted)
}

// parseGroth16VKBn254 decodes gnark's VerifyingKey.WriteTo/WriteRawTo
// encoding: [α]1,[β]1,[β]2,[γ]2,[δ]1,[δ]2, []Kvk, [][]u64 committed
// indices, u32 number of commitment keys, the pedersen keys.
//
// Decoding a point costs a square root and, on BLS12-381, a subgroup check,
// so counts are bounded before the points are decoded: K by maxPublic plus
// the commitments, commitments by maxCommitments. Those refusals are *Error
// values (ReasonOversized, ReasonUnsupported); every other failure is a
// plain error meaning a malformed key.
func parseGroth16VKBn254(b []byte, maxPublic int) (*groth16VKBn254, error) {
	c := newCursor(b)
	dec := curve.NewDecoder(c)
	vk := new(groth16VKBn254)
	if err := decodeAll(dec.Decode, "verifying key",
		&vk.alpha, &vk.betaG1, &vk.beta, &vk.gamma, &vk.deltaG1, &vk.delta); err != nil {
		return nil, err
	}
	if err := c.checkSliceLen(curve.SizeOfG1AffineCompressed); err != nil {
		return nil, fmt.Errorf("verifying key K: %w", err)
	}
	if n, _ := c.peekUint32(); uint64(n) > uint64(1+maxPublic+maxCommitments) {
		return nil, tooManyKeyInputs(int64(n)-1-maxCommitments, maxPublic)
	}
	if err := dec.Decode(&vk.k); err != nil {
		return nil, fmt.Errorf("verifying key K: %w", err)
	}
	committed, err := c.readUint64SliceSlice()
	if err != nil {
		return nil, fmt.Errorf("verifying key committed indices: %w", err)
	}
	if len(committed) > maxCommitments {
		return nil, tooManyCommitments(int64(len(committed)))
	}
	nbCommitments, err := c.readUint32()
	if err != nil {
		return nil, fmt.Errorf("verifying key commitment count: %w", err)
	}
	if int64(nbCommitments) != int64(len(committed)) {
		return nil, fmt.Errorf("verifying key has %d commitment keys but %d committed index lists", nbCommitments, len(committed))
	}
	if uint64(nbCommitments)*2*curve.SizeOfG2AffineCompressed > uint64(c.Len()) {
		return nil, fmt.Errorf("verifying key announces %d commitment keys but only %d bytes are left", nbCommitments, c.Len())
	}
	vk.commitmentKeys = make([]pedersen.VerifyingKey, nbCommitments)
	for i := range vk.commitmentKeys {
		if _, err := vk.commitmentKeys[i].ReadFrom(c); err != nil {
			return nil, fmt.Errorf("verifying key commitment key %d: %w", i, err)
		}
	}
	if err := c.done(); err != nil {
		return nil, fmt.Errorf("verifying key: %w", err)
	}

	// Shape checks: gnark's Verify indexes with these numbers unchecked.
	if len(vk.k) < 1+len(committed) {
		return nil, fmt.Errorf("verifying key has %d K points, needs at least %d", len(vk.k), 1+len(committed))
	}
	nbPublicVars := len(vk.k) - len(committed) // including the ONE wire
	vk.publicAndCommitmentCommitted = make([][]int, len(committed))
	for i, list := range committed {
		vk.publicAndCommitmentCommitted[i] = make([]int, len(list))
		for j, idx := range list {
			// Commitment i hashes public wires 1..nbPublicVars-1 and the
			// values of commitments 0..i-1 (appended after them).
			if idx < 1 || idx > uint64(nbPublicVars-1+i) {
				return nil, fmt.Errorf("verifying key commitment %d commits to wire %d, out of range", i, idx)
			}
			vk.publicAndCommitmentCommitted[i][j] = int(idx)
		}
	}
	return vk, nil
}

// groth16ProofBn254 mirrors gnark's groth16 Proof.
type groth16ProofBn254 struct {
	ar, krs       curve.G1Affine
	bs            curve.G2Affine
	commitments   []curve.G1Affine
	commitmentPok curve.G1Affine
}

// parseGroth16ProofBn254 decodes gnark's Proof.WriteTo/WriteRawTo encoding:
// Ar, Bs, Krs, []Commitments, CommitmentPok. The decoder checks that every
// point is on the curve and in the prime-order subgroup.
func parseGroth16ProofBn254(b []byte) (*groth16ProofBn254, error) {
	c := newCursor(b)
	dec := curve.NewDecoder(c)
	p := new(groth16ProofBn254)
	if err := decodeAll(dec.Decode, "proof", &p.ar, &p.bs, &p.krs); err != nil {
		return nil, err
	}
	if err := c.checkSliceLen(curve.SizeOfG1AffineCompressed); err != nil {
		return nil, fmt.Errorf("proof commitments: %w", err)
	}
	if n, _ := c.peekUint32(); n > maxCommitments {
		return nil, fmt.Errorf("proof has %d commitments, more than the %d supported", n, maxCommitments)
	}
	if err := decodeAll(dec.Decode, "proof", &p.commitments, &p.commitmentPok); err != nil {
		return nil, err
	}
	if err := c.done(); err != nil {
		return nil, fmt.Errorf("proof: %w", err)
	}
	return p, nil
}

var errGroth16PairingBn254 = errors.New("pairing check failed")

// verify checks the proof against the key and the public inputs (which must
// already have the right length).
func (vk *groth16VKBn254) verify(proof *groth16ProofBn254, publicInputs fr.Vector) error {
	nbCommitments := len(vk.publicAndCommitmentCommitted)
	if len(proof.commitments) != nbCommitments {
		return fmt.Errorf("proof has %d commitments, key expects %d", len(proof.commitments), nbCommitments)
	}
	if len(publicInputs) != vk.nbPublic() {
		return fmt.Errorf("got %d public inputs, key expects %d", len(publicInputs), vk.nbPublic())
	}

	// Append one hashed value per commitment (gnark's solveCommitmentWire).
	publicWitness := make(fr.Vector, len(publicInputs), len(publicInputs)+nbCommitments)
	copy(publicWitness, publicInputs)
	if nbCommitments > 0 {
		hashToField := hash_to_field.New([]byte(groth16CommitmentDst))
		maxNbPublicCommitted := 0
		for _, s := range vk.publicAndCommitmentCommitted {
			maxNbPublicCommitted = max(maxNbPublicCommitted, len(s))
		}
		commitmentsSerialized := make([]byte, nbCommitments*fr.Bytes)
		commitmentPrehashSerialized := make([]byte, curve.SizeOfG1AffineUncompressed+maxNbPublicCommitted*fr.Bytes)
		for i := range vk.publicAndCommitmentCommitted {
			copy(commitmentPrehashSerialized, proof.commitments[i].Marshal())
			offset := curve.SizeOfG1AffineUncompressed
			for _, idx := range vk.publicAndCommitmentCommitted[i] {
				copy(commitmentPrehashSerialized[offset:], publicWitness[idx-1].Marshal())
				offset += fr.Bytes
			}
			hashToField.Write(commitmentPrehashSerialized[:offset])
			hashBts := hashToField.Sum(nil)
			hashToField.Reset()
			nbBuf := min(fr.Bytes, hashToField.Size())
			var res fr.Element
			res.SetBytes(hashBts[:nbBuf])
			publicWitness = append(publicWitness, res)
			copy(commitmentsSerialized[i*fr.Bytes:], res.Marshal())
		}
		challenge, err := fr.Hash(commitmentsSerialized, []byte(groth16CommitmentChallengeDst), 1)
		if err != nil {
			return err
		}
		if err := pedersen.BatchVerifyMultiVk(vk.commitmentKeys, proof.commitments, []curve.G1Affine{proof.commitmentPok}, challenge[0]); err != nil {
			return fmt.Errorf("commitment proof of knowledge: %w", err)
		}
	}

	// kSum = [K0]1 + Σ xᵢ·[Kᵢ]1 + Σ commitments
	var kSum curve.G1Jac
	if len(publicWitness) > 0 {
		if _, err := kSum.MultiExp(vk.k[1:], publicWitness, ecc.MultiExpConfig{NbTasks: 1}); err != nil {
			return err
		}
	}
	kSum.AddMixed(&vk.k[0])
	for i := range proof.commitments {
		kSum.AddMixed(&proof.commitments[i])
	}
	var kSumAff curve.G1Affine
	kSumAff.FromJacobian(&kSum)

	// e(A,B) == e(α,β)·e(kSum,γ)·e(C,δ), checked as one product of four
	// pairings against 1 with the G1 side negated.
	var negAlpha, negKSum, negKrs curve.G1Affine
	negAlpha.Neg(&vk.alpha)
	negKSum.Neg(&kSumAff)
	negKrs.Neg(&proof.krs)
	ok, err := curve.PairingCheck(
		[]curve.G1Affine{proof.ar, negAlpha, negKSum, negKrs},
		[]curve.G2Affine{proof.bs, vk.beta, vk.gamma, vk.delta},
	)
	if err != nil {
		return err
	}
	if !ok {
		return errGroth16PairingBn254
	}
	return nil
}

// checkGroth16Bn254 parses a key and returns its number of public inputs.
func checkGroth16Bn254(vkBytes []byte, limits Limits) (int, *Error) {
	vk, err := parseGroth16VKBn254(vkBytes, limits.MaxPublicInputs)
	if err != nil {
		return 0, asError(ReasonMalformedVerifyingKey, err)
	}
	return vk.nbPublic(), nil
}

// verifyGroth16Bn254 runs one job: key, proof, inputs, count, pairing.
func verifyGroth16Bn254(job *ProofJob, limits Limits) *Error {
	vk, err := parseGroth16VKBn254(job.VerifyingKey, limits.MaxPublicInputs)
	if err != nil {
		return asError(ReasonMalformedVerifyingKey, err)
	}
	proof, err := parseGroth16ProofBn254(job.Proof)
	if err != nil {
		return newError(ReasonMalformedProof, err.Error())
	}
	public, perr := publicInputsBn254(job.PublicInputs, limits)
	if perr != nil {
		return perr
	}
	if len(public) != vk.nbPublic() {
		return wrongInputCount(len(public), vk.nbPublic())
	}
	if err := vk.verify(proof, public); err != nil {
		return newError(ReasonInvalidProof, err.Error())
	}
	return nil
}
