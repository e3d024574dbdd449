package wasmhost

import (
	"context"
	"errors"

	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// Engine is a keeper.Engine whose every verification runs inside the
// module: the host only copies the task's bytes in and the verdict out.
// It is safe for concurrent use (the host pools instances), so one Engine
// can serve many keepers.
type Engine struct {
	host *Host
}

var _ keeper.Engine = (*Engine)(nil)

// Engine returns a keeper.Engine backed by this host.
func (h *Host) Engine() *Engine { return &Engine{host: h} }

// Name implements keeper.Engine.
func (*Engine) Name() string { return "wasm" }

// Check implements keeper.Engine. Verdicts are the native engine's: the
// same verifier, the same mapping to votes (keeper.FromVerifier). When the
// module cannot give a verdict (it failed, or the task is too large for
// its buffer) the keeper abstains: a keeper that could not check a task
// has no evidence against it.
func (e *Engine) Check(ctx context.Context, t *lightkeeperv1.Task) keeper.Verdict {
	var job verifier.ProofJob
	switch {
	case t.GetProof() != nil:
		job = keeper.ProofJob(t.GetProof())
	case t.GetWithdrawal() != nil:
		// The root-in-list check and the public inputs, as natively;
		// the proof check in the module.
		j, verdict := keeper.WithdrawalJob(t.GetWithdrawal())
		if verdict != nil {
			return *verdict
		}
		job = j
	default:
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, "task kind not supported by this keeper")
	}
	v, err := e.host.Verify(ctx, job)
	switch {
	case errors.Is(err, ErrInputTooLarge):
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_OVERSIZED, err.Error())
	case err != nil:
		if ctx.Err() == nil {
			e.host.cfg.logger.Warn("wasm engine could not check a task; abstaining", "round", t.GetRoundId(), "err", err)
		}
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSPECIFIED, err.Error())
	case v.Vote == verifier.VoteAbstain:
		// The verifier abstains only when it failed internally. Mapped
		// here rather than by keeper.FromVerifier, which turns an abstain
		// with no reason into a reject.
		return abstain(lightkeeperv1.RejectReason(v.Reason), v.Detail)
	}
	return keeper.FromVerifier(v)
}

func abstain(reason lightkeeperv1.RejectReason, detail string) keeper.Verdict {
	return keeper.Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN, Reason: reason, Detail: detail}
}
