package verifier

import (
	blsfr "github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	bnfr "github.com/consensys/gnark-crypto/ecc/bn254/fr"
	blsg16 "github.com/consensys/gnark/backend/groth16/bls12-381"
	bng16 "github.com/consensys/gnark/backend/groth16/bn254"
)

type (
	groth16ProofBn254    = bng16.Proof
	groth16ProofBls12381 = blsg16.Proof
	frVectorBn254        = bnfr.Vector
	frVectorBls12381     = blsfr.Vector
)
