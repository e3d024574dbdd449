package verifier

// PLONK (gnark's variant with KZG commitments and optional BSB22
// commitments). The per-curve code lives in plonk_bn254.go and the
// generated plonk_bls12381.go.

const (
	// Key serialization header, as in gnark v0.16.1
	// backend/plonk/*/setup.go: a leading u64 0 marks a versioned key.
	plonkKeyVersionMarker uint64 = 0
	plonkKeyVersion1      uint64 = 1

	// plonkMaxLogSize bounds the evaluation domain (2^40 rows is far beyond
	// both curves' two-adicity, so no real key comes near it).
	plonkMaxLogSize = 40

	// plonkCommitmentDst is gnark's hash-to-field tag for BSB22
	// commitments in PLONK.
	plonkCommitmentDst = "BSB22-Plonk"
)

func checkPlonk(curve Curve, vk []byte) (int, *Error) {
	switch curve {
	case CurveBN254:
		return checkPlonkBn254(vk)
	case CurveBLS12_381:
		return checkPlonkBls12381(vk)
	}
	return 0, unsupportedCurve(curve)
}

func verifyPlonk(job *ProofJob, limits Limits) *Error {
	switch job.Curve {
	case CurveBN254:
		return verifyPlonkBn254(job, limits)
	case CurveBLS12_381:
		return verifyPlonkBls12381(job, limits)
	}
	return unsupportedCurve(job.Curve)
}
