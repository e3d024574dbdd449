// Code generated from backend_bn254.go by gen.go; DO NOT EDIT.

package verifier

import (
	"errors"
	"fmt"
	"math/big"

	curve "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bls12-381"
	plonk "github.com/consensys/gnark/backend/plonk/bls12-381"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// readGroth16VKBls12381 pre-checks a Groth16 key and decodes it with gnark
// (which also precomputes e(α, β)).
func readGroth16VKBls12381(b []byte, limits protocol.Limits) (*groth16.VerifyingKey, *Error) {
	if err := scanGroth16VK(CurveBLS12_381, b, limits.MaxPublicInputs); err != nil {
		return nil, asError(ReasonMalformedVerifyingKey, err)
	}
	vk := new(groth16.VerifyingKey)
	if err := readExactly(vk, b); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, "verifying key: "+err.Error())
	}
	return vk, nil
}

// groth16NbPublicBls12381 is the number of public inputs a proof comes with:
// K holds the ONE wire, the public inputs and one point per commitment.
func groth16NbPublicBls12381(vk *groth16.VerifyingKey) int {
	return len(vk.G1.K) - 1 - len(vk.PublicAndCommitmentCommitted)
}

// checkGroth16Bls12381 parses a key and returns its number of public inputs.
func checkGroth16Bls12381(b []byte, limits protocol.Limits) (int, *Error) {
	vk, e := readGroth16VKBls12381(b, limits)
	if e != nil {
		return 0, e
	}
	return groth16NbPublicBls12381(vk), nil
}

// verifyGroth16Bls12381 runs one job: key, proof, inputs, count, gnark's
// Verify.
func verifyGroth16Bls12381(job *ProofJob, limits protocol.Limits) *Error {
	vk, e := readGroth16VKBls12381(job.VerifyingKey, limits)
	if e != nil {
		return e
	}
	proof, public, e := readGroth16JobBls12381(vk, job, limits)
	if e != nil {
		return e
	}
	return verifyGroth16ParsedBls12381(vk, proof, public)
}

// readGroth16JobBls12381 decodes a job's proof and public inputs for a parsed
// key and checks their count.
func readGroth16JobBls12381(vk *groth16.VerifyingKey, job *ProofJob, limits protocol.Limits) (*groth16.Proof, fr.Vector, *Error) {
	if err := scanGroth16Proof(CurveBLS12_381, job.Proof); err != nil {
		return nil, nil, newError(ReasonMalformedProof, err.Error())
	}
	proof := new(groth16.Proof)
	if err := readExactly(proof, job.Proof); err != nil {
		return nil, nil, newError(ReasonMalformedProof, "proof: "+err.Error())
	}
	public, e := publicInputsBls12381(job.PublicInputs, limits)
	if e != nil {
		return nil, nil, e
	}
	if n := groth16NbPublicBls12381(vk); len(public) != n {
		return nil, nil, wrongInputCount(len(public), n)
	}
	return proof, public, nil
}

// verifyGroth16ParsedBls12381 is gnark's Verify on decoded values.
func verifyGroth16ParsedBls12381(vk *groth16.VerifyingKey, proof *groth16.Proof, public fr.Vector) *Error {
	if err := groth16.Verify(proof, vk, public); err != nil {
		return newError(ReasonInvalidProof, err.Error())
	}
	return nil
}

// readPlonkVKBls12381 pre-checks a PLONK key, decodes it with gnark and checks
// its consistency.
func readPlonkVKBls12381(b []byte) (*plonk.VerifyingKey, *Error) {
	if err := scanPlonkVK(CurveBLS12_381, b); err != nil {
		return nil, asError(ReasonMalformedVerifyingKey, err)
	}
	vk := new(plonk.VerifyingKey)
	if err := readExactly(vk, b); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, "verifying key: "+err.Error())
	}
	if err := checkPlonkVKBls12381(vk); err != nil {
		return nil, newError(ReasonMalformedVerifyingKey, err.Error())
	}
	return vk, nil
}

// checkPlonkVKBls12381 checks what an honest setup guarantees and gnark's
// Verify relies on without checking: the integers (checkPlonkShape), a
// primitive root of unity of the domain size and its inverse size, and
// pairing lines that really belong to the KZG key's two G2 points (gnark
// decodes the lines as they come and pairs with them).
func checkPlonkVKBls12381(vk *plonk.VerifyingKey) error {
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

// checkPlonkBls12381 parses a key and returns its number of public inputs.
func checkPlonkBls12381(b []byte) (int, *Error) {
	vk, e := readPlonkVKBls12381(b)
	if e != nil {
		return 0, e
	}
	return int(vk.NbPublicVariables), nil // at most the domain size, 2^40
}

// verifyPlonkBls12381 runs one job: key, proof, inputs, count, gnark's Verify.
func verifyPlonkBls12381(job *ProofJob, limits protocol.Limits) *Error {
	vk, e := readPlonkVKBls12381(job.VerifyingKey)
	if e != nil {
		return e
	}
	return verifyPlonkKeyBls12381(vk, job, limits)
}

// verifyPlonkKeyBls12381 runs one job under a parsed key.
func verifyPlonkKeyBls12381(vk *plonk.VerifyingKey, job *ProofJob, limits protocol.Limits) *Error {
	if err := scanPlonkProof(CurveBLS12_381, job.Proof); err != nil {
		return newError(ReasonMalformedProof, err.Error())
	}
	proof := new(plonk.Proof)
	if err := readExactly(proof, job.Proof); err != nil {
		return newError(ReasonMalformedProof, "proof: "+err.Error())
	}
	public, e := publicInputsBls12381(job.PublicInputs, limits)
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
