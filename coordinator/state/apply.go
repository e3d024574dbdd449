package state

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"slices"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"google.golang.org/protobuf/proto"
)

// BlockInput is one block's input: its time (chosen by the service, the
// only clock the machine knows) and its ordered transactions.
type BlockInput struct {
	TimeUnixMilli int64
	Txs           []*lightkeeperv1.Transaction
	// Entropy is empty or EntropyLen bytes the producer drew at random
	// after choosing the block's transactions (the service uses
	// crypto/rand). It goes into the header and into the committee seed of
	// the rounds the block opens (CommitteeSeed), so that a submitter
	// cannot predict its committee. A replay passes the header's value.
	Entropy []byte
}

// applier holds the work in progress of one ApplyBlock.
type applier struct {
	m      *Machine
	height uint64
	now    int64  // block time, unix ms
	seed   []byte // hash of the previous block (elections)
	res    *Result

	// The header as it stands before the transactions run (results_hash
	// empty) and CommitteeSeed of it: the committee seed of every round
	// opened in this block.
	seedBlock *lightkeeperv1.BlockHeader
	roundSeed []byte

	rounds  map[string]*lightkeeperv1.Round // created or changed (live pointers)
	keepers map[string]bool                 // changed
	certs   []*lightkeeperv1.Certificate
	reveals []*lightkeeperv1.ChallengeReveal // challenges closed in this block

	// The economy's changes.
	accounts          map[string]bool
	guarantees        map[string]bool
	removedGuarantees map[string]*lightkeeperv1.Guarantee
	groups            map[string]bool
	unbonding         map[uint64]bool
	unbondingRemoved  map[uint64]bool
}

func newApplier(m *Machine, height uint64, now int64, seed []byte) *applier {
	return &applier{
		m:                 m,
		height:            height,
		now:               now,
		seed:              seed,
		res:               &Result{},
		rounds:            make(map[string]*lightkeeperv1.Round),
		keepers:           make(map[string]bool),
		accounts:          make(map[string]bool),
		guarantees:        make(map[string]bool),
		removedGuarantees: make(map[string]*lightkeeperv1.Guarantee),
		groups:            make(map[string]bool),
		unbonding:         make(map[uint64]bool),
		unbondingRemoved:  make(map[uint64]bool),
	}
}

