package state

// Rounds and votes: opening a round (committee, fee, deadline), admitting
// votes, deciding, settling each vote and closing at the deadline. The
// kinds of request a round verifies have their own files (compute.go,
// pool.go for withdrawals, challenge.go); keepers.go and committee.go
// choose and score the voters.

import (
	"bytes"
	"fmt"
	"slices"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// closeDue ends every open round whose deadline is at or before the block
// time: a VOTING round is decided TIMEOUT, then every due round is CLOSED.
func (a *applier) closeDue() {
	for _, o := range a.m.takeDue(a.now) {
		if o.r.Phase == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
			a.decide(o, lightkeeperv1.Outcome_OUTCOME_TIMEOUT)
		}
		a.close(o)
	}
}

func (a *applier) decide(o *openRound, outcome lightkeeperv1.Outcome) {
	r := o.r
	if r.Kind == lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL && outcome == lightkeeperv1.Outcome_OUTCOME_APPROVED {
		// The spend and the payment happen here, in the block (and so the
		// store batch) that records the outcome.
		if err := a.spendWithdrawal(r); err != nil {
			outcome = lightkeeperv1.Outcome_OUTCOME_REJECTED // Voided(r)
			a.emit(WithdrawalVoided{RoundID: r.Id, Reason: err.Error()})
		}
	}
	r.Phase = lightkeeperv1.RoundPhase_ROUND_PHASE_DECIDED
	r.Outcome = outcome
	r.DecidedHeight = a.height
	r.DecidedAt = tsMilli(a.now)
	r.DecidedVotes = uint32(len(r.Votes))
	a.rounds[r.Id] = r
	if r.Kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
		// Uploaded outputs leave the votes here: the agreed one moves to
		// the round's result, the others are dropped, so no certificate
		// carries output bytes.
		for _, v := range r.Votes {
			fillOutput(r, v)
		}
	}
	cert := &lightkeeperv1.Certificate{
		ChainId:         a.m.chainID,
		RoundId:         r.Id,
		Kind:            r.Kind,
		Outcome:         outcome,
		Height:          a.height,
		Seed:            bytes.Clone(r.Seed),
		Committee:       slices.Clone(r.Committee),
		EligibleHash:    bytes.Clone(r.EligibleHash),
		Threshold:       r.Threshold,
		RejectThreshold: r.RejectThreshold,
		Votes:           cloneAll(r.Votes),
		DecidedAt:       tsMilli(a.now),
		SeedBlock:       cloneHeader(r.SeedBlock),
		ParamsHash:      bytes.Clone(a.m.paramsHash),
	}
	if len(r.EligibleHash) == 0 {
		// A round opened before lists were stored by hash (restored from
		// such a store) carries its list: its certificate gets the hash
		// like any other, and the list is stored under it.
		if l, err := protocol.NewEligibleList(r.Eligible); err == nil { // the machine drew the round from it
			cert.EligibleHash = l.Hash()
			a.storeEligible(l)
		}
	}
	if r.Result != nil {
		cert.ResultHash = bytes.Clone(r.ResultHash)
		cert.Result = proto.Clone(r.Result).(*lightkeeperv1.ComputeResult)
		cert.Result.Output = nil
	}
	a.certs = append(a.certs, cert)
	a.emit(RoundDecided{Round: cloneRound(r), Certificate: cloneCert(cert)})
	for _, v := range r.Votes {
		a.settle(r, v)
	}
}

// cloneRound and cloneCert copy a round and a certificate. They carry
// the eligible list's hash, not the list (only records from before lists
// were stored by hash do).
func cloneRound(r *lightkeeperv1.Round) *lightkeeperv1.Round {
	return proto.Clone(r).(*lightkeeperv1.Round)
}

func cloneCert(cert *lightkeeperv1.Certificate) *lightkeeperv1.Certificate {
	return proto.Clone(cert).(*lightkeeperv1.Certificate)
}

