package verifier

import (
	bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bn254"
)

// The curves' prepared Miller-loop lines of one G2 point differ in length
// (BLS12-381's last loop step has none), so the shared batch code
// (groth16_batch_bn254.go and its generated twin) names them by these
// aliases.
type (
	linesBn254    = [2][len(bn254.LoopCounter)]bn254.LineEvaluationAff
	linesBls12381 = [2][len(bls12381.LoopCounter) - 1]bls12381.LineEvaluationAff
)