// ApplyBlock applies one block: (1) daily reputation decay for every day
// boundary crossed since the last block, (2) closing of the rounds whose
// deadline is at or before the block time, by deadline then id, (3) the
// economy's timers: unbonding entries that are due, reward multipliers
// past forgiveness, and the end of the epoch if the block is in a later
// one (rewards, capacity, election), (4) the transactions in order, (5)
// stake limits and effective stakes brought up to date. A transaction that fails has no effect and its
// error is in its TxResult; the block still records it.
//
// ApplyBlock returns an error only for an input that cannot form a block —
// a time before the head's (ErrTimeWentBackwards) or out of range, or a nil
// or unencodable transaction (ErrInvalidRequest) — and then the state is
// unchanged.
func (m *Machine) ApplyBlock(in BlockInput) (*Result, error) {
	if in.TimeUnixMilli < m.headTime {
		return nil, fmt.Errorf("%w: block time %d is before head time %d (height %d)", ErrTimeWentBackwards, in.TimeUnixMilli, m.headTime, m.head.Height)
	}
	if in.TimeUnixMilli > MaxTimeUnixMilli {
		return nil, fmt.Errorf("%w: block time %d is after %d", ErrInvalidRequest, in.TimeUnixMilli, int64(MaxTimeUnixMilli))
	}
	if n := len(in.Entropy); n != 0 && n != EntropyLen {
		return nil, fmt.Errorf("%w: block entropy is %d bytes, want 0 or %d", ErrInvalidRequest, n, EntropyLen)
	}
	// The block records each transaction without a challenge's answer
	// (see challenge.go); the machine applies it with the answer.
	txs := make([]*lightkeeperv1.Transaction, len(in.Txs))
	answers := make([]*lightkeeperv1.ChallengeAnswer, len(in.Txs))
	for i, tx := range in.Txs {
		txs[i] = proto.Clone(tx).(*lightkeeperv1.Transaction)
		if sr := txs[i].GetSubmitRound(); sr != nil {
			answers[i], sr.Challenge = sr.Challenge, nil
		}
	}
	txHash, err := TransactionsHash(txs)
	if err != nil {
		return nil, err
	}
	a := newApplier(m, m.head.Height+1, in.TimeUnixMilli, m.headHash)
	a.seedBlock = &lightkeeperv1.BlockHeader{
		Height:           a.height,
		Time:             tsMilli(a.now),
		PreviousHash:     bytes.Clone(m.headHash),
		TransactionsHash: txHash,
		Entropy:          bytes.Clone(in.Entropy),
	}
	a.roundSeed = CommitteeSeed(a.seedBlock)
	a.res.TxResults = make([]TxResult, len(in.Txs))
	a.decay()
	a.closeDue()
	a.stakingTick()
	for i, tx := range txs {
		if answers[i] != nil {
			tx = proto.Clone(tx).(*lightkeeperv1.Transaction)
			tx.GetSubmitRound().Challenge = answers[i]
		}
		a.res.TxResults[i] = a.apply(tx)
		a.res.TxResults[i].Height = a.height
	}
	m.recomputeStakes(a)

	header := &lightkeeperv1.BlockHeader{
		Height:           a.height,
		Time:             tsMilli(a.now),
		PreviousHash:     bytes.Clone(m.headHash),
		TransactionsHash: txHash,
		ResultsHash:      ResultsHash(a.certs, a.res.Evidence, a.reveals...),
		Entropy:          bytes.Clone(in.Entropy),
	}
	hash := BlockHash(header)
	m.head, m.headHash, m.headTime = header, hash, a.now

	res := a.res
	evidence := make([]*lightkeeperv1.Evidence, len(res.Evidence))
	for i, e := range res.Evidence {
		evidence[i] = proto.Clone(e).(*lightkeeperv1.Evidence)
	}
	res.Block = &lightkeeperv1.Block{
		Header:       cloneHeader(header),
		Hash:         bytes.Clone(hash),
		Transactions: txs,
		Certificates: a.certs,
		Evidence:     evidence,
		Challenges:   a.reveals,
	}
	res.Meta = m.meta()
	for _, id := range sortedKeys(a.rounds) {
		res.Rounds = append(res.Rounds, proto.Clone(a.rounds[id]).(*lightkeeperv1.Round))
	}
	for _, id := range sortedKeys(a.keepers) {
		res.Keepers = append(res.Keepers, proto.Clone(m.keepers[id]).(*lightkeeperv1.Keeper))
	}
	a.collectEconomy()
	return res, nil
}

// collectEconomy puts the economy's changed records into the Result.
func (a *applier) collectEconomy() {
	m, res := a.m, a.res
	for _, id := range sortedKeys(a.accounts) {
		res.Accounts = append(res.Accounts, proto.Clone(m.accounts[id]).(*lightkeeperv1.Account))
	}
	for _, key := range sortedKeys(a.guarantees) {
		if g, ok := m.guarantees[key]; ok {
			res.Guarantees = append(res.Guarantees, proto.Clone(g).(*lightkeeperv1.Guarantee))
		} else if g, ok := a.removedGuarantees[key]; ok {
			g.Amount = 0
			res.Guarantees = append(res.Guarantees, g)
		}
	}
	for _, id := range sortedKeys(a.groups) {
		res.Groups = append(res.Groups, proto.Clone(m.groups[id]).(*lightkeeperv1.Group))
	}
	var ids []uint64
	for id := range a.unbonding {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if e, ok := m.unbonding[id]; ok {
			res.Unbonding = append(res.Unbonding, proto.Clone(e).(*lightkeeperv1.UnbondingEntry))
		}
	}
	for id := range a.unbondingRemoved {
		res.UnbondingRemoved = append(res.UnbondingRemoved, id)
	}
	slices.Sort(res.UnbondingRemoved)
	res.Staking = m.Staking()
}

func (a *applier) emit(e Event) { a.res.Events = append(a.res.Events, e) }

