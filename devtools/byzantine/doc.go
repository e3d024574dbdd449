// Package byzantine provides the Byzantine keeper strategies — approve-all,
// reject-all, random, silent, equivocate, wrong-output — as
// keeper.Behaviour values (keeper.Config.WithBehaviour), for devnets, the
// demo, tests and `lightkeeper keeper --strategy`. Package keeper itself
// knows only the hook and the honest default.
//
// It is a development tool (devtools/): production code — coordinator/...,
// keeper, verifier/..., pebbledb, shielded/..., wasmclient/..., proto/... —
// never imports it (devtools/imports_test.go checks this); tests, the demo
// and the devnet and bench commands of cmd/lightkeeper do.
package byzantine