// cloneWeights copies an eligible list field by field into one
// allocation, instead of by reflection one message at a time.
func cloneWeights(in []*lightkeeperv1.WeightedKeeper) []*lightkeeperv1.WeightedKeeper {
	if in == nil {
		return nil
	}
	backing := make([]lightkeeperv1.WeightedKeeper, len(in))
	out := make([]*lightkeeperv1.WeightedKeeper, len(in))
	for i, w := range in {
		backing[i].KeeperId, backing[i].Weight = w.KeeperId, w.Weight
		out[i] = &backing[i]
	}
	return out
}

func cloneAll[T proto.Message](in []T) []T {
	out := make([]T, len(in))
	for i, x := range in {
		out[i] = proto.Clone(x).(T)
	}
	return out
}

// settle judges one vote of a decided round.
func (a *applier) settle(r *lightkeeperv1.Round, v *lightkeeperv1.Vote) {
	k := a.m.keepers[v.KeeperId]
	p := a.m.params
	a.keepers[k.Id] = true
	if v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
		k.VotesAbstained++
		return
	}
	if Voided(r) {
		return // nobody is wrong about a valid proof for a note spent meanwhile
	}
	if r.Challenge != nil {
		a.settleChallenge(r, k, v)
		return
	}
	agree, judged := agreesWithOutcome(r, v)
	if !judged { // TIMEOUT: nothing was decided, so nothing is right or wrong
		return
	}
	if agree {
		k.VotesCorrect++
		k.EpochWorkUnits += a.m.workUnits(r)
		delta := p.ReputationCorrect
		if r.Outcome != lightkeeperv1.Outcome_OUTCOME_TIMEOUT {
			delta += p.ReputationConsensusBonus
		}
		a.setReputation(k, k.Reputation+delta, CauseCorrect)
	} else {
		k.VotesIncorrect++
		a.setReputation(k, k.Reputation-p.ReputationIncorrect, CauseIncorrect)
		a.slash(k, p.Slashing.SlashIncorrectBps, r.SubmittedHeight, CauseIncorrect, "")
	}
}

// agreesWithOutcome judges a non-abstain vote of a decided client round
// by its outcome; judged is false for a TIMEOUT, where nothing was
// decided.
func agreesWithOutcome(r *lightkeeperv1.Round, v *lightkeeperv1.Vote) (agree, judged bool) {
	switch r.Outcome {
	case lightkeeperv1.Outcome_OUTCOME_APPROVED:
		agree = v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
	case lightkeeperv1.Outcome_OUTCOME_REJECTED:
		agree = v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_REJECT
	default:
		return false, false
	}
	if r.Kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
		// The right kind is not enough: the result must be the agreed one.
		agree = agree && bytes.Equal(v.ResultHash, r.ResultHash)
	}
	return agree, true
}

// workUnits is what verifying a round correctly is worth (docs/design.md §9):
// staking.work_units_groth16 or work_units_plonk for a proof round,
// ⌈fuel used / staking.fuel_per_unit⌉ for a decided compute round.
func (m *Machine) workUnits(r *lightkeeperv1.Round) uint64 {
	if r.GetKind() == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
		if ch := r.GetChallenge(); ch != nil {
			return m.computeWorkUnits(ch.GetResult().GetFuelUsed())
		}
		return m.computeWorkUnits(r.GetResult().GetFuelUsed())
	}
	if r.GetRequest().GetProof().GetScheme() == lightkeeperv1.Scheme_SCHEME_PLONK {
		return m.params.Staking.WorkUnitsPlonk
	}
	return m.params.Staking.WorkUnitsGroth16
}

func (a *applier) close(o *openRound) {
	r := o.r
	r.Phase = lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED
	var missed []string
	for _, id := range r.Committee {
		if _, voted := o.voteOf[id]; !voted {
			missed = append(missed, id)
		}
	}
	delete(a.m.rounds, r.Id)
	a.rounds[r.Id] = r
	if r.Challenge != nil {
		a.revealChallenge(r)
	}
	if r.Seal != nil && a.m.params.GetChallenges() != nil {
		a.awaitReveal(r)
	}
	a.emit(RoundClosed{Round: cloneRound(r), Missed: slices.Clone(missed)})
	for _, id := range r.Committee {
		_, voted := o.voteOf[id]
		a.recordAssignment(a.m.keepers[id], !voted)
	}
	for _, id := range missed {
		k := a.m.keepers[id]
		k.RoundsMissed++
		a.setReputation(k, k.Reputation-a.m.params.ReputationTimeout, CauseTimeout)
	}
}

