package state

// Sealed random challenges (commit-reveal) on a chain with
// params.challenges, the replicated chain's form of challenge.go
// (docs/design.md §8).
//
// Every SubmitRoundTx carries a ChallengeSeal: a listed challenger's
// signed commitment, to the answer of a challenge or to nothing for a
// client round. The machine cannot tell them apart either, so a sealed
// round is opened, voted, decided and judged at its close exactly like a
// client round. Once it closed it waits reveal_window for a
// RevealChallengeTx; a reveal that opens the commitment makes it a
// challenge after the fact: the block reveals the answer and every vote is
// judged again by it (judgeAtReveal). A seal never (correctly) opened
// leaves the round as it was judged at its close: a challenger whose
// reveal does not match is ignored, not slashed (it holds no stake, and a
// mismatch harms nobody).

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// sealed is the machine's state of sealed challenges: the closed sealed
// rounds whose reveal window is open, and each challenger's reveal quota.
type sealed struct {
	pending map[string]*lightkeeperv1.PendingReveal // by round id
	// The same records by (closed_unix_milli, round id): expiry order.
	pendingOrder []*lightkeeperv1.PendingReveal
	quotas       map[string]*lightkeeperv1.ChallengerQuota // by challenger key bytes
}

func newSealed() sealed {
	return sealed{pending: map[string]*lightkeeperv1.PendingReveal{}, quotas: map[string]*lightkeeperv1.ChallengerQuota{}}
}

func byClose(a, b *lightkeeperv1.PendingReveal) int {
	if c := a.ClosedUnixMilli - b.ClosedUnixMilli; c != 0 {
		if c < 0 {
			return -1
		}
		return 1
	}
	return strings.Compare(a.GetRound().GetId(), b.GetRound().GetId())
}

// revealWindow is params.challenges.reveal_window in ms (0 without rules).
func (m *Machine) revealWindow() int64 {
	return m.params.GetChallenges().GetRevealWindow().AsDuration().Milliseconds()
}

// awaitReveal keeps a sealed round that just closed for its reveal.
func (a *applier) awaitReveal(r *lightkeeperv1.Round) {
	p := &lightkeeperv1.PendingReveal{Round: r, ClosedUnixMilli: a.now}
	a.m.sealed.pending[r.Id] = p
	a.m.sealed.pendingOrder = append(a.m.sealed.pendingOrder, p) // a.now ≥ every earlier close
	a.pendingPut[r.Id] = true
}

// expireReveals forgets the sealed rounds whose reveal window ended before
// this block: they stay client rounds as judged at their close.
func (a *applier) expireReveals() {
	s := &a.m.sealed
	w := a.m.revealWindow()
	n := 0
	for n < len(s.pendingOrder) && s.pendingOrder[n].ClosedUnixMilli+w < a.now {
		id := s.pendingOrder[n].Round.Id
		delete(s.pending, id)
		delete(a.pendingPut, id)
		a.pendingDel = append(a.pendingDel, id)
		n++
	}
	s.pendingOrder = s.pendingOrder[n:]
	slices.Sort(a.pendingDel)
}

