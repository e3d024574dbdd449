package state

import (
	"bytes"
	"fmt"
	"strings"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// checkedVote is what castVote knows about a vote once it passed every
// check that comes before the signature.
type checkedVote struct {
	rid, kid [32]byte
	kind     protocol.VoteKind
	o        *openRound
}

// precheckVote runs the checks of castVote that need no signature
// verification, cheapest first: the form of the vote, the round (open,
// closed or unknown), committee membership and, on a compute round, the
// result the vote opens. ok is false when res is the vote's final result.
// A vote from a keeper outside the round's committee — unknown, unstaked
// or merely not drawn — is therefore refused before any signature check.
func (m *Machine) precheckVote(v *lightkeeperv1.Vote) (c checkedVote, res TxResult, ok bool) {
	malformed := func(format string, args ...any) (checkedVote, TxResult, bool) {
		return c, TxResult{
			RoundID:    v.GetRoundId(),
			VoteStatus: lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED,
			Err:        fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...)),
		}, false
	}
	if v == nil {
		return malformed("cast_vote.vote: missing")
	}
	if c.rid, ok = protocol.ParseID(v.RoundId); !ok {
		return malformed("vote.round_id: want 64 lowercase hex digits, got %q", truncate(v.RoundId))
	}
	if c.kid, ok = protocol.ParseID(v.KeeperId); !ok {
		return malformed("vote.keeper_id: want 64 lowercase hex digits, got %q", truncate(v.KeeperId))
	}
	c.kind = protocol.VoteKind(v.Kind)
	if !c.kind.Valid() {
		return malformed("vote.kind: %v", v.Kind)
	}
	if len(v.ResultHash) != 32 {
		return malformed("vote.result_hash: %d bytes, want 32", len(v.ResultHash))
	}
	res = TxResult{RoundID: v.RoundId}
	o, open := m.rounds[v.RoundId]
	if !open {
		if _, known := m.roundIDs[c.rid]; !known {
			res.VoteStatus = lightkeeperv1.VoteStatus_VOTE_STATUS_UNKNOWN_ROUND
			res.Err = fmt.Errorf("%w: %s", ErrUnknownRound, v.RoundId)
		} else {
			res.VoteStatus = lightkeeperv1.VoteStatus_VOTE_STATUS_ROUND_CLOSED
			res.Err = fmt.Errorf("%w: %s", ErrRoundClosed, v.RoundId)
		}
		return c, res, false
	}
	if _, member := o.seat[v.KeeperId]; !member {
		res.VoteStatus = lightkeeperv1.VoteStatus_VOTE_STATUS_NOT_IN_COMMITTEE
		res.Err = fmt.Errorf("%w: keeper %s, round %s", ErrNotInCommittee, v.KeeperId, v.RoundId)
		return c, res, false
	}
	if o.r.Kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
		if msg := m.checkComputeVote(v); msg != "" {
			return malformed("%s", msg)
		}
	} else if v.Compute != nil {
		return malformed("vote.compute: set on a %s round", strings.TrimPrefix(o.r.Kind.String(), "ROUND_KIND_"))
	}
	c.o = o
	return c, res, true
}

// PrecheckVote tells a vote's result without a block when no signature
// check is needed to know it: the vote is refused before its signature
// (malformed, unknown or closed round, not in the committee, see
// precheckVote), or it repeats, signature included, a vote already
// accepted (DUPLICATE). final is false when the vote must go into a block.
// The service answers final votes itself, so a vote that cannot count
// costs it a map lookup instead of a signature check and a place in the
// ledger; the machine still runs the same checks on whatever reaches it.
func (m *Machine) PrecheckVote(v *lightkeeperv1.Vote) (res TxResult, final bool) {
	c, res, ok := m.precheckVote(v)
	if !ok {
		return res, true
	}
	if i, voted := c.o.voteOf[v.KeeperId]; voted {
		if first := c.o.r.Votes[i]; sameVote(first, v) && bytes.Equal(first.Signature, v.Signature) {
			res.VoteStatus = lightkeeperv1.VoteStatus_VOTE_STATUS_DUPLICATE
			return res, true
		}
	}
	return TxResult{}, false
}

// UnbondedKeepers counts the registered keepers with no bond of their own:
// identities that cost the coordinator a record and a place in every
// per-keeper loop but put nothing at stake.
func (m *Machine) UnbondedKeepers() int {
	n := 0
	for _, k := range m.keepers {
		if k.Registered && k.Stake == 0 {
			n++
		}
	}
	return n
}
