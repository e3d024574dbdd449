package config

// Template is the commented config.toml that `lightkeeper init` writes. It
// lists every key at its default; TestTemplateMatchesDefault keeps the two
// in step.
const Template = `# Lightkeeper coordinator configuration: this node's own settings.
# Every key is shown at its default. An unknown key or an out-of-range value
# stops the coordinator at start with a message naming the key.
#
# The chain's rules (committees, reputation, staking, rewards, slashing,
# compute and proof size limits) are not set here: they are genesis.json's
# "params", fixed when the chain starts (docs/design.md §13).

[limits]
# Largest request body the API accepts, in bytes. (The size limits of
# verifying keys, proofs and public inputs are the chain's:
# genesis.json's params.size_limits.)
max_request_bytes = 4194304
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
`
