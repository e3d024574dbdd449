package service

import (
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
)

// A replica whose consensus halted (CometBFT stopped its consensus after
// a block it could not accept, coordinator/replica) still holds its last
// committed state and could go on serving it, but nothing it is sent will
// ever be committed and what it reads goes stale. From MarkHalted on it
// says so everywhere a client can look: GetChainInfo (consensus_halted,
// halt_reason), gRPC health (NOT_SERVING for every service), the
// lightkeeper_consensus_halted gauge and the log. It refuses what needs
// a block — submissions, keeper sessions, votes — with Unavailable, which
// sends a keeper with several coordinators to the next one, and ends the
// keepers' Subscribe streams the same way. Reads stay: they are the
// replica's committed state, and the halt is what GetChainInfo reports
// beside them.

// ErrConsensusHalted is what a halted replica refuses with (wrapped, with
// the reason).
var ErrConsensusHalted = errors.New("this replica's consensus has halted")

// MarkHalted records that the replica's consensus has stopped for good
// (until the process restarts). reason says why (CometBFT's error). Only
// the first call counts.
func (n *Node) MarkHalted(reason string) {
	n.haltOnce.Do(func() {
		n.haltReason.Store(&reason)
		close(n.haltedCh)
		n.metrics.halted.Set(1)
		for _, s := range append([]string{""}, serviceNames...) {
			n.health.SetStatus(s, grpchealth.StatusNotServing)
		}
		n.log.Error("replica consensus halted: serving its last committed state read-only; refusing submissions, sessions and votes (restart the replica once the cause is fixed)", "reason", reason)
	})
}

// ConsensusHalted reports whether MarkHalted was called, and why.
func (n *Node) ConsensusHalted() (reason string, halted bool) {
	if p := n.haltReason.Load(); p != nil {
		return *p, true
	}
	return "", false
}

// errIfHalted is the Unavailable refusal of a halted replica, nil on a
// running one.
func (n *Node) errIfHalted() error {
	reason, halted := n.ConsensusHalted()
	if !halted {
		return nil
	}
	return connect.NewError(connect.CodeUnavailable, fmt.Errorf("%w (%s): it commits nothing more; use another replica of the chain", ErrConsensusHalted, reason))
}
