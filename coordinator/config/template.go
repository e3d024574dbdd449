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
`
