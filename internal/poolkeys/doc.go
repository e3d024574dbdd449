// Package poolkeys makes the shielded pool's Groth16 key pair (the
// withdrawal circuit's proving and verifying keys) for the commands that
// need one: 'lightkeeper wallet setup', the demo, and benchmarks.
//
// It stays in internal/ because production uses it: 'lightkeeper wallet
// setup' makes a network's real pool keys with it (a Groth16 setup with
// fresh randomness, no test-only helper). The demo and tests use it too.
package poolkeys
