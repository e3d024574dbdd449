package state

import (
	"bytes"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// Random challenges (GPoW, docs/design.md §9, docs/challenges.md).
//
// A challenge is a SubmitRoundTx whose challenge field carries the answer.
// Only the coordinator sets it (the service builds every client
// submission itself). The machine keeps the answer in the round and
// records the transaction in the block without it, so until the round
// closes a challenge differs from a client's round in nothing the ledger
// or the API shows: same request shape, committee draw, thresholds,
// deadline and tally. Its votes are judged by the answer rather than by
// the tally (a lazy majority cannot make itself right), also when the
// round times out; the block that closes it reveals the answer
// (Block.challenges, covered by the results hash).
//
// Consequences are those of any round: a wrong answer is an incorrect
// vote (reputation, slashing) and counts in challenge_failures; no answer
// by the deadline is a missed round; a right one counts as correctly
// verified work units, which is what capacity and so the stake limit are
// measured from. Challenges for candidates (keepers outside the active
// set, the only way they can earn capacity before an election) draw their
// committee from the candidates.

// checkChallenge validates a challenge's answer against its request.
func checkChallenge(req *lightkeeperv1.RoundRequest, ch *lightkeeperv1.ChallengeAnswer) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: submit_round.challenge: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
	}
	switch ch.Kind {
	case lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, lightkeeperv1.VoteKind_VOTE_KIND_REJECT:
	default:
		return bad("kind %v: want APPROVE or REJECT", ch.Kind)
	}
	if len(ch.ResultHash) != 32 {
		return bad("result_hash: %d bytes, want 32", len(ch.ResultHash))
	}
	switch {
	case req.GetProof() != nil:
		if ch.Result != nil || !bytes.Equal(ch.ResultHash, zeroResultHash[:]) {
			return bad("a proof challenge has a zero result_hash and no result")
		}
	case req.GetCompute() != nil:
		c := ch.Result
		if c == nil || len(c.OutputHash) != 32 || c.Trap > maxTrap {
			return bad("result: missing or malformed")
		}
		if (c.Trap != 0) != (ch.Kind == lightkeeperv1.VoteKind_VOTE_KIND_REJECT) {
			return bad("kind %v with trap %d (a trapped run is answered REJECT, a clean one APPROVE)", ch.Kind, c.Trap)
		}
		if h := protocol.ComputeResultHash(c.Trap, c.ExitCode, c.FuelUsed, [32]byte(c.OutputHash)); !bytes.Equal(h[:], ch.ResultHash) {
			return bad("result_hash does not open to result")
		}
	default:
		return bad("only proof and compute rounds can be challenges")
	}
	return nil
}

var zeroResultHash [32]byte

// candidates returns the keepers a candidates' challenge is drawn from,
// sorted by id: registered, online, electable, reputation ≥ min_reputation
// and outside the active set. Their own bond stands in for the effective
// stake they do not have yet.
func (m *Machine) candidates() []*lightkeeperv1.Keeper {
	var out []*lightkeeperv1.Keeper
	for _, k := range m.keepersByID() {
		if !k.Active && k.Registered && k.Online && m.electable(k) && k.Reputation >= m.params.MinReputation {
			out = append(out, &lightkeeperv1.Keeper{Id: k.Id, Stake: k.Stake, Reputation: k.Reputation})
		}
	}
	return out
}

// HasCandidates reports whether a candidates' challenge could be opened now.
func (m *Machine) HasCandidates() bool { return len(m.candidates()) > 0 }

// settleChallenge judges an APPROVE or REJECT vote of a challenge by its
// answer, whatever the round's outcome.
func (a *applier) settleChallenge(r *lightkeeperv1.Round, k *lightkeeperv1.Keeper, v *lightkeeperv1.Vote) {
	p := a.m.params
	ch := r.Challenge
	if answered(ch, v) {
		k.VotesCorrect++
		k.EpochWorkUnits += a.m.workUnits(r)
		delta := p.ReputationCorrect
		if r.Outcome != lightkeeperv1.Outcome_OUTCOME_TIMEOUT {
			delta += p.ReputationConsensusBonus
		}
		a.setReputation(k, k.Reputation+delta, CauseCorrect)
		return
	}
	k.VotesIncorrect++
	// The same causes as a real round's: events before the close must not
	// tell a challenge apart either.
	a.setReputation(k, k.Reputation-p.ReputationIncorrect, CauseIncorrect)
	a.slash(k, p.Slashing.SlashIncorrectBps, r.SubmittedHeight, CauseIncorrect, "")
}

// answered reports whether v is the challenge's answer.
func answered(ch *lightkeeperv1.ChallengeAnswer, v *lightkeeperv1.Vote) bool {
	return v.Kind == ch.Kind && bytes.Equal(v.ResultHash, ch.ResultHash)
}

// revealChallenge runs when a challenge's round closes: the block reveals
// the answer, and only now do the members' challenge counters move (a
// counter that moved at the decision would tell the round apart while
// late members may still vote).
func (a *applier) revealChallenge(r *lightkeeperv1.Round) {
	ch := r.Challenge
	for _, v := range r.Votes {
		if v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
			continue
		}
		k := a.m.keepers[v.KeeperId]
		if answered(ch, v) {
			k.ChallengesPassed++
		} else {
			k.ChallengeFailures++
		}
		a.keepers[k.Id] = true
	}
	a.reveals = append(a.reveals, &lightkeeperv1.ChallengeReveal{RoundId: r.Id, Answer: proto.Clone(ch).(*lightkeeperv1.ChallengeAnswer)})
	a.emit(ChallengeRevealed{RoundID: r.Id, Answer: proto.Clone(ch).(*lightkeeperv1.ChallengeAnswer)})
}
