// Package exampleprog builds the example compute programs of examples/
// (ordinary Go programs) for GOOS=wasip1 from their embedded sources, so
// the demo and the tests need nothing but the Go toolchain: no committed
// binaries, no `make examples` first.
//
// It is a development tool (devtools/): production code — coordinator/...,
// keeper, verifier/..., pebbledb, shielded/..., wasmclient/..., proto/... —
// never imports it (devtools/imports_test.go checks this); tests, the demo
// and the devnet and bench commands of cmd/lightkeeper do.
package exampleprog
