package byzantine

import (
	"fmt"
	"math/rand/v2"

	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// Strategy is how a keeper behaves. Everything but Honest is Byzantine and
// exists so devnets, tests and the demo can show the network coping with
// it. A Strategy is a keeper.Behaviour: keeper.Config.WithBehaviour(s).
type Strategy string

var _ keeper.Behaviour = Strategy("")

const (
	Honest     Strategy = "honest"
	ApproveAll Strategy = "approve-all" // lazy: approves without checking
	RejectAll  Strategy = "reject-all"
	Random     Strategy = "random"     // approves or rejects at random
	Silent     Strategy = "silent"     // connected, never votes
	Equivocate Strategy = "equivocate" // votes honestly, then the opposite
	// WrongOutput runs compute jobs and reports a forged output (same exit
	// code and fuel); on proofs it votes the opposite of the truth.
	WrongOutput Strategy = "wrong-output"
)

// Strategies lists the valid strategies.
var Strategies = []Strategy{Honest, ApproveAll, RejectAll, Random, Silent, Equivocate, WrongOutput}

// ParseStrategy parses a strategy name.
func ParseStrategy(s string) (Strategy, error) {
	for _, st := range Strategies {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown strategy %q (want one of %v)", s, Strategies)
}

// Checks reports whether the strategy looks at the task at all
// (keeper.Behaviour).
func (s Strategy) Checks() bool {
	return s == Honest || s == Equivocate || s == WrongOutput
}

// Votes turns the honest verdict on task t into the votes this strategy
// casts (keeper.Behaviour). For proof tasks it is votes; for compute tasks the Byzantine
// strategies cast self-consistent votes for wrong results (a vote whose
// result hash the coordinator cannot open would be refused as malformed,
// which would only make the keeper look silent): approve-all claims a
// clean run with empty output without running the job, reject-all claims
// it ran out of fuel, random picks one of the two, equivocate votes the
// honest result and then a forged one, wrong-output a forged one.
func (s Strategy) Votes(t *lightkeeperv1.Task, honest keeper.Verdict) []keeper.Verdict {
	if t.GetCompute() == nil {
		if s == WrongOutput {
			return []keeper.Verdict{flipped(honest)}
		}
		return s.votes(honest)
	}
	switch s {
	case ApproveAll:
		return []keeper.Verdict{fabricated(t, false)}
	case RejectAll:
		return []keeper.Verdict{fabricated(t, true)}
	case Random:
		return []keeper.Verdict{fabricated(t, rand.IntN(2) == 0)}
	case Silent:
		return nil
	case Equivocate:
		return []keeper.Verdict{honest, forged(t, honest, 0)}
	case WrongOutput:
		return []keeper.Verdict{forged(t, honest, 0)}
	default:
		return []keeper.Verdict{honest}
	}
}

// flipped is the opposite of a proof verdict (an abstention stays one).
func flipped(v keeper.Verdict) keeper.Verdict {
	switch v.Kind {
	case lightkeeperv1.VoteKind_VOTE_KIND_APPROVE:
		return keeper.Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT, Reason: lightkeeperv1.RejectReason_REJECT_REASON_INVALID_PROOF}
	case lightkeeperv1.VoteKind_VOTE_KIND_REJECT:
		return keeper.Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE}
	}
	return v
}

// votes turns the honest verdict into the votes this strategy casts.
func (s Strategy) votes(honest keeper.Verdict) []keeper.Verdict {
	approve := keeper.Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE}
	reject := keeper.Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT, Reason: lightkeeperv1.RejectReason_REJECT_REASON_INVALID_PROOF}
	switch s {
	case ApproveAll:
		return []keeper.Verdict{approve}
	case RejectAll:
		return []keeper.Verdict{reject}
	case Random:
		if rand.IntN(2) == 0 {
			return []keeper.Verdict{approve}
		}
		return []keeper.Verdict{reject}
	case Silent:
		return nil
	case Equivocate:
		opposite := approve
		if honest.Kind == lightkeeperv1.VoteKind_VOTE_KIND_APPROVE {
			opposite = reject
		}
		return []keeper.Verdict{honest, opposite}
	default:
		return []keeper.Verdict{honest}
	}
}

// fabricated is a compute result a Byzantine strategy claims without
// running the job: a clean run with empty output (lazy approval), or
// running out of fuel (lazy rejection). Both are self-consistent votes, so
// the coordinator accepts them and the committee outvotes them.
func fabricated(t *lightkeeperv1.Task, trap bool) keeper.Verdict {
	res := compute.Result{}
	if trap {
		res.Trap, res.FuelUsed = compute.TrapOutOfFuel, t.GetCompute().GetFuel()
	}
	return keeper.ComputeVerdict(res, t.GetCompute().GetLeader())
}

// forged is the honest compute verdict with its output altered: a keeper
// that runs the job and returns a wrong output (same exit code and fuel).
// n varies the forgery, so two forgeries differ.
func forged(t *lightkeeperv1.Task, honest keeper.Verdict, n byte) keeper.Verdict {
	c := honest.Compute
	if c == nil { // the keeper could not run it: claim something anyway
		return fabricated(t, false)
	}
	out := c.GetOutput() // only the leader holds its output
	if len(out) == 0 {
		out = c.GetOutputHash()
	}
	out = append(append([]byte(nil), out...), '!'+n)
	return keeper.ComputeVerdict(compute.Result{Output: out, ExitCode: c.GetExitCode(), FuelUsed: c.GetFuelUsed(), Trap: compute.TrapKind(c.GetTrap())}, t.GetCompute().GetLeader())
}