// eligible returns the keepers that may sit on a committee, sorted by id:
// in the epoch's active set, registered, online, not jailed or tombstoned,
// reputation ≥ min_reputation, own bond ≥ min_self_bond and effective
// stake > 0 (the stake gate fails closed). The records returned carry the
// effective stake as Stake, which is what committee weights use.
func (m *Machine) eligible() []*lightkeeperv1.Keeper {
	var out []*lightkeeperv1.Keeper
	for _, k := range m.keepersByID() {
		if m.isEligible(k) {
			out = append(out, &lightkeeperv1.Keeper{Id: k.Id, Stake: k.EffectiveStake, Reputation: k.Reputation})
		}
	}
	return out
}

// submitRound opens a round without payment: only while
// staking.fee_per_work_unit is 0, or for a random challenge (the
// coordinator's own, see challenge.go).
func (a *applier) submitRound(tx *lightkeeperv1.SubmitRoundTx) TxResult {
	if err := protocol.CheckSeal(a.m.chainID, a.m.params.GetChallenges(), tx); err != nil {
		return TxResult{Err: err}
	}
	if ch := tx.GetChallenge(); ch != nil {
		if err := checkChallenge(tx.GetRequest(), ch); err != nil {
			return TxResult{Err: err}
		}
		return a.openRound(tx.GetRequest(), nil, ch, nil)
	}
	if s := tx.GetSeal(); s != nil {
		// Free like the single-node coordinator's challenges, which a
		// sealed round may be: the challenger (a replica) is trusted by the
		// genesis to seal only challenges and the rounds its API admits.
		return a.openRound(tx.GetRequest(), nil, nil, s)
	}
	if fee := a.m.params.Staking.FeePerWorkUnit; fee > 0 {
		return TxResult{Err: fmt.Errorf("%w: staking.fee_per_work_unit is %d: submit the round as a signed submit_round transaction", ErrPaymentRequired, fee)}
	}
	return a.openRound(tx.GetRequest(), nil, nil, nil)
}

