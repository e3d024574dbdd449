package keeper

import (
	"context"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// Verdict is what a keeper concludes about a task.
type Verdict struct {
	Kind       lightkeeperv1.VoteKind
	Reason     lightkeeperv1.RejectReason
	ResultHash [32]byte
	Detail     string
	// Compute is the result of a compute task (APPROVE or REJECT), which
	// ResultHash commits to; it travels with the vote, with the output
	// bytes when the keeper is the round's leader (see ComputeVerdict).
	Compute *lightkeeperv1.ComputeResult
}

// Engine checks tasks. Implementations must be safe for concurrent use.
type Engine interface {
	Name() string
	Check(ctx context.Context, t *lightkeeperv1.Task) Verdict
}

// BatchEngine is an Engine that checks several tasks in one call, so that
// proofs under the same verifying key are verified together
// (verifier.KeyCache.VerifyBatch). CheckBatch returns Check's verdict for
// each task, in order: batching changes the cost, never a verdict.
type BatchEngine interface {
	Engine
	CheckBatch(ctx context.Context, ts []*lightkeeperv1.Task) []Verdict
}

// sharedKeys is the process's cache of decoded verifying keys, used by
// every NativeEngine that has none of its own.
var sharedKeys = verifier.NewKeyCache(verifier.DefaultKeyCacheSize)

// NativeEngine checks tasks in this process: proofs with the verifier
// package, compute jobs with verifier/compute under wazero (one engine per
// process, see compute.go) or under the runner in Compute. Built with the
// tag lightkeeper_nocompute it checks proofs only and abstains on compute
// jobs (engine_nocompute.go), without wazero linked: the edge worker's
// smaller build (make edge-worker-proofs).
type NativeEngine struct {
	Limits protocol.Limits
	// ComputeKind is wazero's engine for compute jobs: EngineAuto (the
	// compiler where it runs, else the interpreter) by default.
	ComputeKind computeEngineKind
	// ComputeCacheDir keeps the compute engine's compiled programs across
	// restarts (compute.EngineConfig.CacheDir); empty: in memory only.
	ComputeCacheDir string
	// Compute, when set, runs compute jobs instead of the process's wazero
	// engine of ComputeKind. The browser keeper sets it to the platform
	// engine (compute.PlatformEngine, GOOS=js only: the browser's own
	// WebAssembly engine). Results and verdicts do not depend on it.
	Compute ComputeRunner
	// Keys holds decoded verifying keys; nil: the process's shared cache.
	Keys *verifier.KeyCache
}

func (e NativeEngine) keys() *verifier.KeyCache {
	if e.Keys != nil {
		return e.Keys
	}
	return sharedKeys
}

// NewNativeEngine returns a native engine with the verifier's default
// limits.
func NewNativeEngine() NativeEngine { return NativeEngine{Limits: protocol.DefaultLimits()} }

// Name implements Engine.
func (NativeEngine) Name() string { return "native" }

// Check implements Engine.
func (e NativeEngine) Check(ctx context.Context, t *lightkeeperv1.Task) Verdict {
	if t.GetCompute() != nil {
		return e.checkCompute(ctx, t)
	}
	job, v := TaskJob(t)
	if v != nil {
		return *v
	}
	return FromVerifier(e.keys().VerifyProof(job, e.Limits))
}

// CheckBatch implements BatchEngine: the proof checks of proof and
// withdrawal tasks in one verifier.KeyCache.VerifyBatch call, compute
// tasks one by one.
func (e NativeEngine) CheckBatch(ctx context.Context, ts []*lightkeeperv1.Task) []Verdict {
	out := make([]Verdict, len(ts))
	var (
		jobs []verifier.ProofJob
		at   []int
	)
	for i, t := range ts {
		if t.GetCompute() != nil {
			out[i] = e.checkCompute(ctx, t)
			continue
		}
		job, v := TaskJob(t)
		if v != nil {
			out[i] = *v
			continue
		}
		jobs, at = append(jobs, job), append(at, i)
	}
	for n, v := range e.keys().VerifyBatch(jobs, e.Limits) {
		out[at[n]] = FromVerifier(v)
	}
	return out
}

// TaskJob returns the proof job of a proof or withdrawal task. A non-nil
// verdict is the task's answer without a proof check: a withdrawal refused
// on its request alone, or a kind that is not a proof check (compute tasks
// are the engines' own business).
func TaskJob(t *lightkeeperv1.Task) (verifier.ProofJob, *Verdict) {
	if w := t.GetWithdrawal(); w != nil {
		return WithdrawalJob(w)
	}
	if p := t.GetProof(); p != nil {
		return ProofJob(p), nil
	}
	v := abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, "task kind not supported by this keeper")
	return verifier.ProofJob{}, &v
}

// ProofJob converts a proof task for the verifier.
func ProofJob(p *lightkeeperv1.ProofTask) verifier.ProofJob {
	return verifier.ProofJob{
		Scheme:       verifier.Scheme(p.GetScheme()),
		Curve:        verifier.Curve(p.GetCurve()),
		VerifyingKey: p.GetVerifyingKey(),
		Proof:        p.GetProof(),
		PublicInputs: p.GetPublicInputs(),
	}
}

// FromVerifier turns a verifier verdict into a vote. Inputs over this
// keeper's own limits, of a kind it does not support, or that made the
// verifier itself fail are not evidence against the proof: the keeper
// abstains instead of rejecting.
func FromVerifier(v verifier.Verdict) Verdict {
	reason := lightkeeperv1.RejectReason(v.Reason)
	switch {
	case v.Vote == protocol.VoteApprove:
		return Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE}
	case v.Vote == protocol.VoteAbstain, // the verifier could not decide (a recovered fault)
		v.Reason == verifier.ReasonOversized, v.Reason == verifier.ReasonUnsupported:
		return abstain(reason, v.Detail)
	default:
		return Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT, Reason: reason, Detail: v.Detail}
	}
}

// Capabilities is what this build of the keeper checks; tasks of any other
// kind get ABSTAIN (UNSUPPORTED) from NativeEngine. Build tags narrow it:
// lightkeeper_nocompute (no compute jobs), lightkeeper_nobls12381 and
// lightkeeper_noplonk (the verifier's backends, see verifier.Supported);
// hosts report it (the edge worker's status page) so a deployment can tell
// which build it runs.
type Capabilities struct {
	// Proofs are the scheme/curve pairs verified, such as "groth16/bn254".
	Proofs  []string `json:"proofs"`
	Compute bool     `json:"compute"`
}

// BuildCapabilities returns this build's Capabilities.
func BuildCapabilities() Capabilities {
	c := Capabilities{Proofs: []string{}, Compute: computeBuilt}
	for _, s := range []verifier.Scheme{verifier.SchemeGroth16, verifier.SchemePlonk} {
		for _, cv := range []verifier.Curve{verifier.CurveBN254, verifier.CurveBLS12_381} {
			if verifier.Supported(s, cv) {
				c.Proofs = append(c.Proofs, s.String()+"/"+cv.String())
			}
		}
	}
	return c
}

func abstain(reason lightkeeperv1.RejectReason, detail string) Verdict {
	return Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN, Reason: reason, Detail: detail}
}
