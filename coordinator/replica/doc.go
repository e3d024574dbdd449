// Package replica runs the coordinator's state machine (coordinator/state)
// as an ABCI 2.0 application of CometBFT v0.38, so that several replicas
// order, execute and persist the same blocks (issue #11; docs/design.md,
// "Replication on CometBFT").
//
// The mapping, one file per concern:
//
//   - app.go: Info (last committed height and app hash from Pebble, so
//     CometBFT's handshake replays exactly the blocks after it), InitChain
//     (the lightkeeper genesis travels as CometBFT's app_state),
//     FinalizeBlock (Machine.ApplyBlock under BFT time, entropy fixed
//     before the proposer acts) and Commit (the block's change set, height
//     and app hash in one synced Pebble batch).
//   - admission.go: what a transaction must be to enter a block (checked
//     alike by CheckTx, PrepareProposal and ProcessProposal, from the bytes
//     and the chain parameters only) and the cheaper state checks CheckTx
//     adds on top.
//   - proposal.go: PrepareProposal and ProcessProposal.
//   - apphash.go: the app hash, a hash chain over every block's change set.
//   - node.go, testnet.go: an in-process CometBFT node running the
//     application, and the files (homes, keys, one genesis) of a testnet.
//   - cometdb.go: CometBFT's own stores on the ledger's pebble/v2, without
//     cometbft-db's build tag.
//
// The single-node coordinator (coordinator/service) is untouched and
// stays the default; a replica's data directory is not one of its.
package replica
