// Package service runs the coordinator around the pure state machine of
// package state: it authenticates requests, turns them into transactions,
// orders them into blocks (one goroutine, the producer), persists each block
// in one synced Pebble batch before anyone hears of it, dispatches tasks to
// committee members over their stream or long-poll, and serves the Connect,
// gRPC and gRPC-Web APIs, gRPC reflection and health, and /metrics on one
// port.
//
// Reads see only committed state, so no answer shows a block that a crash
// could still lose. Only the producer goroutine writes the machine, and it
// holds the machine's write lock from ApplyBlock until that block's synced
// Pebble batch is committed; handlers read either the store (blocks,
// rounds, keepers, programs, keys, epoch statements, the chain head: only
// committed batches are in it) or the machine under the read lock
// (readMachine: accounts, stakes, guarantees, groups, the epoch, the pool,
// vote prechecks, session checks), which they get only between blocks. A
// machine read therefore waits at most for the block being synced, never
// sees it half-way. If a block fails to commit the machine is ahead of the
// disk: readMachine refuses (Unavailable) until the node is restarted from
// the store. Requests are answered, tasks dispatched and WatchRound and
// withdrawal watchers woken only after the commit (produce, afterBlock).
//
// Expensive checks run in the handlers, off the producer: a verifying key
// is parsed and a program goes through verifier/compute.Check (at most two
// at once) before its registration transaction is queued; the machine
// takes their results on trust and re-checks only what is cheap. Compute
// tasks name their program instead of inlining it (modules are megabytes);
// keepers fetch it once with ProgramService.GetProgram, whose messages may
// be as large as compute.max_module_bytes rather than
// limits.max_request_bytes.
//
// In replicated mode (Options.Replication, replicated.go; used by
// coordinator/replica) the same handlers serve a CometBFT replica: Run
// produces no blocks, submit hands the canonical transaction bytes to a
// Sequencer (the mempool) and waits for the committed block that carries
// them, and blocks arrive through ApplyBlock and CommitBlock, which keep
// the write lock between them as produce does. No set_keeper_online is
// produced there (sessions are one node's memory), and on a chain with
// params.challenges every round is sealed and challenges are opened
// sealed and revealed after their close (sealed.go): the answer never
// crosses the mempool before it.
package service
