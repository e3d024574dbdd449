// Package loadgen drives a running coordinator with synthetic load: many
// keepers that approve every task without checking it (the real keeper
// package with the approve-all strategy, so the vote path is the real
// one: registration, session signature, Subscribe stream, signed votes in
// SubmitVotes batches), and concurrent submitters that send one valid proof
// under distinct client nonces and follow each round to its decision.
//
// It measures the coordinator, not the verifier: keepers spend no time on
// proofs, so what is left is transport, signature checks, the state
// machine and the durable commit of each block. `lightkeeper bench` uses
// it.
//
// It is a development tool (devtools/): production code — coordinator/...,
// keeper, verifier/..., pebbledb, shielded/..., wasmclient/..., proto/... —
// never imports it (devtools/imports_test.go checks this); tests, the demo
// and the devnet and bench commands of cmd/lightkeeper do.
package loadgen
