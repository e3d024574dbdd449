// Code generated from backend_bn254.go by gen.go; DO NOT EDIT.

//go:build !lightkeeper_nobls12381

package verifier

import (
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bls12-381"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func init() {
	inputCounters[CurveBLS12_381] = func(b []byte, limits protocol.Limits) (int, *Error) {
		v, e := publicInputsBls12381(b, limits)
		return len(v), e
	}
	keyParsers[SchemeGroth16][CurveBLS12_381] = func(b []byte, limits protocol.Limits) (parsedKey, *Error) {
		k, e := newGroth16KeyBls12381(b, limits)
		if e != nil {
			return nil, e
		}
		return k, nil
	}
}

// publicInputsBls12381 parses public inputs into BLS12-381 scalars.
func publicInputsBls12381(b []byte, limits protocol.Limits) (fr.Vector, *Error) {
	raw, e := decodePublicInputs(b, limits)
	if e != nil {
		return nil, e
	}
	v := make(fr.Vector, len(raw))
	for i := range raw {
		var err error
		if v[i], err = fr.BigEndian.Element(&raw[i]); err != nil {
			return nil, notCanonical(i, CurveBLS12_381)
		}
	}
	return v, nil
}

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