// openRound validates a request, draws its committee and opens the round.
// pay, when not nil, is called with the round's work units once nothing
// else can fail; its error refuses the round. challenge, when not nil,
// makes it a random challenge: its committee may come from the candidates
// instead of the active set, and its votes are judged by the answer.
// seal, when not nil, is the round's ChallengeSeal (reveal.go): its
// candidates flag draws from the candidates like a challenge's.
func (a *applier) openRound(req *lightkeeperv1.RoundRequest, pay func(units uint64) error, challenge *lightkeeperv1.ChallengeAnswer, seal *lightkeeperv1.ChallengeSeal) TxResult {
	m := a.m
	if req == nil {
		return TxResult{Err: fmt.Errorf("%w: submit_round.request: missing", ErrInvalidRequest)}
	}
	id := protocol.RoundID(m.chainID, req)
	rid, _ := protocol.ParseID(id) // the transaction was marshalled already, so id is valid
	if _, known := m.roundIDs[rid]; known {
		res := TxResult{RoundID: id, Err: fmt.Errorf("%w: %s", ErrRoundExists, id)}
		if o, open := m.rounds[id]; open {
			res.Round = cloneRound(o.r)
		}
		return res
	}
	pr, cr, wr := req.GetProof(), req.GetCompute(), req.GetWithdrawal()
	if pr == nil && cr == nil && wr == nil {
		return TxResult{Err: fmt.Errorf("%w: submit_round.request.payload: unsupported round kind (proof, withdrawal or compute)", ErrInvalidRequest)}
	}
	if len(req.ClientNonce) > MaxClientNonceLen {
		return TxResult{Err: fmt.Errorf("%w: submit_round.request.client_nonce: %d bytes, limit %d", ErrInvalidRequest, len(req.ClientNonce), MaxClientNonceLen)}
	}
	p := m.params
	kind := lightkeeperv1.RoundKind_ROUND_KIND_PROOF
	var units uint64
	switch {
	case wr != nil:
		// Committee and tally as a PROOF round (a Groth16 verification).
		if err := m.checkWithdrawal(wr); err != nil {
			return TxResult{Err: err}
		}
		kind = lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL
		units = m.params.Staking.WorkUnitsGroth16
	case cr != nil:
		if err := m.checkComputeRequest(cr); err != nil {
			return TxResult{Err: err}
		}
		kind = lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE
		units = m.computeWorkUnits(cr.Fuel)
	default:
		if err := m.checkProofRequest(pr); err != nil {
			return TxResult{Err: err}
		}
		units = m.params.Staking.WorkUnitsGroth16
		if pr.Scheme == lightkeeperv1.Scheme_SCHEME_PLONK {
			units = m.params.Staking.WorkUnitsPlonk
		}
	}

	m.recomputeStakes(a)
	var (
		eligible *protocol.EligibleList
		err      error
	)
	candidates := challenge.GetCandidates() || seal.GetCandidates()
	if candidates {
		eligible, err = protocol.NewEligibleList(protocol.Weights(m.candidates(), p))
	} else {
		eligible, err = m.eligibleWeights()
	}
	if err != nil { // unreachable: ids valid and sorted, weights add up to < 2⁴⁶
		return TxResult{RoundID: id, Err: err}
	}
	weights := eligible.Keepers()
	rule, err := protocol.CommitteeRule(p, kind, weights, candidates)
	if err != nil {
		return TxResult{RoundID: id, Err: err}
	}
	size, threshold := rule.Size, rule.Threshold
	committee, err := eligible.Draw(a.roundSeed, id, size)
	if err != nil { // unreachable: size ≤ non-zero weights, ids sorted
		return TxResult{RoundID: id, Err: err}
	}
	if pay != nil {
		if err := pay(units); err != nil {
			return TxResult{RoundID: id, Err: err}
		}
	}
	rejectThreshold := rule.RejectThreshold
	r := &lightkeeperv1.Round{
		Id:              id,
		Kind:            kind,
		Request:         proto.Clone(req).(*lightkeeperv1.RoundRequest),
		SubmittedHeight: a.height,
		SubmittedAt:     tsMilli(a.now),
		Deadline:        tsMilli(a.now + m.timeout),
		Seed:            bytes.Clone(a.roundSeed),
		SeedBlock:       cloneHeader(a.seedBlock),
		Committee:       committee,
		EligibleHash:    eligible.Hash(),
		Threshold:       threshold,
		RejectThreshold: rejectThreshold,
		Phase:           lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING,
	}
	if challenge != nil {
		r.Challenge = proto.Clone(challenge).(*lightkeeperv1.ChallengeAnswer)
	}
	if seal != nil {
		r.Seal = proto.Clone(seal).(*lightkeeperv1.ChallengeSeal)
	}
	o := newOpenRound(r)
	m.rounds[id] = o
	m.indexDeadline(o)
	m.roundIDs[rid] = a.height
	a.rounds[id] = r
	a.storeEligible(eligible)
	for _, kid := range committee {
		m.keepers[kid].RoundsAssigned++
		a.keepers[kid] = true
	}
	a.emit(RoundOpened{Round: cloneRound(r)})
	return TxResult{RoundID: id, Round: cloneRound(r)}
}

// storeEligible puts list in the block's change set the first time a
// round is drawn from it; rounds and certificates carry only its hash.
func (a *applier) storeEligible(list *protocol.EligibleList) {
	h := list.HashArray()
	if _, ok := a.m.eligibleStored[h]; ok {
		return
	}
	a.m.eligibleStored[h] = struct{}{}
	a.res.EligibleLists = append(a.res.EligibleLists, &lightkeeperv1.EligibleList{Hash: h[:], Keepers: cloneWeights(list.Keepers())})
}

