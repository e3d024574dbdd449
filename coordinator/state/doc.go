// Package state is the coordinator's deterministic state machine: keepers,
// verifying keys, compute programs, verification rounds (PROOF,
// WITHDRAWAL and COMPUTE), the shielded pool, committees, votes, reputation, the
// Guarantee Proof of Stake economy (accounts, bonds, guarantees, groups,
// stake limits, elections, rewards, slashing) and the hash-chained ledger
// (docs/design.md §3, §9 and §10; docs/economics.md). It is written in the style of
// etcd's raft core: a pure function from (state, block input) to (new
// state, block, results, events), with no I/O.
//
// # Inputs and outputs
//
// The only input is a BlockInput: an explicit block time (unix
// milliseconds) and an ordered list of transactions (Transaction:
// SubmitRound, RegisterVerifyingKey, RegisterProgram, RegisterKeeper,
// SetKeeperOnline, CastVote, and Signed — a client's SignedTx, whose
// signature and nonce the machine checks itself; see tx.go). The service authenticates and parses requests, wraps them in
// transactions, picks the time from its clock and calls ApplyBlock; the
// Result holds the new block, one TxResult per transaction, the events in
// the order they happened, and every record that changed (rounds, keepers,
// new verifying keys, evidence, accounts, guarantees, groups, unbonding
// entries, the staking state, epoch statements, programs, spent
// nullifiers, pool leaves, eligible lists used for the first time: rounds
// and certificates carry only their hash), also listed as Result.Changes: a
// ledger.ChangeSet of puts and deletes over the record families of
// coordinator/ledger, which the store writes in one atomic batch without
// knowing any family by name (changes.go). New makes block 0 from a
// Genesis; Snapshot and Restore move the whole state in and out, and
// FromLedger builds the Snapshot from what the store loads of every
// family.
//
// # Files
//
// One package, a file (or a few) per concern around a small kernel; why
// not sub-packages is in RATIONALE.md.
//
//   - Kernel: machine.go (Machine, Result, Snapshot, New, Restore,
//     accessors), apply.go (ApplyBlock: the order below, transaction
//     dispatch, block hashing), changes.go (the change set and its way
//     back), errors.go, events.go, fixed.go (integer arithmetic),
//     helpers.go. Ids, hashes, signed bytes, certificates, committee
//     draws and parameters live in package protocol (one copy for every
//     party).
//   - Rounds and votes: rounds.go, admission.go (vote prechecks the
//     service runs before queueing).
//   - Keepers and committees: keepers.go.
//   - The economy: economy.go (state, accessors), economy_tx.go (signed
//     economy transactions), economy_stakes.go (stake limits),
//     economy_epoch.go (epochs, rewards, elections), economy_slash.go,
//     economy_events.go.
//   - The shielded pool: pool.go (deposits, withdrawals, nullifiers).
//   - Compute: compute.go. Challenges: challenge.go.
//   - Verifying keys and PROOF requests: registerVerifyingKey and
//     checkProofRequest, still in apply.go.
//
// # Order inside a block
//
//  1. Daily reputation decay, once for every day boundary (UTC, unix ms /
//     86,400,000) crossed since the last block.
//  2. Rounds whose deadline is at or before the block time, by deadline
//     then id: a VOTING round is decided TIMEOUT, then every due round is
//     CLOSED and committee members that never voted lose reputation.
//  3. The economy's timers: unbonding entries that are due are paid out,
//     reward multipliers past their forgiveness time return to 1, and if
//     the block's time is in a later epoch the current epoch ends —
//     rewards, capacities, downtime jails, then the election of the next active set
//     (economy_epoch.go).
//  4. The transactions, in order. A failing transaction changes nothing
//     and reports its error in its TxResult; it is still part of the block,
//     because the block records the ordered input, and replaying the input
//     reproduces the failure.
//  5. Stake limits and effective stakes are brought up to date (also
//     before every committee draw).
//
// A round is decided by the vote that reaches a threshold, in the middle of
// a block if need be; its certificate (the votes up to and including that
// one) goes into the block. Votes after the decision and before the
// deadline are late: stored and judged at once, not in the certificate.
//
// # COMPUTE rounds (compute.go)
//
// A COMPUTE round runs a registered WebAssembly program on an input with a
// fuel limit. Its committee has compute_validators seats (drawn like a
// proof committee) and one threshold, ⌈2·compute_validators/3⌉ (protocol.ComputeThreshold), for both
// outcomes (Round.threshold = reject_threshold). A vote's result_hash is
// verifier/compute.ResultHash of the keeper's result and its compute field
// opens it (trap, exit code, fuel used, output hash); APPROVE means a clean
// run, REJECT a deterministic trap such as out_of_fuel, and a vote whose
// fields do not hash to its signed result_hash is MALFORMED. The round is
// decided by the first (kind, result hash) that threshold votes carry:
// APPROVED or REJECTED with that result (Round.result_hash, Round.result),
// else TIMEOUT at the deadline. A vote agrees with the decision only if it
// carries the agreed hash, so a member reporting another result is judged
// incorrect (reputation, slashing) exactly like a wrong proof vote. The
// leader (seat 0) uploads the output bytes with its vote; the machine
// keeps them in the (unrevealed) vote until the decision, then moves the
// agreed output to Round.result.output and drops every upload from the
// votes, so certificates never carry output bytes. A round decided without
// the leader has the output's hash only, until a late leader vote brings
// the bytes. Work units: ⌈fuel used / staking.fuel_per_unit⌉.
//
// # The shielded pool and WITHDRAWAL rounds (pool.go)
//
// Genesis.withdrawal_verifying_key enables the pool (docs/withdrawals.md):
// the key is registered at genesis (Groth16, BN254, 4 public inputs) and
// its id kept as the pool's. A signed deposit {precommitment, amount} pays
// amount from the signer's balance into the pool balance and appends
// shielded.Commitment(precommitment, amount) to the pool's tree (depth
// 20, last 100 roots); TotalSupply counts the pool balance. A WITHDRAWAL
// round {root, nullifier, amount, recipient, proof} is refused at
// submission when the nullifier is spent, the root is not one of the last
// 100, or the pool holds less than amount; its committee, thresholds, work
// units and tally are a Groth16 PROOF round's. When it reaches APPROVED
// the machine re-checks nullifier, root and balance and, if they hold,
// marks the nullifier spent and credits the recipient in that same block
// (Result.SpentNullifiers, so the same store batch as the certificate).
// If they no longer hold — another round with the same nullifier was
// approved first, in this block or an earlier one, or the root left the
// history — the round is decided REJECTED instead, with approvals at the
// threshold (Voided), and its votes, late ones too, are not judged: the
// keepers were right about the proof. The pool's tree and balance are in
// StateMeta.pool; spent nullifiers are in Snapshot.SpentNullifiers.
//
// # Why there is no clock
//
// Everything the machine does is a function of its state and its input:
// no time.Now, randomness, goroutines, floating point, I/O, or map
// iteration that can leak into a result (maps are only iterated to collect
// keys, which are then sorted). Time enters only as the block time chosen
// by whoever makes the block, which is what lets the same code run today
// in a single coordinator and later as a replicated application under a
// BFT engine (CometBFT), where all replicas must reach byte-identical
// states: two machines fed the same blocks produce the same block hashes.
// Committees are drawn from the including block's committee seed
// (CommitteeSeed: its header before execution, with the producer's
// entropy, which is an input like the block time), reputation and
// weights are integers (basis points, parts per million, 2³² fixed point
// with 128-bit intermediates), and records handed in or out are copied
// (proto.Clone) so callers cannot reach into the state.
//
// # Hashes
//
//   - Program id: hex SHA-256 of the module bytes.
//   - Round id: hex SHA-256("lightkeeper/round/v1\x00" || u16be(len chain) ||
//     chain || deterministic protobuf of the RoundRequest) (protocol.RoundID).
//   - Block hash: SHA-256("lightkeeper/block/v1\x00" || u64be height ||
//     i64be time ms || previous_hash || transactions_hash || results_hash
//     [|| entropy, 32 bytes when set]) (protocol.BlockHash).
//   - Committee seed of the rounds a block opens: SHA-256(
//     "lightkeeper/committee-seed/v1\x00" || u64be height || i64be time ms ||
//     previous_hash || transactions_hash || entropy) (protocol.CommitteeSeed; the
//     round and certificate carry the header as seed_block).
//   - Params hash: SHA-256("lightkeeper/params/v1\x00" || u16be(len chain)
//     || chain || deterministic protobuf of the ConsensusParams)
//     (protocol.ParamsHash; in every certificate, pinned by offline verifiers). transactions_hash is SHA-256 of the concatenated SHA-256
//     of each transaction's deterministic protobuf encoding; results_hash is
//     SHA-256 of the concatenated protocol.CertificateHash of each certificate decided
//     in the block followed by the SHA-256 of each evidence. Block 0 has
//     previous and results hash of 32 zero bytes and transactions_hash =
//     SHA-256 of the Genesis encoding.
//
// Non-obvious choices are explained in RATIONALE.md next to this file.
package state
