package replica

import (
	"context"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"
)

// PrepareProposal builds this replica's block from the mempool's
// transactions, in the mempool's order: it leaves out what decode refuses
// (a transaction admitted under other rules, or whose bytes changed
// meaning since) and stops at MaxBlockTxs or CometBFT's byte budget.
func (a *App) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	a.mu.Lock()
	limits := a.limits
	a.mu.Unlock()
	var txs [][]byte
	var size int64
	for _, b := range req.Txs {
		if len(txs) == MaxBlockTxs {
			break
		}
		if _, err := limits.decode(b); err != nil {
			continue
		}
		// The byte budget counts each transaction as CometBFT's Data
		// encodes it (with its field tag and length).
		sz := cmttypes.ComputeProtoSizeForTxs([]cmttypes.Tx{b})
		if size+sz > req.MaxTxBytes {
			continue // a smaller one further on may still fit
		}
		txs, size = append(txs, b), size+sz
	}
	return &abci.ResponsePrepareProposal{Txs: txs}, nil
}

// ProcessProposal refuses a block that no honest PrepareProposal makes:
// more than MaxBlockTxs transactions or one that decode refuses
// (undecodable, oversize, a kind clients may not send, a registration
// whose signature fails). The verdict depends on the block's bytes and
// the chain parameters alone, so every honest replica votes alike.
// CometBFT itself has checked the block's total size against the
// consensus parameters' block.max_bytes.
func (a *App) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	a.mu.Lock()
	limits := a.limits
	a.mu.Unlock()
	reject := &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}
	if len(req.Txs) > MaxBlockTxs {
		a.log.Warn("proposal refused", "height", req.Height, "reason", fmt.Sprintf("%d transactions, the limit is %d", len(req.Txs), MaxBlockTxs))
		return reject, nil
	}
	for i, b := range req.Txs {
		if _, err := limits.decode(b); err != nil {
			a.log.Warn("proposal refused", "height", req.Height, "tx", i, "reason", err)
			return reject, nil
		}
	}
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}
