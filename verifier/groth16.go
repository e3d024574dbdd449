package verifier

// Groth16 (gnark's variant, with optional BSB22 commitments and their
// Pedersen proof of knowledge). The per-curve code lives in
// groth16_bn254.go and the generated groth16_bls12381.go.

// Domain separation tags, as in gnark v0.16.1 (constraint.CommitmentDst and
// the challenge tag in backend/groth16/*/verify.go).
const (
	groth16CommitmentDst          = "bsb22-commitment"
	groth16CommitmentChallengeDst = "G16-BSB22"
)

func checkGroth16(curve Curve, vk []byte, limits Limits) (int, *Error) {
	switch curve {
	case CurveBN254:
		return checkGroth16Bn254(vk, limits)
	case CurveBLS12_381:
		return checkGroth16Bls12381(vk, limits)
	}
	return 0, unsupportedCurve(curve)
}

func verifyGroth16(job *ProofJob, limits Limits) *Error {
	switch job.Curve {
	case CurveBN254:
		return verifyGroth16Bn254(job, limits)
	case CurveBLS12_381:
		return verifyGroth16Bls12381(job, limits)
	}
	return unsupportedCurve(job.Curve)
}
