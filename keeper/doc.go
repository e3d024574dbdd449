// Package keeper is the keeper's logic, written once for every host:
// register with proof of key possession, open a task session (a Subscribe
// stream, or PullTasks long-polls where a host cannot hold a stream), check
// each task with an Engine, sign the vote, and send votes in batches,
// reconnecting with backoff whenever the coordinator goes away.
//
// Hosts differ only in the Engine (the native verifier, or the same
// verifier inside a WebAssembly module) and in the HTTP client they hand
// over; nothing here needs a file system or a clock beyond time.Now, so the
// package builds for GOOS=js and GOOS=wasip1 too.
package keeper
