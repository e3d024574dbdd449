// Package service runs the coordinator around the pure state machine of
// package state: it authenticates requests, turns them into transactions,
// orders them into blocks (one goroutine, the producer), persists each block
// in one synced Pebble batch before anyone hears of it, dispatches tasks to
// committee members over their stream or long-poll, and serves the Connect,
// gRPC and gRPC-Web APIs, gRPC reflection and health, and /metrics on one
// port.
//
// Only the producer goroutine writes the machine. Handlers read committed
// records from the store, so an answer never shows state that a crash could
// still lose.
//
// Expensive checks run in the handlers, off the producer: a verifying key
// is parsed and a program goes through verifier/compute.Check (at most two
// at once) before its registration transaction is queued; the machine
// takes their results on trust and re-checks only what is cheap. Compute
// tasks name their program instead of inlining it (modules are megabytes);
// keepers fetch it once with ProgramService.GetProgram, whose messages may
// be as large as compute.max_module_bytes rather than
// limits.max_request_bytes.
package service