// setReputation clamps to the bounds and records the change.
func (a *applier) setReputation(k *lightkeeperv1.Keeper, to int64, cause string) {
	p := a.m.params
	to = min(max(to, p.ReputationMin), p.ReputationMax)
	a.keepers[k.Id] = true
	if to == k.Reputation {
		return
	}
	a.emit(ReputationChanged{KeeperID: k.Id, From: k.Reputation, To: to, Cause: cause})
	k.Reputation = to
}

// decay takes ppm/10⁶ of every reputation (0.1 % at the default) once
// per day boundary crossed (at most MaxDecayDays), to every keeper in id
// order, as one event per keeper; the fraction of a point that an integer
// cannot lose is carried to the next day (decayed), so the rate is exact
// at every level.
func (a *applier) decay() {
	m := a.m
	day := dayOf(a.now)
	if day <= m.lastDecayDay {
		return
	}
	days := min(day-m.lastDecayDay, MaxDecayDays)
	m.lastDecayDay = day
	ppm := m.params.ReputationDailyDecayPpm
	if ppm == 0 {
		return
	}
	for _, id := range sortedKeys(m.keepers) {
		k := m.keepers[id]
		r, carry := decayed(k.Reputation, k.DecayCarry, days, ppm, m.params.ReputationMin)
		if carry != k.DecayCarry {
			k.DecayCarry = carry
			a.keepers[id] = true
		}
		if r != k.Reputation {
			a.setReputation(k, r, CauseDecay)
		}
	}
}

