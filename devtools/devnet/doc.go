// Package devnet runs a whole network in one process: a coordinator on a
// Pebble directory serving on loopback, and keepers talking to it over
// real HTTP. The devnet command, the demo, the benchmarks and the tests
// use it.
//
// It is a development tool (devtools/): production code — coordinator/...,
// keeper, verifier/..., pebbledb, shielded/..., wasmclient/..., proto/... —
// never imports it (devtools/imports_test.go checks this); tests, the demo
// and the devnet and bench commands of cmd/lightkeeper do.
package devnet
