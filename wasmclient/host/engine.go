package wasmhost

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// Engine is a keeper.Engine whose every check runs inside the module,
// proofs and compute jobs alike: the host only copies the task's bytes in
// and the verdict out. It is safe for concurrent use (the host pools
// instances), so one Engine can serve many keepers.
//
// It does not implement keeper.ProgramHolder: checked programs live in
// the module's instances, and whichever instance runs a job needs the
// module bytes the first time, so the keeper inlines them in every
// compute task.
type Engine struct {
	host *Host
}

var _ keeper.Engine = (*Engine)(nil)

// Engine returns a keeper.Engine backed by this host.
func (h *Host) Engine() *Engine { return &Engine{host: h} }

// Name implements keeper.Engine.
func (*Engine) Name() string { return "wasm" }

// Check implements keeper.Engine. Verdicts are the native engine's: the
// same verifier, the same mapping to votes (keeper.FromVerifier), and for
// compute tasks the same result (checkCompute). When the module cannot
// give a verdict (it failed, the task is too large for its buffer, a
// compute job cannot finish before the deadline) the keeper abstains: a
// keeper that could not check a task has no evidence against it.
func (e *Engine) Check(ctx context.Context, t *lightkeeperv1.Task) keeper.Verdict {
	if t.GetCompute() != nil {
		return e.checkCompute(ctx, t)
	}
	// For withdrawals, the root-in-list check and the public inputs, as
	// natively; the proof check in the module.
	job, verdict := keeper.TaskJob(t)
	if verdict != nil {
		return *verdict
	}
	v, err := e.host.Verify(ctx, job)
	return e.vote(ctx, t, v, err)
}

var _ keeper.BatchEngine = (*Engine)(nil)

// CheckBatch implements keeper.BatchEngine: the proof checks of proof and
// withdrawal tasks in one lk_verify_batch call (one instance, whose key
// cache and batch verification they share), compute tasks one by one.
// Verdicts are Check's.
func (e *Engine) CheckBatch(ctx context.Context, ts []*lightkeeperv1.Task) []keeper.Verdict {
	out := make([]keeper.Verdict, len(ts))
	var (
		jobs []verifier.ProofJob
		at   []int
	)
	for i, t := range ts {
		if t.GetCompute() != nil {
			out[i] = e.checkCompute(ctx, t)
			continue
		}
		job, v := keeper.TaskJob(t)
		if v != nil {
			out[i] = *v
			continue
		}
		jobs, at = append(jobs, job), append(at, i)
	}
	if len(jobs) == 0 {
		return out
	}
	vs, err := e.host.VerifyBatch(ctx, jobs)
	for n, i := range at {
		var v verifier.Verdict
		if err == nil {
			v = vs[n]
		}
		out[i] = e.vote(ctx, ts[i], v, err)
	}
	return out
}

// vote turns the module's verdict on a task's proof, or the error that
// stopped it, into the keeper's vote.
func (e *Engine) vote(ctx context.Context, t *lightkeeperv1.Task, v verifier.Verdict, err error) keeper.Verdict {
	switch {
	case errors.Is(err, ErrInputTooLarge):
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_OVERSIZED, err.Error())
	case err != nil:
		if ctx.Err() == nil {
			e.host.cfg.logger.Warn("wasm engine could not check a task; abstaining", "round", t.GetRoundId(), "err", err)
		}
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSPECIFIED, err.Error())
	case v.Vote == protocol.VoteAbstain:
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

// checkCompute runs a compute task in the module and votes as the native
// engine does (keeper.NativeEngine): the same checks of the task first,
// with the same abstentions, then keeper.ComputeVerdict on the result
// (APPROVE, or REJECT for a trap; the leader attaches the output). The
// task's deadline less keeper.ComputeMargin is the run's wall-clock limit.
func (e *Engine) checkCompute(ctx context.Context, t *lightkeeperv1.Task) keeper.Verdict {
	c := t.GetCompute()
	id, err := compute.ParseProgramID(c.GetProgramId())
	if err != nil {
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, err.Error())
	}
	module := c.GetProgram()
	unloadable := func(err string) keeper.Verdict {
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, "program "+c.GetProgramId()[:12]+": "+err)
	}
	switch {
	case len(module) == 0:
		return unloadable("program bytes not loaded")
	case compute.ProgramIDOf(module) != id:
		return unloadable(fmt.Sprintf("program bytes hash to %s, not to the program id", compute.ProgramIDOf(module)))
	}
	seed, err := hex.DecodeString(t.GetRoundId())
	if err != nil || len(seed) != 32 {
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, "round id is not 32 hex bytes")
	}
	if d := t.GetDeadline(); d != nil {
		deadline := d.AsTime().Add(-keeper.ComputeMargin)
		if time.Until(deadline) <= 0 {
			return abstain(lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT, "no time left before the round's deadline")
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	res, err := e.host.runCompute(ctx, id, module, compute.Limits(protocol.ComputeLimitsOf(c.GetLimits())), c.GetInput(), c.GetFuel(), [32]byte(seed))
	var refused *ProgramRefusedError
	switch {
	case errors.As(err, &refused):
		return unloadable(refused.Message)
	case err != nil:
		var ae *AbstainError
		if errors.As(err, &ae) {
			// compute.Run's own words, as the native engine reports them.
			return abstain(lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT, ae.Message)
		}
		if ctx.Err() == nil {
			// Not the deadline and not the job: the module failed.
			e.host.cfg.logger.Warn("wasm engine could not run a compute task; abstaining", "round", t.GetRoundId(), "err", err)
		}
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT, err.Error())
	}
	return keeper.ComputeVerdict(res, c.GetLeader())
}
