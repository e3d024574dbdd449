package keeper

import (
	"fmt"
	"math/rand/v2"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Strategy is how a keeper behaves. Everything but Honest is Byzantine and
// exists so devnets, tests and the demo can show the network coping with
// it.
type Strategy string

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

// needsCheck reports whether the strategy looks at the task at all.
func (s Strategy) needsCheck() bool {
	return s == Honest || s == Equivocate || s == WrongOutput
}

// votesFor turns the honest verdict on task t into the votes this strategy
// casts. For proof tasks it is votes; for compute tasks the Byzantine
// strategies cast self-consistent votes for wrong results (a vote whose
// result hash the coordinator cannot open would be refused as malformed,
// which would only make the keeper look silent): approve-all claims a
// clean run with empty output without running the job, reject-all claims
// it ran out of fuel, random picks one of the two, equivocate votes the
// honest result and then a forged one, wrong-output a forged one.
func (s Strategy) votesFor(t *lightkeeperv1.Task, honest Verdict) []Verdict {
	if t.GetCompute() == nil {
		if s == WrongOutput {
			return []Verdict{flipped(honest)}
		}
		return s.votes(honest)
	}
	switch s {
	case ApproveAll:
		return []Verdict{fabricated(t, false)}
	case RejectAll:
		return []Verdict{fabricated(t, true)}
	case Random:
		return []Verdict{fabricated(t, rand.IntN(2) == 0)}
	case Silent:
		return nil
	case Equivocate:
		return []Verdict{honest, forged(t, honest, 0)}
	case WrongOutput:
		return []Verdict{forged(t, honest, 0)}
	default:
		return []Verdict{honest}
	}
}

// flipped is the opposite of a proof verdict (an abstention stays one).
func flipped(v Verdict) Verdict {
	switch v.Kind {
	case lightkeeperv1.VoteKind_VOTE_KIND_APPROVE:
		return Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT, Reason: lightkeeperv1.RejectReason_REJECT_REASON_INVALID_PROOF}
	case lightkeeperv1.VoteKind_VOTE_KIND_REJECT:
		return Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE}
	}
	return v
}

// votes turns the honest verdict into the votes this strategy casts.
func (s Strategy) votes(honest Verdict) []Verdict {
	approve := Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE}
	reject := Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT, Reason: lightkeeperv1.RejectReason_REJECT_REASON_INVALID_PROOF}
	switch s {
	case ApproveAll:
		return []Verdict{approve}
	case RejectAll:
		return []Verdict{reject}
	case Random:
		if rand.IntN(2) == 0 {
			return []Verdict{approve}
		}
		return []Verdict{reject}
	case Silent:
		return nil
	case Equivocate:
		opposite := approve
		if honest.Kind == lightkeeperv1.VoteKind_VOTE_KIND_APPROVE {
			opposite = reject
		}
		return []Verdict{honest, opposite}
	default:
		return []Verdict{honest}
	}
}
