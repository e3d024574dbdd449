// Package keeper is the keeper's logic, written once for every host:
// register with proof of key possession, open a task session (a Subscribe
// stream, or PullTasks long-polls where a host cannot hold a stream), check
// each task with an Engine, sign the vote, and send votes in batches,
// reconnecting whenever the coordinator goes away: at once after an open
// session breaks, then with backoff. Given several coordinators of one
// chain (NewList), it moves to the next when the one in use cannot be
// reached and re-sends there the votes it had not got acknowledged
// (coordinators.go).
//
// Hosts differ only in the Engine (the native verifier, or the same
// verifier inside a WebAssembly module) and in the HTTP client they hand
// over; nothing here needs a file system or a clock beyond time.Now, so the
// package builds for GOOS=js and GOOS=wasip1 too.
//
// Compute tasks (COMPUTE rounds, docs/compute.md): the Keeper fetches each
// program once from the coordinator (ProgramService.GetProgram), checks it
// against its id and hands the engine the task with the module inlined, so
// an Engine never needs the network. NativeEngine checks the module with
// verifier/compute (cached per process), runs it under wazero with the
// round id as seed and a wall-clock limit before the deadline, and votes
// APPROVE (clean run) or REJECT (deterministic trap) with result_hash =
// compute.ResultHash and the result attached — the output bytes only when
// the task says this keeper leads (seat 0) — or ABSTAIN when it could not
// run the job. ComputeVerdict builds such a vote for other engines.
package keeper
