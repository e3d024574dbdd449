// Package verifier holds Lightkeeper's pure verification logic: parsing and
// checking zk proofs (gnark Groth16 and PLONK on BN254 and BLS12-381),
// parsing public inputs, and building and checking keeper signatures over
// votes and registrations (docs/design.md §3).
//
// The package is pure: no network, disk, clock, randomness that affects a
// result (batch verification draws random coefficients, see
// KeyCache.VerifyBatch: they change its cost, not its verdicts, except
// with probability 2^-128), goroutines of its own or mutable package state (the one global it
// touches, gnark's logger, is silenced once at init; see gnarklog.go). The
// same code is
// built natively, for GOOS=js and for GOOS=wasip1, and all keepers must reach
// the same verdict for the same job, so every function here is a function of
// its arguments only.
//
// # Wire formats
//
// Verifying keys and proofs are gnark's own binary encodings (what
// VerifyingKey.WriteTo / WriteRawTo and Proof.WriteTo / WriteRawTo produce in
// gnark v0.16; compressed and uncompressed points are both accepted, and
// PLONK keys in gnark's older unversioned layout too; exactly one object per
// byte string, no trailing bytes). Public inputs are either
// gnark's public-witness binary form (witness.MarshalBinary of a public
// witness: u32 nbPublic, u32 nbSecret = 0, u32 vector length, then 32-byte
// big-endian field elements) or a JSON list of decimal strings such as
// ["35","7"]; the JSON form is recognised by its first non-space byte '['.
// Every value must be a canonical field element (less than the modulus of
// the curve's scalar field); values are never reduced.
//
// # Verification is gnark's
//
// Keys and proofs are decoded by gnark's per-curve backends
// (gnark/backend/groth16/bn254, .../bls12-381, gnark/backend/plonk/bn254,
// .../bls12-381; their ReadFrom, which checks that every point is on the
// curve and in the prime-order subgroup and every scalar canonical) and
// verified by those backends' Verify, with the public inputs as the curve's
// fr.Vector. This package re-derives one verification equation: the
// combined Groth16 check of a batch (groth16_batch_bn254.go), which only
// ever approves; whenever it fails, gnark's Verify decides each proof. Only the
// per-curve backends are imported, not gnark's curve-generic packages; they
// still bring gnark's constraint, frontend, solidity-export and zerolog
// packages into every binary (about 2 MB more wasm than a verifier built on
// gnark-crypto alone), which is the price of not keeping a copy of the
// verification code.
// backend_bn254.go (Groth16) and plonk_bn254.go hold the calls; their
// BLS12-381 twins are generated from them by gen.go (go generate
// ./verifier/), and TestGeneratedCurveFiles fails if they drift.
//
// # Smaller builds
//
// Each backend file registers itself in one table (backends.go), so build
// tags can leave backends out: lightkeeper_nobls12381 (no BLS12-381,
// neither gnark's backends nor gnark-crypto's curve) and
// lightkeeper_noplonk (no PLONK). Supported reports what a build has; a
// job, key or public inputs of a pair it leaves out get an *Error with
// ReasonUnsupported before anything is parsed, as an unknown scheme or
// curve does, and a keeper abstains on them. The edge worker's
// make edge-worker-bn254 uses them.
//
// # The pre-check, and why it exists
//
// gnark's ReadFrom trusts the length prefixes in its input: gnark-crypto's
// decoder reads a u32 count and allocates that many elements before reading
// any. A 292-byte Groth16 BN254 key (its six fixed points, then 0xffffffff as
// the number of K points) makes VerifyingKey.ReadFrom ask for 2^32-1 G1
// points, 256 GiB; a 132-byte proof (three points, then 0xffffffff
// commitments) does the same. The runtime then stops the whole process with
// "fatal error: out of memory", which recover cannot catch, so one hostile
// job would take down every keeper it reaches. gnark also leaves some key
// fields unchecked that its Verify relies on: the Groth16 committed-wire
// indexes (an out-of-range index panics in Verify) and the PLONK domain
// (size, its inverse, the root of unity) and precomputed pairing lines, which
// it uses as they come.
//
// So before gnark sees a byte string, this package validates its encoding
// (decode.go, groth16.go, plonk.go): it walks the layout, reading only
// lengths and the flag bits that say how long each point's encoding is,
// checks every length prefix against the bytes actually present, refuses
// trailing bytes, refuses keys announcing more public inputs than the limits
// allow or more than 64 commitments before any point is decoded, and checks
// the Groth16 committed-wire indexes. After gnark has decoded a PLONK key it
// checks that the domain size is a power of two (at most 2^40) holding the
// public inputs and commitment rows, that SizeInv is its inverse and the
// generator a primitive root of unity of that order, and that the pairing
// lines are the ones computed from the key's G2 points. These checks
// validate inputs; none of them decides whether a proof is valid.
//
// gnark logs through a process-wide logger that writes to stdout; see
// gnarklog.go for why and how this package silences it.
//
// # Determinism and concurrency notes
//
// PLONK's final KZG check batches two openings with random coefficients
// drawn by gnark-crypto (kzg.BatchVerifyMultiPoints); a wrong proof passes
// with probability about 2^-250, so verdicts are deterministic in practice.
// gnark's Groth16 Verify runs one Miller loop on a goroutine of its own, and
// gnark-crypto's multi-scalar multiplication and batch point decompression
// run on internal goroutines; none of them outlives the work it was started
// for. A panic on one of those goroutines would not be caught by the recover
// in VerifyProof, which is one more reason the pre-check keeps malformed
// shapes away from gnark.
package verifier

//go:generate go run gen.go