// closeDue ends every open round whose deadline is at or before the block
// time: a VOTING round is decided TIMEOUT, then every due round is CLOSED.
func (a *applier) closeDue() {
	due := a.m.openByDeadline(func(o *openRound) bool { return o.deadline <= a.now })
	for _, o := range due {
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
		Eligible:        cloneAll(r.Eligible),
		Threshold:       r.Threshold,
		RejectThreshold: r.RejectThreshold,
		Votes:           cloneAll(r.Votes),
		DecidedAt:       tsMilli(a.now),
		SeedBlock:       cloneHeader(r.SeedBlock),
		ParamsHash:      bytes.Clone(a.m.paramsHash),
	}
	if r.Result != nil {
		cert.ResultHash = bytes.Clone(r.ResultHash)
		cert.Result = proto.Clone(r.Result).(*lightkeeperv1.ComputeResult)
		cert.Result.Output = nil
	}
	a.certs = append(a.certs, cert)
	a.emit(RoundDecided{Round: proto.Clone(r).(*lightkeeperv1.Round), Certificate: proto.Clone(cert).(*lightkeeperv1.Certificate)})
	for _, v := range r.Votes {
		a.settle(r, v)
	}
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
	var agree bool
	switch r.Outcome {
	case lightkeeperv1.Outcome_OUTCOME_APPROVED:
		agree = v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
	case lightkeeperv1.Outcome_OUTCOME_REJECTED:
		agree = v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_REJECT
	default: // TIMEOUT: nothing was decided, so nothing is right or wrong
		return
	}
	if r.Kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
		// The right kind is not enough: the result must be the agreed one.
		agree = agree && bytes.Equal(v.ResultHash, r.ResultHash)
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
	a.emit(RoundClosed{Round: proto.Clone(r).(*lightkeeperv1.Round), Missed: slices.Clone(missed)})
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

func (a *applier) apply(tx *lightkeeperv1.Transaction) TxResult {
	switch k := tx.Kind.(type) {
	case *lightkeeperv1.Transaction_SubmitRound:
		return a.submitRound(k.SubmitRound)
	case *lightkeeperv1.Transaction_RegisterVerifyingKey:
		return a.registerVerifyingKey(k.RegisterVerifyingKey)
	case *lightkeeperv1.Transaction_RegisterKeeper:
		return a.registerKeeper(k.RegisterKeeper)
	case *lightkeeperv1.Transaction_SetKeeperOnline:
		return a.setKeeperOnline(k.SetKeeperOnline)
	case *lightkeeperv1.Transaction_CastVote:
		return a.castVote(k.CastVote)
	case *lightkeeperv1.Transaction_Signed:
		return a.applySigned(k.Signed)
	case *lightkeeperv1.Transaction_RegisterProgram:
		return a.registerProgram(k.RegisterProgram)
	}
	return TxResult{Err: fmt.Errorf("%w: transaction: no kind set", ErrInvalidRequest)}
}

func (a *applier) registerKeeper(tx *lightkeeperv1.RegisterKeeperTx) TxResult {
	kid, ok := parseID(tx.GetKeeperId())
	if !ok {
		return TxResult{Err: checkID("register_keeper.keeper_id", tx.GetKeeperId())}
	}
	if !verifier.VerifyRegistration(a.m.chainID, ed25519.PublicKey(kid[:]), tx.GetSignature()) {
		return TxResult{Err: fmt.Errorf("%w: register_keeper.signature: not a valid proof of possession of key %s on chain %q", ErrBadSignature, tx.KeeperId, a.m.chainID)}
	}
	k, exists := a.m.keepers[tx.KeeperId]
	if !exists {
		// A new key has no stake, so the stake gate keeps it off
		// committees until stake is bonded and it is elected.
		k = newKeeper(tx.KeeperId, 0, a.m.params)
		a.m.keepers[k.Id] = k
		// Its stake limit comes from its initial capacity; without this a
		// restored machine (which recomputes every limit) would differ.
		a.m.stakesDirty = true
	}
	if !k.Registered {
		k.Registered = true
		a.onlineChanged(k) // downtime is counted from the registration
		a.keepers[k.Id] = true
		a.emit(KeeperRegistered{KeeperID: k.Id})
	}
	return TxResult{Keeper: proto.Clone(k).(*lightkeeperv1.Keeper)}
}

func (a *applier) setKeeperOnline(tx *lightkeeperv1.SetKeeperOnlineTx) TxResult {
	if err := checkID("set_keeper_online.keeper_id", tx.GetKeeperId()); err != nil {
		return TxResult{Err: err}
	}
	k, ok := a.m.keepers[tx.KeeperId]
	if !ok {
		return TxResult{Err: fmt.Errorf("%w: set_keeper_online.keeper_id: %s", ErrUnknownKeeper, tx.KeeperId)}
	}
	if k.Online != tx.Online {
		k.Online = tx.Online
		a.onlineChanged(k)
		a.keepers[k.Id] = true
		a.emit(KeeperOnlineChanged{KeeperID: k.Id, Online: k.Online})
	}
	return TxResult{Keeper: proto.Clone(k).(*lightkeeperv1.Keeper)}
}

func (a *applier) registerVerifyingKey(tx *lightkeeperv1.RegisterVerifyingKeyTx) TxResult {
	if !verifier.Scheme(tx.GetScheme()).Valid() {
		return TxResult{Err: fmt.Errorf("%w: register_verifying_key.scheme: %v is not a supported scheme", ErrInvalidRequest, tx.GetScheme())}
	}
	if !verifier.Curve(tx.GetCurve()).Valid() {
		return TxResult{Err: fmt.Errorf("%w: register_verifying_key.curve: %v is not a supported curve", ErrInvalidRequest, tx.GetCurve())}
	}
	lim := verifier.DefaultLimits()
	if n := len(tx.GetKey()); n == 0 || n > lim.MaxVerifyingKeyBytes {
		return TxResult{Err: fmt.Errorf("%w: register_verifying_key.key: %d bytes, want 1..%d", ErrInvalidRequest, n, lim.MaxVerifyingKeyBytes)}
	}
	id := VerifyingKeyID(tx.Key)
	if vk, ok := a.m.vks[id]; ok {
		// The same key under another scheme, curve or input count is a
		// contradiction, not a re-registration: answering with the stored
		// record would let the caller believe its claim was accepted.
		if err := sameVerifyingKeyClaim(vk, tx); err != nil {
			return TxResult{Err: err}
		}
		return TxResult{VerifyingKey: proto.Clone(vk).(*lightkeeperv1.VerifyingKey)}
	}
	// The input count comes from the key itself: a transaction that
	// skipped the service's admission carries nothing else to trust.
	n, err := checkVerifyingKey(tx.Scheme, tx.Curve, tx.Key)
	if err != nil {
		return TxResult{Err: fmt.Errorf("%w: register_verifying_key.key: %v", ErrInvalidRequest, err)}
	}
	vk := &lightkeeperv1.VerifyingKey{
		Id:               id,
		Scheme:           tx.Scheme,
		Curve:            tx.Curve,
		NumPublicInputs:  uint32(n),
		RegisteredHeight: a.height,
	}
	a.m.vks[id] = vk
	full := proto.Clone(vk).(*lightkeeperv1.VerifyingKey)
	full.Key = bytes.Clone(tx.Key)
	a.res.VerifyingKeys = append(a.res.VerifyingKeys, full)
	a.emit(VerifyingKeyRegistered{ID: id})
	return TxResult{VerifyingKey: proto.Clone(vk).(*lightkeeperv1.VerifyingKey)}
}

// sameVerifyingKeyClaim refuses a registration of an already registered
// key whose scheme or curve differ from the record's.
func sameVerifyingKeyClaim(vk *lightkeeperv1.VerifyingKey, tx *lightkeeperv1.RegisterVerifyingKeyTx) error {
	switch {
	case vk.Scheme != tx.Scheme:
		return fmt.Errorf("%w: register_verifying_key.scheme: %s, but key %s is registered as %s", ErrInvalidRequest,
			verifier.Scheme(tx.Scheme), vk.Id, verifier.Scheme(vk.Scheme))
	case vk.Curve != tx.Curve:
		return fmt.Errorf("%w: register_verifying_key.curve: %s, but key %s is registered on %s", ErrInvalidRequest,
			verifier.Curve(tx.Curve), vk.Id, verifier.Curve(vk.Curve))
	}
	return nil
}

// eligible returns the keepers that may sit on a committee, sorted by id:
// in the epoch's active set, registered, online, not jailed or tombstoned,
// reputation ≥ min_reputation, own bond ≥ min_self_bond and effective
// stake > 0 (the stake gate fails closed). The records returned carry the
// effective stake as Stake, which is what committee weights use.
func (m *Machine) eligible() []*lightkeeperv1.Keeper {
	var out []*lightkeeperv1.Keeper
	for _, id := range sortedKeys(m.keepers) {
		k := m.keepers[id]
		if k.Active && k.Registered && k.Online && m.electable(k) && k.Reputation >= m.params.MinReputation && k.EffectiveStake > 0 {
			out = append(out, &lightkeeperv1.Keeper{Id: k.Id, Stake: k.EffectiveStake, Reputation: k.Reputation})
		}
	}
	return out
}

// submitRound opens a round without payment: only while
// staking.fee_per_work_unit is 0, or for a random challenge (the
// coordinator's own, see challenge.go).
func (a *applier) submitRound(tx *lightkeeperv1.SubmitRoundTx) TxResult {
	if ch := tx.GetChallenge(); ch != nil {
		if err := checkChallenge(tx.GetRequest(), ch); err != nil {
			return TxResult{Err: err}
		}
		return a.openRound(tx.GetRequest(), nil, ch)
	}
	if fee := a.m.params.Staking.FeePerWorkUnit; fee > 0 {
		return TxResult{Err: fmt.Errorf("%w: staking.fee_per_work_unit is %d: submit the round as a signed submit_round transaction", ErrPaymentRequired, fee)}
	}
	return a.openRound(tx.GetRequest(), nil, nil)
}

// openRound validates a request, draws its committee and opens the round.
// pay, when not nil, is called with the round's work units once nothing
// else can fail; its error refuses the round. challenge, when not nil,
// makes it a random challenge: its committee may come from the candidates
// instead of the active set, and its votes are judged by the answer.
func (a *applier) openRound(req *lightkeeperv1.RoundRequest, pay func(units uint64) error, challenge *lightkeeperv1.ChallengeAnswer) TxResult {
	m := a.m
	if req == nil {
		return TxResult{Err: fmt.Errorf("%w: submit_round.request: missing", ErrInvalidRequest)}
	}
	id := RoundID(m.chainID, req)
	rid, _ := parseID(id) // the transaction was marshalled already, so id is valid
	if _, known := m.roundIDs[rid]; known {
		res := TxResult{RoundID: id, Err: fmt.Errorf("%w: %s", ErrRoundExists, id)}
		if o, open := m.rounds[id]; open {
			res.Round = proto.Clone(o.r).(*lightkeeperv1.Round)
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
	keepers := m.eligible()
	if challenge.GetCandidates() {
		keepers = m.candidates()
	}
	weights := Weights(keepers, p)
	rule, err := CommitteeRule(p, kind, weights, challenge.GetCandidates())
	if err != nil {
		return TxResult{RoundID: id, Err: err}
	}
	size, threshold := rule.Size, rule.Threshold
	committee, err := DrawCommittee(a.roundSeed, id, weights, size)
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
		Eligible:        weights,
		Threshold:       threshold,
		RejectThreshold: rejectThreshold,
		Phase:           lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING,
	}
	if challenge != nil {
		r.Challenge = proto.Clone(challenge).(*lightkeeperv1.ChallengeAnswer)
	}
	o := newOpenRound(r)
	m.rounds[id] = o
	m.roundIDs[rid] = a.height
	a.rounds[id] = r
	for _, kid := range committee {
		m.keepers[kid].RoundsAssigned++
		a.keepers[kid] = true
	}
	a.emit(RoundOpened{Round: proto.Clone(r).(*lightkeeperv1.Round)})
	return TxResult{RoundID: id, Round: proto.Clone(r).(*lightkeeperv1.Round)}
}

// checkProofRequest validates a PROOF request against the state.
func (m *Machine) checkProofRequest(pr *lightkeeperv1.ProofRequest) error {
	scheme, curve := verifier.Scheme(pr.Scheme), verifier.Curve(pr.Curve)
	if !scheme.Valid() {
		return fmt.Errorf("%w: proof.scheme: %v is not a supported scheme", ErrInvalidRequest, pr.Scheme)
	}
	if !curve.Valid() {
		return fmt.Errorf("%w: proof.curve: %v is not a supported curve", ErrInvalidRequest, pr.Curve)
	}
	if err := checkID("proof.verifying_key_id", pr.VerifyingKeyId); err != nil {
		return err
	}
	vk, ok := m.vks[pr.VerifyingKeyId]
	if !ok {
		return fmt.Errorf("%w: proof.verifying_key_id: %s", ErrUnknownVerifyingKey, pr.VerifyingKeyId)
	}
	if vk.Scheme != pr.Scheme || vk.Curve != pr.Curve {
		return fmt.Errorf("%w: proof: scheme %s and curve %s, but verifying key %s is %s on %s", ErrInvalidRequest,
			scheme, curve, vk.Id, verifier.Scheme(vk.Scheme), verifier.Curve(vk.Curve))
	}
	lim := verifier.DefaultLimits()
	n, err := verifier.CheckPublicInputs(curve, pr.PublicInputs, lim)
	if err != nil {
		return fmt.Errorf("%w: proof.public_inputs: %v", ErrInvalidRequest, err)
	}
	if n != int(vk.NumPublicInputs) {
		return fmt.Errorf("%w: proof.public_inputs: %d values, but verifying key %s expects %d", ErrInvalidRequest, n, vk.Id, vk.NumPublicInputs)
	}
	if len(pr.Proof) == 0 || len(pr.Proof) > lim.MaxProofBytes {
		return fmt.Errorf("%w: proof.proof: %d bytes, want 1..%d", ErrInvalidRequest, len(pr.Proof), lim.MaxProofBytes)
	}
	return nil
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
	if !verifier.VerifyVote(m.chainID, c.rid, ed25519.PublicKey(c.kid[:]), kind, [32]byte(v.ResultHash), v.Signature) {
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
	case verifier.VoteApprove:
		r.Approvals++
	case verifier.VoteReject:
		r.Rejections++
	case verifier.VoteAbstain:
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
		if kind != verifier.VoteAbstain && computeAgreement(r, vote) >= r.Threshold {
			setComputeResult(r, vote)
			outcome := lightkeeperv1.Outcome_OUTCOME_APPROVED
			if kind == verifier.VoteReject {
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