func (a *applier) castVote(tx *lightkeeperv1.CastVoteTx) TxResult {
	m := a.m
	v := tx.GetVote()
	c, res, ok := m.precheckVote(v)
	if !ok {
		return res
	}
	o, kind := c.o, c.kind
	isCompute := o.r.Kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE
	if !a.verifyVote(c.rid, c.kid, kind, v) {
		res.VoteStatus = lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE
		res.Err = fmt.Errorf("%w: vote.signature: not a valid signature by keeper %s", ErrBadSignature, v.KeeperId)
		return res
	}
	r := o.r
	if i, voted := o.voteOf[v.KeeperId]; voted {
		first := r.Votes[i]
		if sameVote(first, v) {
			res.VoteStatus = lightkeeperv1.VoteStatus_VOTE_STATUS_DUPLICATE
			return res
		}
		res.VoteStatus = lightkeeperv1.VoteStatus_VOTE_STATUS_EQUIVOCATION
		res.Err = fmt.Errorf("%w: keeper %s already voted %s on round %s", ErrEquivocation, v.KeeperId, kindName(first.Kind), v.RoundId)
		if !o.equivocated(v.KeeperId) {
			ev := &lightkeeperv1.Evidence{
				KeeperId: v.KeeperId,
				RoundId:  v.RoundId,
				First:    withoutOutput(first),
				Second:   withoutOutput(v),
				Height:   a.height,
			}
			o.evidence = append(o.evidence, ev)
			k := m.keepers[v.KeeperId]
			k.Equivocations++
			a.keepers[k.Id] = true
			a.res.Evidence = append(a.res.Evidence, proto.Clone(ev).(*lightkeeperv1.Evidence))
			a.emit(EquivocationDetected{Evidence: proto.Clone(ev).(*lightkeeperv1.Evidence)})
			if !k.Tombstoned {
				a.punishEquivocation(k, r.SubmittedHeight, "")
			}
		}
		return res
	}

	vote := proto.Clone(v).(*lightkeeperv1.Vote)
	o.voteOf[v.KeeperId] = len(r.Votes)
	r.Votes = append(r.Votes, vote)
	switch kind {
	case protocol.VoteApprove:
		r.Approvals++
	case protocol.VoteReject:
		r.Rejections++
	case protocol.VoteAbstain:
		r.Abstentions++
	}
	a.rounds[r.Id] = r
	late := r.Phase == lightkeeperv1.RoundPhase_ROUND_PHASE_DECIDED
	a.emit(VoteAccepted{RoundID: r.Id, KeeperID: v.KeeperId, Kind: v.Kind, Late: late})
	res.VoteStatus = lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED
	switch {
	case isCompute && late:
		fillOutput(r, vote) // a leader uploading after the decision
		a.settle(r, vote)
	case isCompute:
		// Decided by the first result hash that threshold votes of one
		// kind carry; approvals and rejections for other results do not
		// add up.
		if kind != protocol.VoteAbstain && computeAgreement(r, vote) >= r.Threshold {
			setComputeResult(r, vote)
			outcome := lightkeeperv1.Outcome_OUTCOME_APPROVED
			if kind == protocol.VoteReject {
				outcome = lightkeeperv1.Outcome_OUTCOME_REJECTED
			}
			a.decide(o, outcome)
		}
	case late:
		a.settle(r, vote)
	case r.Approvals >= r.Threshold:
		a.decide(o, lightkeeperv1.Outcome_OUTCOME_APPROVED)
	case r.Rejections >= r.RejectThreshold:
		a.decide(o, lightkeeperv1.Outcome_OUTCOME_REJECTED)
	}
	return res
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// openRound is a round still in memory with its indexes.
type openRound struct {
	r        *lightkeeperv1.Round
	rid      [32]byte
	deadline int64          // unix ms
	seat     map[string]int // committee member → seat
	voteOf   map[string]int // member → index of its accepted vote in r.Votes
	evidence []*lightkeeperv1.Evidence
}

func newOpenRound(r *lightkeeperv1.Round) *openRound {
	rid, _ := protocol.ParseID(r.Id)
	o := &openRound{
		r:        r,
		rid:      rid,
		deadline: r.Deadline.AsTime().UnixMilli(),
		seat:     make(map[string]int, len(r.Committee)),
		voteOf:   make(map[string]int, len(r.Committee)),
	}
	for i, id := range r.Committee {
		o.seat[id] = i
	}
	for i, v := range r.Votes {
		o.voteOf[v.KeeperId] = i
	}
	return o
}

func (o *openRound) equivocated(keeperID string) bool {
	for _, e := range o.evidence {
		if e.KeeperId == keeperID {
			return true
		}
	}
	return false
}

func (m *Machine) checkOpenRound(r *lightkeeperv1.Round) error {
	if r == nil || !protocol.ValidID(r.Id) {
		return fmt.Errorf("id: %q", r.GetId())
	}
	if r.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING && r.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_DECIDED {
		return fmt.Errorf("round %s: phase %v is not open", r.Id, r.Phase)
	}
	if r.Deadline == nil || r.Deadline.CheckValid() != nil {
		return fmt.Errorf("round %s: bad deadline", r.Id)
	}
	if len(r.Committee) == 0 {
		return fmt.Errorf("round %s: empty committee", r.Id)
	}
	seen := make(map[string]bool, len(r.Committee))
	for _, id := range r.Committee {
		if _, ok := m.keepers[id]; !ok || seen[id] {
			return fmt.Errorf("round %s: committee member %q unknown or repeated", r.Id, id)
		}
		seen[id] = true
	}
	voted := make(map[string]bool, len(r.Votes))
	for _, v := range r.Votes {
		if !seen[v.GetKeeperId()] || voted[v.GetKeeperId()] || v.GetRoundId() != r.Id {
			return fmt.Errorf("round %s: vote by %q is not from a distinct committee member", r.Id, v.GetKeeperId())
		}
		voted[v.KeeperId] = true
	}
	if int(r.DecidedVotes) > len(r.Votes) {
		return fmt.Errorf("round %s: decided_votes %d > %d votes", r.Id, r.DecidedVotes, len(r.Votes))
	}
	return nil
}

// OpenRound returns a copy of an open (VOTING or DECIDED) round. Closed
// rounds are not in memory; the service reads them from the store.
func (m *Machine) OpenRound(id string) (*lightkeeperv1.Round, bool) {
	o, ok := m.rounds[id]
	if !ok {
		return nil, false
	}
	return cloneRound(o.r), true
}

// OpenRoundCount returns how many rounds are open (decided rounds stay open
// until their deadline), without copying them.
func (m *Machine) OpenRoundCount() int { return len(m.rounds) }

// OpenRounds returns copies of the open rounds sorted by deadline, then id.
func (m *Machine) OpenRounds() []*lightkeeperv1.Round {
	out := make([]*lightkeeperv1.Round, len(m.deadlines))
	for i, o := range m.deadlines {
		out[i] = cloneRound(o.r)
	}
	return out
}

// KnownRound reports whether a round with this id was ever created.
func (m *Machine) KnownRound(id string) bool {
	rid, ok := protocol.ParseID(id)
	if !ok {
		return false
	}
	_, known := m.roundIDs[rid]
	return known
}

// NextDeadline returns the earliest deadline of an open round. The service
// applies a block (possibly empty) once its clock passes it, so that the
// round is closed.
func (m *Machine) NextDeadline() (unixMilli int64, ok bool) {
	if len(m.deadlines) == 0 {
		return 0, false
	}
	return m.deadlines[0].deadline, true
}

// sameVote reports whether two votes say the same thing: same kind and
// result hash (the reason and signature bytes are not compared: the reason
// is not signed, and a keeper may produce several valid signatures of one
// message).
func sameVote(a, b *lightkeeperv1.Vote) bool {
	return a.GetKind() == b.GetKind() && bytes.Equal(a.GetResultHash(), b.GetResultHash())
}
