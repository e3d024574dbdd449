package state

// The kernel's block step: ApplyBlock orders a block's work (decay,
// deadlines, the economy's timers, the transactions in order, stakes) and
// hashes the result; apply dispatches each transaction to the concern
// that owns it.

import (
	"bytes"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"google.golang.org/protobuf/proto"
)

// BlockInput is one block's input: its time (chosen by the service, the
// only clock the machine knows) and its ordered transactions.
type BlockInput struct {
	TimeUnixMilli int64
	Txs           []*lightkeeperv1.Transaction
	// Entropy is empty or protocol.EntropyLen bytes the producer drew at random
	// after choosing the block's transactions (the service uses
	// crypto/rand). It goes into the header and into the committee seed of
	// the rounds the block opens (protocol.CommitteeSeed), so that a submitter
	// cannot predict its committee. A replay passes the header's value.
	Entropy []byte
	// Verified holds signatures the node checked before the block
	// (VerifyTxSignatures); the machine checks every other one itself, so
	// the results are the same with or without it (sigcheck.go).
	Verified VerifiedSigs
}

// applier holds the work in progress of one ApplyBlock.
type applier struct {
	m      *Machine
	height uint64
	now    int64  // block time, unix ms
	seed   []byte // hash of the previous block (elections)
	res    *Result

	verified VerifiedSigs // signatures checked before the block

	// The header as it stands before the transactions run (results_hash
	// empty) and protocol.CommitteeSeed of it: the committee seed of every round
	// opened in this block.
	seedBlock *lightkeeperv1.BlockHeader
	roundSeed []byte

	rounds  map[string]*lightkeeperv1.Round // created or changed (live pointers)
	keepers map[string]bool                 // changed
	certs   []*lightkeeperv1.Certificate
	reveals []*lightkeeperv1.ChallengeReveal // challenges closed or revealed in this block

	// Sealed challenges (reveal.go): pending reveals put (round ids) and
	// expired, quotas changed (challenger keys).
	pendingPut map[string]bool
	pendingDel []string
	quotaPut   map[string]bool

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
		pendingPut:        make(map[string]bool),
		quotaPut:          make(map[string]bool),
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
// deadline is at or before the block time, by deadline then id, then the
// keepers whose chain session ended (offline, by expiry then id), (3) the
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
	if n := len(in.Entropy); n != 0 && n != protocol.EntropyLen {
		return nil, fmt.Errorf("%w: block entropy is %d bytes, want 0 or %d", ErrInvalidRequest, n, protocol.EntropyLen)
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
	txHash, err := protocol.TransactionsHash(txs)
	if err != nil {
		return nil, err
	}
	a := newApplier(m, m.head.Height+1, in.TimeUnixMilli, m.headHash)
	a.verified = in.Verified
	a.seedBlock = &lightkeeperv1.BlockHeader{
		Height:           a.height,
		Time:             tsMilli(a.now),
		PreviousHash:     bytes.Clone(m.headHash),
		TransactionsHash: txHash,
		Entropy:          bytes.Clone(in.Entropy),
	}
	a.roundSeed = protocol.CommitteeSeed(a.seedBlock)
	a.res.TxResults = make([]TxResult, len(in.Txs))
	a.decay()
	a.closeDue()
	a.expireReveals()
	a.expireSessions()
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
		ResultsHash:      protocol.ResultsHash(a.certs, a.res.Evidence, a.reveals...),
		Entropy:          bytes.Clone(in.Entropy),
	}
	hash := protocol.BlockHash(header)
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
		res.Rounds = append(res.Rounds, cloneRound(a.rounds[id]))
	}
	for _, id := range sortedKeys(a.keepers) {
		res.Keepers = append(res.Keepers, proto.Clone(m.keepers[id]).(*lightkeeperv1.Keeper))
	}
	a.collectEconomy()
	a.collectSealed()
	res.Changes = res.changeSet(nil)
	return res, nil
}

func (a *applier) emit(e Event) { a.res.Events = append(a.res.Events, e) }

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
	case *lightkeeperv1.Transaction_KeeperSession:
		return a.keeperSession(k.KeeperSession)
	case *lightkeeperv1.Transaction_RevealChallenge:
		return a.revealSealed(k.RevealChallenge)
	}
	return TxResult{Err: fmt.Errorf("%w: transaction: no kind set", ErrInvalidRequest)}
}

func (a *applier) registerVerifyingKey(tx *lightkeeperv1.RegisterVerifyingKeyTx) TxResult {
	if !verifier.Scheme(tx.GetScheme()).Valid() {
		return TxResult{Err: fmt.Errorf("%w: register_verifying_key.scheme: %v is not a supported scheme", ErrInvalidRequest, tx.GetScheme())}
	}
	if !verifier.Curve(tx.GetCurve()).Valid() {
		return TxResult{Err: fmt.Errorf("%w: register_verifying_key.curve: %v is not a supported curve", ErrInvalidRequest, tx.GetCurve())}
	}
	lim := protocol.SizeLimitsOf(a.m.params)
	if n := len(tx.GetKey()); n == 0 || n > lim.MaxVerifyingKeyBytes {
		return TxResult{Err: fmt.Errorf("%w: register_verifying_key.key: %d bytes, want 1..%d", ErrInvalidRequest, n, lim.MaxVerifyingKeyBytes)}
	}
	id := protocol.VerifyingKeyID(tx.Key)
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
	n, err := checkVerifyingKey(tx.Scheme, tx.Curve, tx.Key, lim)
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

// checkProofRequest validates a PROOF request against the state.
func (m *Machine) checkProofRequest(pr *lightkeeperv1.ProofRequest) error {
	scheme, curve := verifier.Scheme(pr.Scheme), verifier.Curve(pr.Curve)
	if !scheme.Valid() {
		return fmt.Errorf("%w: proof.scheme: %v is not a supported scheme", ErrInvalidRequest, pr.Scheme)
	}
	if !curve.Valid() {
		return fmt.Errorf("%w: proof.curve: %v is not a supported curve", ErrInvalidRequest, pr.Curve)
	}
	if err := protocol.CheckID("proof.verifying_key_id", pr.VerifyingKeyId); err != nil {
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
	lim := protocol.SizeLimitsOf(m.params)
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
