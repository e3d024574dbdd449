// Package verifier holds Lightkeeper's pure verification logic: parsing and
// checking zk proofs (gnark Groth16 and PLONK on BN254 and BLS12-381),
// parsing public inputs, and building and checking keeper signatures over
// votes and registrations (DESIGN §3).
//
// The package is pure: no network, disk, clock, randomness that affects a
// result, goroutines of its own or mutable package state. The same code is
// built natively, for GOOS=js and for GOOS=wasip1, and all keepers must reach
// the same verdict for the same job, so every function here is a function of
// its arguments only.
//
// # Wire formats
//
// Verifying keys and proofs are gnark's own binary encodings (what
// VerifyingKey.WriteTo / WriteRawTo and Proof.WriteTo / WriteRawTo produce in
// gnark v0.16; compressed and uncompressed points are both accepted, exactly
// one object per byte string, no trailing bytes). Public inputs are either
// gnark's public-witness binary form (witness.MarshalBinary of a public
// witness: u32 nbPublic, u32 nbSecret = 0, u32 vector length, then 32-byte
// big-endian field elements) or a JSON list of decimal strings such as
// ["35","7"]; the JSON form is recognised by its first non-space byte '['.
// Every value must be a canonical field element (less than the modulus of
// the curve's scalar field); values are never reduced.
//
// # Why not gnark's backend packages
//
// gnark's per-curve backends (gnark/backend/groth16/bn254, ...) pull in the
// constraint system, solver and frontend packages, log through a global
// zerolog logger that writes debug lines to stdout outside tests, and start
// goroutines in Verify. This package therefore re-implements the two
// verifiers on top of gnark-crypto alone, following gnark v0.16.1's
// generated verify.go line by line (Apache-2.0, Consensys Software Inc.), and
// decodes gnark's binary encodings itself with the same gnark-crypto
// decoders, after bounding every length prefix by the bytes actually present
// (gnark's own ReadFrom would allocate whatever a length prefix says, which
// a 4-byte header can turn into an out-of-memory crash that recover cannot
// catch). The tests check the results against gnark's own verifier.
//
// The BLS12-381 files (*_bls12381.go) are generated from the BN254 ones by
// gen.go (go generate ./verifier/); TestGeneratedCurveFiles fails if they
// drift.
//
// # Determinism notes
//
// PLONK's final KZG check batches two openings with random coefficients
// drawn by gnark-crypto (kzg.BatchVerifyMultiPoints); a wrong proof passes
// with probability about 2^-250, so verdicts are deterministic in practice.
// gnark-crypto's multi-scalar multiplication and batch point decompression
// may run on internal goroutines that are joined before they return.
package verifier

//go:generate go run gen.go
