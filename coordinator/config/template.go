package config

// Template is the commented config.toml that `lightkeeper init` writes. It
// lists every key at its default; TestTemplateMatchesDefault keeps the two
// in step.
const Template = `# Lightkeeper coordinator configuration.
# Every key is shown at its default. An unknown key or an out-of-range value
# stops the coordinator at start with a message naming the key.

[consensus]
# Approvals needed to decide a PROOF round APPROVED. A round is REJECTED once
# committee_size - threshold + 1 keepers reject it.
threshold = 7
# Committee size for PROOF and WITHDRAWAL rounds.
total_validators = 10
# Committee size for COMPUTE rounds (2 matching results decide them).
compute_validators = 3
# Seconds after which an undecided round ends as TIMEOUT.
verification_timeout = 30
# Lowest and highest reputation a keeper can have.
reputation_bounds = [100, 10000]
# Keepers below this reputation are not drawn into committees.
min_reputation = 200

[leader_selection]
# Committee seats are drawn with weight
#   stake_weight * stake/total_stake + reputation_weight * rep/total_rep.
# The two must add up to 1; they are kept as basis points internally.
stake_weight = 0.7
reputation_weight = 0.3

[reputation]
# Reputation of a newly registered keeper.
initial = 1000
# Added for a vote that agrees with the decided outcome.
correct = 10
# Added on top of correct when the round reached consensus (not TIMEOUT).
consensus_bonus = 5
# Subtracted for a vote against the decided outcome.
incorrect = 50
# Subtracted from a committee member that did not vote by the deadline.
timeout = 30
# Daily decay, in parts per million of the current reputation (1000 = 0.1%).
daily_decay_ppm = 1000

[limits]
# Largest request body the API accepts, in bytes.
max_request_bytes = 4194304
# Largest verifying key, proof and public-input encodings, in bytes.
max_verifying_key_bytes = 1048576
max_proof_bytes = 65536
max_public_input_bytes = 65536
# Most public inputs a proof may have.
max_public_inputs = 1024
# Round submissions and key registrations per second per client address,
# and the burst allowed above that rate.
submit_rate = 200.0
submit_burst = 400
# Most rounds open at once; further submissions get ResourceExhausted.
max_open_rounds = 10000
# Abuse limits (docs/limits.md). Refusals are ResourceExhausted and name
# the key.
# Votes refused as malformed, for an unknown round, from outside the
# round's committee or with a bad signature, per second per client
# address, and the burst above that rate. Once spent, SubmitVotes from the
# address is refused until the budget refills. Honest votes never count.
bad_vote_rate = 10.0
bad_vote_burst = 100
# Open Subscribe streams and waiting PullTasks calls of one keeper.
max_sessions_per_keeper = 4
# Open streams and waiting long-polls (Subscribe, PullTasks, WatchRound,
# WatchWithdrawals) per client address, and in all.
max_streams_per_address = 1024
max_streams = 16384
# Registered keepers with no bond of their own. A new key whose account
# cannot pay staking.min_self_bond is refused once this many exist.
max_unbonded_keepers = 1000
# Bytes of programs and verifying keys one client address may register
# per hour (a new module or key; one already stored is free), and the
# most they may take in all.
registration_bytes_per_hour = 67108864
max_registered_bytes = 4294967296

[network]
# Address the API listens on (Connect, gRPC and gRPC-Web on one port).
listen = "127.0.0.1:8080"
# Seconds a long-polling keeper stays online after its last PullTasks.
pull_grace = 30
# Longest a PullTasks call waits for a task, in seconds.
max_pull_wait = 20
# How far a keeper's session signature time may be from the coordinator's
# clock, in seconds.
session_skew = 300
# Most transactions applied in one block.
max_txs_per_block = 2000
# HTTPS: PEM files of the certificate (with any intermediates) and its
# private key, relative to this file or absolute. Both set: the API is
# served over TLS only (HTTP/2 by ALPN for gRPC, and HTTP/1.1); both empty:
# plain HTTP and h2c. Also --tls-cert and --tls-key.
tls_cert = ""
tls_key = ""

# Random challenges (GPoW, docs/challenges.md): rounds whose answer the
# coordinator knows, indistinguishable from clients' until they close. A
# wrong answer is an incorrect vote; right answers are verified work that
# raises a keeper's capacity and so its stake limit. Node policy, not a
# chain parameter.
[challenges]
enabled = true
# Challenges per client round.
rate = 0.1
# Longest stretch in seconds without one while keepers are online.
interval = 30
# Fraction of one core for proving fresh challenges ahead of time.
cpu_budget = 0.1
# Fraction of challenges that are compute jobs (drawn from programs
# clients have run).
compute_share = 0.25

# The Guarantee Proof of Stake economy (docs/design.md §9, docs/economics.md).
# Amounts are in the smallest token unit, rates in basis points
# (10000 = 100 %), durations in seconds. These keys are stored with the chain
# at genesis, like [consensus]: a data directory refuses to start under
# other values.
[staking]
# A keeper whose own bond is below this is neither elected nor drawn into
# committees.
min_self_bond = 100
# Unbonded tokens wait this long (still slashable) before they are paid out.
unbonding_period = 259200
# Most unbonding entries one account may have waiting at once.
max_unbonding_entries = 100
# Most keepers or groups one guarantor may back.
max_guarantees = 16
# Most member keepers in a group.
max_group_size = 5
# Length of an epoch; epochs are counted from the genesis time.
epoch_length = 86400
# Most keepers in an epoch's active set.
max_elected = 100
# Groups with less than this share of all effective stake are not elected
# (10 = 0.1 %).
electability_threshold_bps = 10
# Stake limit per work unit of capacity while total demand is below the
# network's total limit (stage one); above it, each keeper gets its
# capacity's share of the demand (stage two).
stake_per_unit = 1000
# Capacity (work units per epoch) a genesis keeper is presumed to have
# until its verified work has been measured (the bootstrap allowance);
# keepers registered later start at 0 and prove work by challenges.
initial_capacity = 1000
# Weight of the last epoch in the capacity moving average (5000 = 0.5).
capacity_ema_alpha_bps = 5000
# Fee per work unit of a submitted round. 0 keeps unsigned, free
# submissions; above 0 every round must be a signed, paid submit_round.
fee_per_work_unit = 0
# Smallest fee a signed transaction must carry.
min_tx_fee = 0
# Work units of one verified proof by scheme.
work_units_groth16 = 1
work_units_plonk = 2
# A COMPUTE round is worth ceil(fuel / fuel_per_unit) work units, at least 1
# (the fuel used when capacity is measured, the fuel limit when a paid
# submission is charged). One unit of fuel is roughly a nanosecond of
# compiled WebAssembly, so the default makes a unit about a millisecond of
# work, like a groth16 verification.
fuel_per_unit = 1000000

[rewards]
# Tokens minted per epoch: after e epochs e × epoch_issuance in total.
epoch_issuance = 100000
# Most tokens ever minted (0: no cap).
issuance_cap = 0
# Added to an epoch's participation before it is raised to uptime_exponent.
uptime_grace_bps = 500
# Weight of the last epoch in the uptime moving average (1000 = 0.1).
uptime_ema_alpha_bps = 1000
uptime_exponent = 10

[slashing]
# Share of bonded stake slashed for a vote against the decided outcome.
slash_incorrect_bps = 100
# Share slashed for equivocation (the keeper is also jailed for ever).
slash_equivocation_bps = 500
# Share of an equivocation slash paid to whoever reported it.
slash_reporter_share_bps = 1000
# A keeper that missed more than downtime_max_missed of its last
# downtime_window assigned rounds is jailed for downtime_jail seconds.
downtime_window = 100
downtime_max_missed = 50
downtime_jail = 600
# A slash halves the group's reward multiplier; it returns to 1 this long
# after the last slash.
forgiveness_period = 2592000

# Deterministic compute (COMPUTE rounds, docs/compute.md). Stored with the
# chain at genesis like [consensus]: every keeper checks and runs programs
# under these values, which decide results.
[compute]
# Largest program (WebAssembly module) that can be registered, in bytes.
max_module_bytes = 8388608
# Largest linear memory, in 64 KiB pages (2048 = 128 MiB).
max_memory_pages = 2048
# Most elements of a program's table.
max_table_elements = 65536
# Deepest call nesting; deeper is the deterministic trap stack_exhausted
# (at most 1900, below every engine's own limit).
max_call_depth = 1024
# Most bytes a program may write to stdout (at most 65536: the output rides
# in the leader's vote); more is the trap output_limit.
max_output_bytes = 65536
# Most fuel a job may ask for (2^40).
max_fuel = 1099511627776
# Largest job input (stdin), in bytes (at most 16 MiB; a submission must
# also fit limits.max_request_bytes).
max_input_bytes = 1048576
`
