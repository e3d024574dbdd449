package state

import (
	"fmt"
	"strings"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/wasmcheck"
)

// Event is something that happened while a block was applied. Events are
// listed in Result.Events in the order they happened. The concrete types
// are the structs below (values, not pointers); the records they carry are
// copies the caller may keep.
type Event interface {
	isEvent()
	String() string
}

// Causes of ReputationChanged.
const (
	CauseCorrect   = "correct"
	CauseIncorrect = "incorrect"
	CauseTimeout   = "timeout"
	CauseDecay     = "decay"
)

// RoundOpened: a SubmitRoundTx created Round (phase VOTING, committee
// drawn). The service dispatches tasks to Round.Committee.
type RoundOpened struct{ Round *lightkeeperv1.Round }

// VoteAccepted: a vote was counted (Late: the round was already DECIDED; the
// vote is stored and judged but not part of the certificate).
type VoteAccepted struct {
	RoundID  string
	KeeperID string
	Kind     lightkeeperv1.VoteKind
	Late     bool
}

// RoundDecided: a round reached an outcome (APPROVED or REJECTED by
// threshold, or TIMEOUT at its deadline). Certificate is in the block.
type RoundDecided struct {
	Round       *lightkeeperv1.Round
	Certificate *lightkeeperv1.Certificate
}

// RoundClosed: a round passed its deadline and left the machine's memory;
// Missed lists the committee members (by seat) with no accepted vote.
type RoundClosed struct {
	Round  *lightkeeperv1.Round
	Missed []string
}

// ChallengeRevealed: a random challenge's round closed; its answer is in
// the block from now on (Block.challenges).
type ChallengeRevealed struct {
	RoundID string
	Answer  *lightkeeperv1.ChallengeAnswer
}

// ReputationChanged: a keeper's reputation moved From → To (after
// clamping; no event when clamping leaves it unchanged). Cause is one of
// CauseCorrect, CauseIncorrect, CauseTimeout, CauseDecay. Decay over several
// days in one block is one event.
type ReputationChanged struct {
	KeeperID string
	From, To int64
	Cause    string
}

// EquivocationDetected: a committee member signed two different votes for
// one round; Evidence is in the block.
type EquivocationDetected struct{ Evidence *lightkeeperv1.Evidence }

// KeeperRegistered: a keeper proved possession of its key (new keeper, or a
// genesis keeper registering for the first time).
type KeeperRegistered struct{ KeeperID string }

// KeeperOnlineChanged: a keeper's online flag changed.
type KeeperOnlineChanged struct {
	KeeperID string
	Online   bool
}

// VerifyingKeyRegistered: a new verifying key was registered.
type VerifyingKeyRegistered struct{ ID string }

// ProgramRegistered: a new compute program was registered.
type ProgramRegistered struct{ ID string }

func (RoundOpened) isEvent()            {}
func (VoteAccepted) isEvent()           {}
func (RoundDecided) isEvent()           {}
func (RoundClosed) isEvent()            {}
func (ChallengeRevealed) isEvent()      {}
func (ReputationChanged) isEvent()      {}
func (EquivocationDetected) isEvent()   {}
func (KeeperRegistered) isEvent()       {}
func (KeeperOnlineChanged) isEvent()    {}
func (VerifyingKeyRegistered) isEvent() {}
func (ProgramRegistered) isEvent()      {}

func (e RoundOpened) String() string {
	r := e.Round
	return fmt.Sprintf("round opened %s committee=[%s] threshold=%d reject_threshold=%d deadline=%s",
		r.GetId(), strings.Join(r.GetCommittee(), " "), r.GetThreshold(), r.GetRejectThreshold(),
		r.GetDeadline().AsTime().UTC().Format("2006-01-02T15:04:05.000Z"))
}

func (e VoteAccepted) String() string {
	s := fmt.Sprintf("vote accepted %s by %s: %s", e.RoundID, e.KeeperID, kindName(e.Kind))
	if e.Late {
		s += " (late)"
	}
	return s
}

func (e RoundDecided) String() string {
	r := e.Round
	s := fmt.Sprintf("round decided %s: %s (approvals=%d rejections=%d abstentions=%d, %d votes in certificate)",
		r.GetId(), protocol.OutcomeName(r.GetOutcome()), r.GetApprovals(), r.GetRejections(), r.GetAbstentions(), len(e.Certificate.GetVotes()))
	if res := r.GetResult(); res != nil {
		s += " " + resultString(r.GetResultHash(), res)
	}
	return s
}

// resultString describes a compute result in one line.
func resultString(hash []byte, r *lightkeeperv1.ComputeResult) string {
	out := "output not uploaded"
	if OutputKnown(r) {
		out = fmt.Sprintf("output %q", truncate(string(r.GetOutput())))
	}
	return fmt.Sprintf("result=%x trap=%s exit=%d fuel=%d %s", shortHash(hash), wasmcheck.TrapKind(r.GetTrap()), r.GetExitCode(), r.GetFuelUsed(), out)
}

func shortHash(b []byte) []byte {
	if len(b) > 4 {
		return b[:4]
	}
	return b
}

func (e RoundClosed) String() string {
	return fmt.Sprintf("round closed %s: %s missed=[%s]", e.Round.GetId(), protocol.OutcomeName(e.Round.GetOutcome()), strings.Join(e.Missed, " "))
}

func (e ChallengeRevealed) String() string {
	s := "challenge revealed " + shortID(e.RoundID) + " answer " + kindName(e.Answer.GetKind())
	if e.Answer.GetCandidates() {
		s += " (candidates)"
	}
	return s
}

func (e ReputationChanged) String() string {
	return fmt.Sprintf("reputation %s %d -> %d (%s)", e.KeeperID, e.From, e.To, e.Cause)
}

func (e EquivocationDetected) String() string {
	ev := e.Evidence
	return fmt.Sprintf("equivocation %s by %s: %s then %s", ev.GetRoundId(), ev.GetKeeperId(), kindName(ev.GetFirst().GetKind()), kindName(ev.GetSecond().GetKind()))
}

func (e KeeperRegistered) String() string { return "keeper registered " + e.KeeperID }

func (e KeeperOnlineChanged) String() string {
	return fmt.Sprintf("keeper %s online=%t", e.KeeperID, e.Online)
}

func (e VerifyingKeyRegistered) String() string { return "verifying key registered " + e.ID }

func (e ProgramRegistered) String() string { return "program registered " + e.ID }

func kindName(k lightkeeperv1.VoteKind) string {
	switch k {
	case lightkeeperv1.VoteKind_VOTE_KIND_APPROVE:
		return "approve"
	case lightkeeperv1.VoteKind_VOTE_KIND_REJECT:
		return "reject"
	case lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN:
		return "abstain"
	}
	return k.String()
}
