package replica

import (
	"fmt"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// How a replica learns that its consensus halted. CometBFT v0.38's
// consensus state runs every state transition in one goroutine
// (receiveRoutine); a panic there — "+2/3 committed an invalid block",
// which is what a replica whose app hash differs from the majority's
// meets — is recovered, logged as "CONSENSUS FAILURE!!!" with the panic
// as "err", and ends that goroutine for good while the rest of the node
// (p2p, mempool, the application, our API) runs on. The consensus state
// would say so through its Wait, but node.Node does not expose it in
// v0.38, so the replica watches CometBFT's log for that one message
// instead: it is the only place the halt is reported, exactly when it
// happens, and with its cause.

// consensusFailureMsg is the message CometBFT v0.38's consensus state
// logs when it halts (consensus/state.go, receiveRoutine).
const consensusFailureMsg = "CONSENSUS FAILURE!!!"

// haltWatch forwards to the CometBFT logger it wraps, and calls onHalt
// with the panic's text when consensus logs its failure.
type haltWatch struct {
	cmtlog.Logger
	onHalt func(reason string)
}

func watchHalt(l cmtlog.Logger, onHalt func(reason string)) cmtlog.Logger {
	return haltWatch{Logger: l, onHalt: onHalt}
}

func (h haltWatch) Error(msg string, keyvals ...any) {
	if msg == consensusFailureMsg {
		reason := "consensus failure"
		for i := 0; i+1 < len(keyvals); i += 2 {
			if keyvals[i] == "err" {
				reason = fmt.Sprint(keyvals[i+1])
			}
		}
		h.onHalt(reason)
	}
	h.Logger.Error(msg, keyvals...)
}

func (h haltWatch) With(keyvals ...any) cmtlog.Logger {
	return haltWatch{Logger: h.Logger.With(keyvals...), onHalt: h.onHalt}
}

// consensusHalted marks the replica's service halted (service.MarkHalted).
func (a *App) consensusHalted(reason string) {
	a.mu.Lock()
	n := a.node
	a.mu.Unlock()
	if n == nil {
		a.log.Error("replica consensus halted before it held a chain", "reason", reason)
		return
	}
	n.MarkHalted(reason)
}
