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
)

// Strategies lists the valid strategies.
var Strategies = []Strategy{Honest, ApproveAll, RejectAll, Random, Silent, Equivocate}

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
	return s == Honest || s == Equivocate
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
