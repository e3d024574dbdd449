// Package keys is the challenge generator's own circuit code: its
// built-in circuit (knowledge of X with Y = X³+X+5 and Z from a chain of
// squarings, Y and Z public, optionally with a BSB22 commitment), the key
// setup of each scheme × curve, proving, the key files the coordinator
// keeps across restarts (keyfile.go) and the invalid proofs it crafts
// (tamper.go).
//
// It is production code and uses none of gnark's test-only helpers:
// Groth16 keys come from groth16.Setup, PLONK keys from plonk.Setup over
// a KZG SRS made by gnark-crypto's kzg.NewSRS from a secret drawn with
// crypto/rand and discarded (srs.go says why a one-party SRS is enough
// for challenges). The circuit is the one devtools/proofgen's fixtures
// use, so key files written before this package existed still load.
//
// gnark logs through a global logger that writes debug lines to stdout
// outside tests. Package verifier, which this package imports, turns it
// off when it is initialised.
package keys
