// Package challenge produces the coordinator's random challenges (GPoW,
// docs/design.md §9): rounds whose correct answer the coordinator knows before it
// opens them, to catch keepers that vote without checking and to measure
// capacity. This package makes the material; the coordinator's state
// machine and scheduler submit it and judge the votes.
//
//	g, err := challenge.New(challenge.Options{Dir: dataDir + "/challenge-keys", RoundID: roundIDOnThisChain})
//	for _, k := range g.Keys() { /* register k.VerifyingKey once */ }
//	g.Start(ctx)                            // background fill within the CPU budget
//	if m, ok := g.Take(); ok { /* fill m.Request's VerifyingKeyId, submit with m's answer */ }
//	m, err := g.Compute(ctx, program, programID, 64, fuel)
//
// Why each choice:
//
//   - Fresh material, never replayed. Every proof is proved here, now,
//     from a secret drawn uniformly from the whole scalar field (not a
//     uint64: then a public input Y = X³+X+5 would be below 2¹⁹³ and give
//     challenges away), and gnark blinds each proof with fresh randomness;
//     every compute input is drawn fresh. A keeper that stores every
//     challenge it has seen has nothing to look up next time, so the only
//     way to answer is to check.
//
//   - Invalid proofs are made from fresh valid ones, in the two ways a
//     lazy keeper might not notice. wrong-input replaces a public input,
//     chosen at random, by a random canonical field element: the inputs
//     parse and count right, only the pairing check fails.
//     tampered-proof replaces one of the proof's points, chosen at random
//     among those the verifier uses, by another point of the same
//     subgroup (its negation, or itself plus a random multiple of the
//     generator) and has gnark re-encode it: same length, on the curve, in
//     the subgroup, so it passes verifier's bounded pre-check and gnark's
//     ReadFrom and fails only the pairing check. Changing a different
//     point each time, rather than always the first point's sign bit as
//     devtools/proofgen.FlipBit does, also catches a verifier that checks only part
//     of the proof.
//
//   - Indistinguishable. A challenge has a client's shape: the scheme,
//     curve, key, proof size and public-input encoding (gnark's binary
//     witness) of an ordinary submission of its circuit, valid and
//     invalid variants byte-for-byte the same size, and a ClientNonce of
//     NonceBytes random bytes in hex. Take picks valid or invalid with
//     equal probability, so "most challenges are valid" teaches nothing.
//     What a keeper can still see is the verifying key a round names:
//     the built-in keys serve challenges alone unless clients submit
//     proofs for them too, so a keeper that checks only rounds naming
//     these keys passes every proof challenge. Compute challenges run
//     clients' registered programs and have no such tell.
//
//   - Correct answers. Every proof material is verified with the keepers'
//     own verifier (verifier.VerifyProof) before it is queued, and refused
//     unless the verdict is the intended one (approve, or reject with
//     invalid_proof): a wrong answer would slash honest keepers, and the
//     check costs a fraction of the proving. Compute answers come from the
//     deterministic engine the keepers run, seeded as they seed it (with
//     the round id, Options.RoundID), and are built exactly as
//     keeper.ComputeVerdict builds a leader's vote.
//
//   - Keys persist. A setup draws fresh toxic waste, so a restarted
//     coordinator would otherwise have new verifying keys and no prover
//     for those it registered. Each circuit's constraint system and keys
//     are saved in Options.Dir (one checksummed file per circuit, written
//     atomically) and loaded on the next start; a damaged file is an
//     error naming the file, not silently replaced by new keys. The keys
//     come from single-party setups in package keys (the coordinator draws the
//     toxic waste), which is enough here: the coordinator is the only
//     prover, and nothing rests on these keys' soundness — the answer to a
//     challenge is whatever the coordinator made it.
//
//   - Proving never stalls the coordinator. Materials are made ahead, in
//     one background goroutine, up to Options.Ahead per label, and Take
//     never blocks. The loop is paced so that its busy time over wall
//     time stays within Options.CPUBudget (rest cost×(1/budget−1) after
//     each item), and work done on request (Generate, Compute) counts
//     against the same budget. Costs are wall times; gnark spreads a proof
//     over several cores, so processor time is somewhat higher (measured
//     in docs/benchmarks.md).
//
//   - Measured. Every material carries its Cost; Stats gives per label how
//     many were made, handed out and failed, and the total and mean cost.
//
// Compute challenges take random bytes (Compute) or any input the caller
// makes fresh (ComputeWith): LikeInput keeps the length and byte alphabet
// of a client's job, DecimalInput makes a number. Random bytes are easy to
// tell from a client's text input, and a program that parses its input
// refuses them all alike, so every such challenge has the same answer.
package challenge
