// Package workload builds real proof workloads — valid proofs and each kind
// of invalid one, on every scheme and curve — and compute jobs over the
// example programs (compute.go), and submits them to a coordinator through
// the production client (package client: retries, watching). The demo, the
// end-to-end tests and the benchmarks share it, so they all exercise the
// same cases.
//
// It is a development tool (devtools/): production code — coordinator/...,
// keeper, verifier/..., pebbledb, shielded/..., wasmclient/..., proto/... —
// never imports it (devtools/imports_test.go checks this); tests and the
// demo (devtools/demo) do.
package workload
