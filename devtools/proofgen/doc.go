// Package proofgen makes real gnark circuits, keys and proofs at run time,
// for tests, the demo and benchmarks.
//
// Keys come from groth16.Setup and from plonk.Setup with an SRS made by
// gnark's test/unsafekzg, whose toxic waste is known: these keys are for
// testing only and prove nothing to anyone else. Never register them on a
// network that matters. (The coordinator's random challenges use the same
// circuit through their own production code, coordinator/challenge/keys,
// which also owns the key files and the randomly tampered proofs.)
//
// gnark logs through a global logger that writes debug lines to stdout
// outside tests. Package verifier, which this package imports, turns it off
// when it is initialised, so programs using proofgen are quiet.
//
// It is a development tool (devtools/): production code — coordinator/...,
// keeper, verifier/..., pebbledb, shielded/..., wasmclient/..., proto/... —
// never imports it (devtools/imports_test.go checks this); tests, the demo
// and the devnet and bench commands of cmd/lightkeeper do.
package proofgen
