// Code generated from groth16_bn254.go by gen.go; DO NOT EDIT.

package verifier

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc"
	curve "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr/hash_to_field"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr/pedersen"
)

// groth16VKBls12381 mirrors gnark's groth16 VerifyingKey.
type groth16VKBls12381 struct {
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
func (vk *groth16VKBls12381) nbPublic() int {
	return len(vk.k) - 1 - len(vk.publicAndCommitmentCommitted)
}

// parseGroth16VKBls12381 decodes gnark's VerifyingKey.WriteTo/WriteRawTo
// encoding: [α]1,[β]1,[β]2,[γ]2,[δ]1,[δ]2, []Kvk, [][]u64 committed
// indices, u32 number of commitment keys, the pedersen keys.
//
// Decoding a point costs a square root and, on BLS12-381, a subgroup check,
// so counts are bounded before the points are decoded: K by maxPublic plus
// the commitments, commitments by maxCommitments. Those refusals are *Error
// values (ReasonOversized, ReasonUnsupported); every other failure is a
// plain error meaning a malformed key.
func parseGroth16VKBls12381(b []byte, maxPublic int) (*groth16VKBls12381, error) {
	c := newCursor(b)
	dec := curve.NewDecoder(c)
	vk := new(groth16VKBls12381)
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

// groth16ProofBls12381 mirrors gnark's groth16 Proof.
type groth16ProofBls12381 struct {
	ar, krs       curve.G1Affine
	bs            curve.G2Affine
	commitments   []curve.G1Affine
	commitmentPok curve.G1Affine
}

// parseGroth16ProofBls12381 decodes gnark's Proof.WriteTo/WriteRawTo encoding:
// Ar, Bs, Krs, []Commitments, CommitmentPok. The decoder checks that every
// point is on the curve and in the prime-order subgroup.
func parseGroth16ProofBls12381(b []byte) (*groth16ProofBls12381, error) {
	c := newCursor(b)
	dec := curve.NewDecoder(c)
	p := new(groth16ProofBls12381)
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

var errGroth16PairingBls12381 = errors.New("pairing check failed")

// verify checks the proof against the key and the public inputs (which must
// already have the right length).
func (vk *groth16VKBls12381) verify(proof *groth16ProofBls12381, publicInputs fr.Vector) error {
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
		return errGroth16PairingBls12381
	}
	return nil
}

// checkGroth16Bls12381 parses a key and returns its number of public inputs.
func checkGroth16Bls12381(vkBytes []byte, limits Limits) (int, *Error) {
	vk, err := parseGroth16VKBls12381(vkBytes, limits.MaxPublicInputs)
	if err != nil {
		return 0, asError(ReasonMalformedVerifyingKey, err)
	}
	return vk.nbPublic(), nil
}

// verifyGroth16Bls12381 runs one job: key, proof, inputs, count, pairing.
func verifyGroth16Bls12381(job *ProofJob, limits Limits) *Error {
	vk, err := parseGroth16VKBls12381(job.VerifyingKey, limits.MaxPublicInputs)
	if err != nil {
		return asError(ReasonMalformedVerifyingKey, err)
	}
	proof, err := parseGroth16ProofBls12381(job.Proof)
	if err != nil {
		return newError(ReasonMalformedProof, err.Error())
	}
	public, perr := publicInputsBls12381(job.PublicInputs, limits)
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
