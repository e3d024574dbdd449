package verifier

// BN254 through gnark's per-curve backends: Groth16 here, PLONK in
// plonk_bn254.go. The BLS12-381 twins, backend_bls12381.go and
// plonk_bls12381.go, are generated from these files by gen.go (edit these
// only), and carry the build constraint !lightkeeper_nobls12381 besides
// their source's: a build with that tag links no BLS12-381 backend, and the
// registry (backends.go) answers its jobs as unsupported.
//
// Every byte string goes through the pre-check (decode.go, groth16.go,
// plonk.go) before gnark's ReadFrom sees it; gnark then decodes it (checking
// that every point is on the curve and in the prime-order subgroup and that
// every scalar is canonical) and gnark's Verify decides.

import (
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func init() {
	inputCounters[CurveBN254] = func(b []byte, limits protocol.Limits) (int, *Error) {
		v, e := publicInputsBn254(b, limits)
		return len(v), e
	}
	keyParsers[SchemeGroth16][CurveBN254] = func(b []byte, limits protocol.Limits) (parsedKey, *Error) {
		k, e := newGroth16KeyBn254(b, limits)
		if e != nil {
			return nil, e
		}
		return k, nil
	}
}

// publicInputsBn254 parses public inputs into BN254 scalars.
func publicInputsBn254(b []byte, limits protocol.Limits) (fr.Vector, *Error) {
	raw, e := decodePublicInputs(b, limits)
	if e != nil {
		return nil, e
	}
	v := make(fr.Vector, len(raw))
	for i := range raw {
		var err error
		if v[i], err = fr.BigEndian.Element(&raw[i]); err != nil {
			return nil, notCanonical(i, CurveBN254)
		}
	}
	return v, nil
}

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
