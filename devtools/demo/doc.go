// Package demo is the script of 'lightkeeper demo' (make demo): a devnet
// with Byzantine keepers (devtools/devnet, devtools/byzantine) runs real
// gnark proofs of every scheme and curve, valid and invalid
// (devtools/workload), COMPUTE rounds over the example programs
// (compute.go), the shielded pool's deposits and withdrawals (pool.go), and
// an epoch turning over, and prints what became of each request next to
// what was expected. It submits through the production client (package
// client), as any user of the API would.
//
// It is a development tool: only cmd/lightkeeper's dev_demo.go imports it
// (devtools/imports_test.go).
package demo