// revealSealed applies a RevealChallengeTx: the checks in the order of
// docs/design.md §8, then the reveal and the judgement by the answer.
func (a *applier) revealSealed(tx *lightkeeperv1.RevealChallengeTx) TxResult {
	m := a.m
	rules := m.params.GetChallenges()
	if rules == nil {
		return TxResult{Err: fmt.Errorf("%w: reveal_challenge: this chain's genesis has no params.challenges", ErrInvalidRequest)}
	}
	id := tx.GetRoundId()
	if err := protocol.CheckID("reveal_challenge.round_id", id); err != nil {
		return TxResult{Err: err}
	}
	res := TxResult{RoundID: id}
	if _, open := m.rounds[id]; open {
		res.Err = fmt.Errorf("%w: round %s has not closed yet", ErrRevealTooEarly, id)
		return res
	}
	p, ok := m.sealed.pending[id]
	if !ok {
		if !m.KnownRound(id) {
			res.Err = fmt.Errorf("%w: reveal_challenge.round_id: %s", ErrUnknownRound, id)
		} else {
			res.Err = fmt.Errorf("%w: round %s closed more than %s ago, or carries no seal", ErrRevealWindow, id, rules.GetRevealWindow().AsDuration())
		}
		return res
	}
	r := p.Round
	switch {
	case r.Challenge != nil:
		res.Err = fmt.Errorf("%w: round %s", ErrAlreadyRevealed, id)
	case a.now > p.ClosedUnixMilli+m.revealWindow(): // expireReveals ran first: unreachable, kept as the rule's statement
		res.Err = fmt.Errorf("%w: round %s closed at %d, the window ended at %d", ErrRevealWindow, id, p.ClosedUnixMilli, p.ClosedUnixMilli+m.revealWindow())
	case tx.GetAnswer() == nil:
		res.Err = fmt.Errorf("%w: reveal_challenge.answer: missing", ErrInvalidRequest)
	case !protocol.OpensCommitment(r.GetSeal().GetCommitment(), tx.Answer, tx.GetSalt()):
		res.Err = fmt.Errorf("%w: round %s: reveal_challenge.answer and salt do not open the seal's commitment", ErrChallengeMismatch, id)
	case tx.Answer.Candidates != r.GetSeal().GetCandidates():
		res.Err = fmt.Errorf("%w: round %s: answer.candidates is %v, the seal's is %v", ErrChallengeMismatch, id, tx.Answer.Candidates, r.GetSeal().GetCandidates())
	}
	if res.Err != nil {
		return res
	}
	if err := checkChallenge(r.Request, tx.Answer); err != nil {
		res.Err = err
		return res
	}
	if err := a.takeQuota(rules, r.GetSeal().GetChallenger()); err != nil {
		res.Err = err
		return res
	}
	closeUnits := m.workUnits(r) // what the close credited, before the answer is known
	r.Challenge = proto.Clone(tx.Answer).(*lightkeeperv1.ChallengeAnswer)
	a.revealChallenge(r)
	a.judgeAtReveal(r, closeUnits)
	a.rounds[r.Id] = r
	a.pendingPut[r.Id] = true
	res.Round = cloneRound(r)
	return res
}

// takeQuota counts one accepted reveal of challenger in the block's hour,
// or refuses it once max_reveals_per_hour were accepted.
func (a *applier) takeQuota(rules *lightkeeperv1.ChallengeRules, challenger []byte) error {
	hour := floorDiv(a.now, protocol.MillisPerHour)
	q := a.m.sealed.quotas[string(challenger)]
	if q != nil && q.Hour == hour && q.Reveals >= rules.MaxRevealsPerHour {
		return fmt.Errorf("%w: challenger %x: %d reveals accepted in hour %d (params.challenges.max_reveals_per_hour)", ErrRevealRateLimit, challenger, q.Reveals, hour)
	}
	if q == nil || q.Hour != hour {
		q = &lightkeeperv1.ChallengerQuota{Challenger: bytes.Clone(challenger), Hour: hour}
		a.m.sealed.quotas[string(challenger)] = q
	}
	q.Reveals++
	a.quotaPut[string(challenger)] = true
	return nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// judgeAtReveal judges a revealed round's votes by its answer. The close
// judged them by the outcome, as for any client round; now:
//
//   - a TIMEOUT round (nothing judged at close): every vote as
//     settleChallenge judges a challenge's;
//   - a vote the close judged correct that contradicts the answer (it
//     agreed with a wrong outcome: a lazy majority) loses the close's
//     credit (the correct count, the reputation and the work units) and
//     takes the incorrect-vote penalty, slash included;
//   - a vote the close judged incorrect that is the answer gets the
//     reputation penalty back and the correct credit; the slash the close
//     took is not refunded (the slashed tokens were burnt or paid out in
//     that block);
//   - a vote whose judgement the answer confirms is left as it was.
//
// closeUnits is the work units the close credited a correct vote.
func (a *applier) judgeAtReveal(r *lightkeeperv1.Round, closeUnits uint64) {
	p := a.m.params
	for _, v := range r.Votes {
		if v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
			continue
		}
		k := a.m.keepers[v.KeeperId]
		a.keepers[k.Id] = true
		rightAtClose, judged := agreesWithOutcome(r, v)
		if !judged {
			a.settleChallenge(r, k, v)
			continue
		}
		if answered(r.Challenge, v) == rightAtClose {
			continue
		}
		if rightAtClose {
			k.VotesCorrect = subSat(k.VotesCorrect, 1)
			k.EpochWorkUnits = subSat(k.EpochWorkUnits, closeUnits)
			a.setReputation(k, k.Reputation-p.ReputationCorrect-p.ReputationConsensusBonus, CauseIncorrect)
		} else {
			k.VotesIncorrect = subSat(k.VotesIncorrect, 1)
			a.setReputation(k, k.Reputation+p.ReputationIncorrect, CauseCorrect)
		}
		a.settleChallenge(r, k, v)
	}
}

