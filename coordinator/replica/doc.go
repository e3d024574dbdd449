// Package replica runs the coordinator's state machine (coordinator/state)
// as an ABCI 2.0 application of CometBFT v0.38, so that several replicas
// order, execute and persist the same blocks (issue #11; docs/design.md,
// "Replication on CometBFT").
//
// The machine, its store and all that reacts to a committed block belong
// to a coordinator service (coordinator/service) in replicated mode,
// which serves the whole Connect API: reads from this replica's committed
// state, submissions through its mempool (App.Broadcast), answered once a
// committed block carries them. The application is glue over it.
//
// The mapping, one file per concern:
//
//   - app.go: Info (last committed height and app hash from Pebble, so
//     CometBFT's handshake replays exactly the blocks after it), InitChain
//     (the lightkeeper genesis travels as CometBFT's app_state),
//     FinalizeBlock (Machine.ApplyBlock under BFT time, entropy fixed
//     before the proposer acts; service.Node.ApplyBlock, which holds the
//     machine's write lock until Commit) and Commit (the block's change
//     set, height and app hash in one synced Pebble batch, then the
//     service answers the block's submissions and runs its afterBlock).
//   - admission.go: what a transaction must be to enter a block (checked
//     alike by CheckTx, PrepareProposal and ProcessProposal, from the bytes
//     and the chain parameters only) and the cheaper state checks CheckTx
//     adds on top.
//   - proposal.go: PrepareProposal and ProcessProposal.
//   - apphash.go: the app hash, a hash chain over every block's change set.
//   - node.go, testnet.go: an in-process CometBFT node running the
//     application and serving the API (Serve), and the files (homes,
//     keys, one genesis, each replica's API config) of a testnet.
//   - cometdb.go: CometBFT's own stores on the ledger's pebble/v2, without
//     cometbft-db's build tag.
//
// The single-node coordinator (the same service without Replication)
// stays the default and behaves as before; a replica's data directory
// is not one of its.
package replica
