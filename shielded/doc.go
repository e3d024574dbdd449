// Package shielded holds the shielded pool's pure data structures: the
// field type (Scalar), the domain-separated MiMC hashes, notes, the state
// machine's incremental Merkle tree (frontier plus root history, with a
// canonical encoding), the wallet's full tree with membership paths, and the
// withdrawal circuit's public inputs. Package shielded/circuit holds the
// Groth16 circuit, its setup and the prover.
//
// Everything here is deterministic and free of I/O, clocks, goroutines and
// global mutable state; only NewNote consumes randomness, from the reader it
// is given. It imports gnark-crypto but not gnark, so the state machine can
// use it without pulling in the circuit compiler.
//
// The scheme (docs/withdrawals.md has the reasoning):
//
//	deposit:    the depositor sends precommitment = H_pre(nk, secret) and pays amount;
//	            the state machine appends leaf = H_com(precommitment, amount)
//	withdrawal: a proof that the prover knows (nk, secret, index, path) with
//	            the leaf at index under Root, Nullifier = H_nf(nk, index),
//	            and public Amount and Recipient
//	spend:      the state machine requires KnownRoot(Root), an unspent
//	            Nullifier, Recipient = RecipientFromAddress(address), and
//	            marks the nullifier spent with the APPROVED outcome
package shielded