func subSat(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// PendingReveal returns a copy of a closed sealed round awaiting its
// reveal, and when its window ends (unix ms).
func (m *Machine) PendingReveal(roundID string) (*lightkeeperv1.Round, int64, bool) {
	p, ok := m.sealed.pending[roundID]
	if !ok {
		return nil, 0, false
	}
	return cloneRound(p.Round), p.ClosedUnixMilli + m.revealWindow(), true
}

// collectSealed lists the block's pending-reveal and quota changes in the
// Result, sorted by round id and challenger key.
func (a *applier) collectSealed() {
	for _, id := range sortedKeys(a.pendingPut) {
		a.res.PendingReveals = append(a.res.PendingReveals, proto.Clone(a.m.sealed.pending[id]).(*lightkeeperv1.PendingReveal))
	}
	a.res.PendingRevealsRemoved = a.pendingDel
	for _, c := range sortedKeys(a.quotaPut) {
		a.res.ChallengerQuotas = append(a.res.ChallengerQuotas, proto.Clone(a.m.sealed.quotas[c]).(*lightkeeperv1.ChallengerQuota))
	}
}

// restoreSealed rebuilds the sealed state from a snapshot.
func (m *Machine) restoreSealed(s Snapshot) error {
	m.sealed = newSealed()
	for i, p := range s.PendingReveals {
		r := p.GetRound()
		if r == nil || !protocol.ValidID(r.Id) || r.Seal == nil || r.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
			return fmt.Errorf("%w: pending_reveals[%d]: not a closed sealed round", ErrInvalidSnapshot, i)
		}
		if _, dup := m.sealed.pending[r.Id]; dup {
			return fmt.Errorf("%w: pending_reveals[%d]: duplicate %s", ErrInvalidSnapshot, i, r.Id)
		}
		for _, v := range r.Votes {
			if _, ok := m.keepers[v.GetKeeperId()]; !ok {
				return fmt.Errorf("%w: pending_reveals[%d]: vote by unknown keeper %q", ErrInvalidSnapshot, i, v.GetKeeperId())
			}
		}
		c := proto.Clone(p).(*lightkeeperv1.PendingReveal)
		m.sealed.pending[r.Id] = c
		m.sealed.pendingOrder = append(m.sealed.pendingOrder, c)
	}
	slices.SortFunc(m.sealed.pendingOrder, byClose)
	for i, q := range s.ChallengerQuotas {
		if len(q.GetChallenger()) != 32 {
			return fmt.Errorf("%w: challenger_quotas[%d]: challenger is %d bytes", ErrInvalidSnapshot, i, len(q.GetChallenger()))
		}
		m.sealed.quotas[string(q.Challenger)] = proto.Clone(q).(*lightkeeperv1.ChallengerQuota)
	}
	return nil
}

// snapshotSealed copies the sealed state, sorted by round id and key.
func (m *Machine) snapshotSealed(s *Snapshot) {
	for _, id := range sortedKeys(m.sealed.pending) {
		s.PendingReveals = append(s.PendingReveals, proto.Clone(m.sealed.pending[id]).(*lightkeeperv1.PendingReveal))
	}
	for _, c := range sortedKeys(m.sealed.quotas) {
		s.ChallengerQuotas = append(s.ChallengerQuotas, proto.Clone(m.sealed.quotas[c]).(*lightkeeperv1.ChallengerQuota))
	}
}
