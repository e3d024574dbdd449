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
package service
