// Package devtools holds Lightkeeper's development tools, apart from the
// production code: the in-process devnet (devnet), the load generator
// (loadgen), proof and compute workloads (workload), gnark proof fixtures
// (proofgen), the example programs built for wasip1 (exampleprog), the
// Byzantine keeper strategies (byzantine), the demo script (demo) and a
// CPU-time reader for benchmarks (cputime).
//
// The rule: production packages — coordinator/..., keeper, verifier/...,
// pebbledb, shielded/..., wasmclient/..., proto/..., internal/... and
// client — never import anything under devtools/, directly or through
// another package; imports_test.go checks it on every target the code
// builds for. Nor do cmd/lightkeeper's files, except its development
// commands dev_*.go (demo, bench, devnet, keeper --strategy), which the
// test names and checks file by file. Tests (theirs included) and tests/
// may.
package devtools
