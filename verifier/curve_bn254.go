package verifier

import "github.com/consensys/gnark-crypto/ecc/bn254"

// What the curve-independent code (the pre-check in decode.go, the batch
// check in groth16_batch_bn254.go) needs to know of BN254. Written by hand,
// unlike the backends: the two curves' encodings differ in their flag bits
// and their lines in length. curve_bls12381.go is the BLS12-381 one.

func init() { encodings[CurveBN254] = &encodingBN254 }

var encodingBN254 = pointEncoding{
	g1: bn254.SizeOfG1AffineCompressed,
	g2: bn254.SizeOfG2AffineCompressed,
	// Two flag bits: 00 uncompressed, 01 compressed infinity, 10 and 11
	// compressed.
	uncompressed: func(msb byte) bool { return msb>>6 == 0b00 },
}

// linesBn254 are the prepared Miller-loop lines of one G2 point; the
// shared batch code names them by this alias because the curves' lines
// differ in length (BLS12-381's last loop step has none).
type linesBn254 = [2][len(bn254.LoopCounter)]bn254.LineEvaluationAff
