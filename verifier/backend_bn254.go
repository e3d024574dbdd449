package verifier

// BN254 through gnark's per-curve backends. The BLS12-381 twin,
// backend_bls12381.go, is generated from this file by gen.go: edit this one
// only.
//
// Every byte string goes through the pre-check (decode.go, groth16.go,
// plonk.go) before gnark's ReadFrom sees it; gnark then decodes it (checking
// that every point is on the curve and in the prime-order subgroup and that
// every scalar is canonical) and gnark's Verify decides.

import (
	"errors"
	"fmt"
	"math/big"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
	plonk "github.com/consensys/gnark/backend/plonk/bn254"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// readGroth16VKBn254 pre-checks a Groth16 key and decodes it with gnark
// (which also precomputes e(α, β)).
func readGroth16VKBn254(b []byte, limits protocol.Limits) (*groth16.VerifyingKey, *Error) {
	if err := scanGroth16VK(CurveBN254, b, limits.MaxPublicInputs); err != nil {
		return nil, asError(ReasonMalformedVerifyingKey, err)
	}
	vk := new(groth16.VerifyingKey)
	if err := readExactly(vk, b); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, "verifying key: "+err.Error())
	}
	return vk, nil
}

// groth16NbPublicBn254 is the number of public inputs a proof comes with:
// K holds the ONE wire, the public inputs and one point per commitment.
func groth16NbPublicBn254(vk *groth16.VerifyingKey) int {
	return len(vk.G1.K) - 1 - len(vk.PublicAndCommitmentCommitted)
}

// checkGroth16Bn254 parses a key and returns its number of public inputs.
func checkGroth16Bn254(b []byte, limits protocol.Limits) (int, *Error) {
	vk, e := readGroth16VKBn254(b, limits)
	if e != nil {
		return 0, e
	}
	return groth16NbPublicBn254(vk), nil
}

// verifyGroth16Bn254 runs one job: key, proof, inputs, count, gnark's
// Verify.
func verifyGroth16Bn254(job *ProofJob, limits protocol.Limits) *Error {
	vk, e := readGroth16VKBn254(job.VerifyingKey, limits)
	if e != nil {
		return e
	}
	proof, public, e := readGroth16JobBn254(vk, job, limits)
	if e != nil {
		return e
	}
	return verifyGroth16ParsedBn254(vk, proof, public)
}

// readGroth16JobBn254 decodes a job's proof and public inputs for a parsed
// key and checks their count.
func readGroth16JobBn254(vk *groth16.VerifyingKey, job *ProofJob, limits protocol.Limits) (*groth16.Proof, fr.Vector, *Error) {
	if err := scanGroth16Proof(CurveBN254, job.Proof); err != nil {
		return nil, nil, newError(ReasonMalformedProof, err.Error())
	}
	proof := new(groth16.Proof)
	if err := readExactly(proof, job.Proof); err != nil {
		return nil, nil, newError(ReasonMalformedProof, "proof: "+err.Error())
	}
	public, e := publicInputsBn254(job.PublicInputs, limits)
	if e != nil {
		return nil, nil, e
	}
	if n := groth16NbPublicBn254(vk); len(public) != n {
		return nil, nil, wrongInputCount(len(public), n)
	}
	return proof, public, nil
}

// verifyGroth16ParsedBn254 is gnark's Verify on decoded values.
func verifyGroth16ParsedBn254(vk *groth16.VerifyingKey, proof *groth16.Proof, public fr.Vector) *Error {
	if err := groth16.Verify(proof, vk, public); err != nil {
		return newError(ReasonInvalidProof, err.Error())
	}
	return nil
}

// readPlonkVKBn254 pre-checks a PLONK key, decodes it with gnark and checks
// its consistency.
func readPlonkVKBn254(b []byte) (*plonk.VerifyingKey, *Error) {
	if err := scanPlonkVK(CurveBN254, b); err != nil {
		return nil, asError(ReasonMalformedVerifyingKey, err)
	}
	vk := new(plonk.VerifyingKey)
	if err := readExactly(vk, b); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, "verifying key: "+err.Error())
	}
	if err := checkPlonkVKBn254(vk); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, err.Error())
	}
	return vk, nil
}

// checkPlonkVKBn254 checks what an honest setup guarantees and gnark's
// Verify relies on without checking: the integers (checkPlonkShape), a
// primitive root of unity of the domain size and its inverse size, and
// pairing lines that really belong to the KZG key's two G2 points (gnark
// decodes the lines as they come and pairs with them).
func checkPlonkVKBn254(vk *plonk.VerifyingKey) error {
	if err := checkPlonkShape(vk.Size, vk.NbPublicVariables, len(vk.Qcp), vk.CommitmentConstraintIndexes); err != nil {
		return err
	}
	var n, one fr.Element
	n.SetUint64(vk.Size)
	one.SetOne()
	if t := new(fr.Element).Mul(&n, &vk.SizeInv); !t.Equal(&one) {
		return errors.New("verifying key SizeInv is not the inverse of Size")
	}
	var e big.Int
	e.SetUint64(vk.Size)
	if t := new(fr.Element).Exp(vk.Generator, &e); !t.Equal(&one) {
		return errors.New("verifying key generator is not a root of unity of the domain size")
	}
	if vk.Size > 1 {
		e.SetUint64(vk.Size / 2)
		if t := new(fr.Element).Exp(vk.Generator, &e); t.Equal(&one) {
			return errors.New("verifying key generator is not a primitive root of unity")
		}
	}
	// The Miller loop reads the addition lines [1][i] only where the loop
	// counter is non-zero; honest keys hold zeros elsewhere and gnark
	// ignores those entries, so do we.
	for j := range vk.Kzg.G2 {
		want := curve.PrecomputeLines(vk.Kzg.G2[j])
		got := &vk.Kzg.Lines[j]
		for i := range want[0] {
			if got[0][i] != want[0][i] || (curve.LoopCounter[i] != 0 && got[1][i] != want[1][i]) {
				return fmt.Errorf("verifying key pairing lines do not match its G2 point %d", j)
			}
		}
	}
	return nil
}

// checkPlonkBn254 parses a key and returns its number of public inputs.
func checkPlonkBn254(b []byte) (int, *Error) {
	vk, e := readPlonkVKBn254(b)
	if e != nil {
		return 0, e
	}
	return int(vk.NbPublicVariables), nil // at most the domain size, 2^40
}

// verifyPlonkBn254 runs one job: key, proof, inputs, count, gnark's Verify.
func verifyPlonkBn254(job *ProofJob, limits protocol.Limits) *Error {
	vk, e := readPlonkVKBn254(job.VerifyingKey)
	if e != nil {
		return e
	}
	return verifyPlonkKeyBn254(vk, job, limits)
}

// verifyPlonkKeyBn254 runs one job under a parsed key.
func verifyPlonkKeyBn254(vk *plonk.VerifyingKey, job *ProofJob, limits protocol.Limits) *Error {
	if err := scanPlonkProof(CurveBN254, job.Proof); err != nil {
		return newError(ReasonMalformedProof, err.Error())
	}
	proof := new(plonk.Proof)
	if err := readExactly(proof, job.Proof); err != nil {
		return newError(ReasonMalformedProof, "proof: "+err.Error())
	}
	public, e := publicInputsBn254(job.PublicInputs, limits)
	if e != nil {
		return e
	}
	if uint64(len(public)) != vk.NbPublicVariables {
		return wrongInputCount(len(public), int(vk.NbPublicVariables))
	}
	if err := plonk.Verify(proof, vk, public); err != nil {
		return newError(ReasonInvalidProof, err.Error())
	}
	return nil
}
