//go:build !lightkeeper_nobls12381

package verifier

import bls12381 "github.com/consensys/gnark-crypto/ecc/bls12-381"

// BLS12-381's part of what curve_bn254.go describes. A build with the tag
// lightkeeper_nobls12381 leaves this file, the generated BLS12-381
// backends and gnark-crypto's BLS12-381 curve out.

func init() { encodings[CurveBLS12_381] = &encodingBLS12_381 }

var encodingBLS12_381 = pointEncoding{
	g1: bls12381.SizeOfG1AffineCompressed,
	g2: bls12381.SizeOfG2AffineCompressed,
	// Three flag bits (ZCash format): 000 uncompressed, 010 uncompressed
	// infinity, anything else is read as compressed.
	uncompressed: func(msb byte) bool { return msb>>5 == 0b000 || msb>>5 == 0b010 },
}

type linesBls12381 = [2][len(bls12381.LoopCounter) - 1]bls12381.LineEvaluationAff
