package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"google.golang.org/protobuf/proto"
)

// The shielded pool (docs/design.md §3, docs/withdrawals.md): deposits append
// shielded.Commitment(precommitment, amount) to the pool's tree and move
// the amount from the signer's balance to the pool balance; an APPROVED
// WITHDRAWAL round spends its nullifier and pays its recipient from the
// pool balance in the block (and so the atomic batch) that decides it.

// WithdrawalNumPublicInputs is the number of public inputs of the pool's
// circuit (root, nullifier, amount, recipient).
const WithdrawalNumPublicInputs = 4

// ErrNullifierSpent: a withdrawal's nullifier was already spent.
// ErrUnknownRoot: a withdrawal's root is not one of the pool's last
// root_history roots. ErrPoolDisabled: the genesis has no pool key.
var (
	ErrNullifierSpent = fmt.Errorf("%w: nullifier already spent", ErrInvalidRequest)
	ErrUnknownRoot    = fmt.Errorf("%w: unknown root", ErrInvalidRequest)
	ErrPoolDisabled   = fmt.Errorf("%w: shielded pool disabled", ErrInvalidRequest)
)

// pool is the machine's shielded-pool state.
type pool struct {
	vkID        string
	tree        *shielded.Tree
	balance     uint64
	deposits    uint64
	withdrawals uint64
	spent       map[[32]byte]bool
}

func newPool() pool {
	return pool{tree: shielded.NewDefaultTree(), spent: make(map[[32]byte]bool)}
}

func (p *pool) meta() *lightkeeperv1.ShieldedPool {
	tb, err := p.tree.MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("state: marshal pool tree: %v", err)) // unreachable
	}
	return &lightkeeperv1.ShieldedPool{
		VerifyingKeyId: p.vkID,
		Tree:           tb,
		Balance:        p.balance,
		Deposits:       p.deposits,
		Withdrawals:    p.withdrawals,
	}
}

// restorePool rebuilds the pool from the meta's record (nil: an empty,
// disabled pool) and the spent nullifiers.
func restorePool(pm *lightkeeperv1.ShieldedPool, spent [][]byte) (pool, error) {
	p := newPool()
	if pm == nil {
		if len(spent) > 0 {
			return p, fmt.Errorf("spent nullifiers without a pool")
		}
		return p, nil
	}
	if len(pm.Tree) > 0 {
		t, err := shielded.UnmarshalTree(pm.Tree)
		if err != nil {
			return p, fmt.Errorf("pool.tree: %v", err)
		}
		p.tree = t
	}
	if pm.VerifyingKeyId != "" && !protocol.ValidID(pm.VerifyingKeyId) {
		return p, fmt.Errorf("pool.verifying_key_id: %q", pm.VerifyingKeyId)
	}
	p.vkID, p.balance, p.deposits, p.withdrawals = pm.VerifyingKeyId, pm.Balance, pm.Deposits, pm.Withdrawals
	for i, n := range spent {
		s, err := shielded.ParseScalar(n)
		if err != nil {
			return p, fmt.Errorf("spent nullifier %d: %v", i, err)
		}
		p.spent[s.Bytes()] = true
	}
	return p, nil
}

// initPool registers the genesis pool key, if any.
func (m *Machine) initPool(g *lightkeeperv1.Genesis) (*lightkeeperv1.VerifyingKey, error) {
	m.pool = newPool()
	key := g.GetWithdrawalVerifyingKey()
	if len(key) == 0 {
		return nil, nil
	}
	if n, lim := len(key), protocol.SizeLimitsOf(m.params).MaxVerifyingKeyBytes; n > lim {
		return nil, fmt.Errorf("%w: withdrawal_verifying_key: %d bytes, limit %d", ErrInvalidGenesis, n, lim)
	}
	sum := sha256.Sum256(key)
	vk := &lightkeeperv1.VerifyingKey{
		Id:              hex.EncodeToString(sum[:]),
		Scheme:          lightkeeperv1.Scheme_SCHEME_GROTH16,
		Curve:           lightkeeperv1.Curve_CURVE_BN254,
		NumPublicInputs: WithdrawalNumPublicInputs,
	}
	m.vks[vk.Id] = vk
	m.pool.vkID = vk.Id
	full := proto.Clone(vk).(*lightkeeperv1.VerifyingKey)
	full.Key = bytes.Clone(key)
	return full, nil
}

// PoolVerifyingKeyID is the id of the pool's verifying key ("" when the
// pool is disabled).
func (m *Machine) PoolVerifyingKeyID() string { return m.pool.vkID }

// PoolBalance is the tokens held by the shielded pool.
func (m *Machine) PoolBalance() uint64 { return m.pool.balance }

// PoolRoots is the pool's root history, oldest first (a WITHDRAWAL task's
// root list).
func (m *Machine) PoolRoots() [][]byte {
	rs := m.pool.tree.Roots()
	out := make([][]byte, len(rs))
	for i, r := range rs {
		b := r.Bytes()
		out[i] = b[:]
	}
	return out
}

// PoolSize is the number of deposits in the pool's tree.
func (m *Machine) PoolSize() uint64 { return m.pool.tree.Size() }

// NullifierSpent reports whether a nullifier (32 bytes) was spent.
func (m *Machine) NullifierSpent(n []byte) bool {
	s, err := shielded.ParseScalar(n)
	return err == nil && m.pool.spent[s.Bytes()]
}

// deposit applies a DepositMsg (the fee is already taken from acct).
func (a *applier) deposit(signer string, acct *lightkeeperv1.Account, msg *lightkeeperv1.DepositMsg) TxResult {
	p := &a.m.pool
	if p.vkID == "" {
		return TxResult{Err: fmt.Errorf("%w: deposit", ErrPoolDisabled)}
	}
	pre, err := shielded.ParseScalar(msg.GetPrecommitment())
	if err != nil {
		return invalid("deposit.precommitment: %v", err)
	}
	if msg.Amount == 0 {
		return invalid("deposit.amount: must be positive")
	}
	if acct.Balance < msg.Amount {
		return failWith(ErrInsufficientFunds, "deposit %d, balance %d after the fee", msg.Amount, acct.Balance)
	}
	leaf := shielded.Commitment(pre, msg.Amount)
	index, root, err := p.tree.Append(leaf)
	if err != nil {
		return failWith(ErrLimitReached, "deposit: %v", err)
	}
	acct.Balance -= msg.Amount
	p.balance += msg.Amount
	p.deposits++
	a.emit(DepositAdded{AccountID: signer, Index: index, Leaf: leaf.Bytes(), Root: root.Bytes(), Amount: msg.Amount})
	lb := leaf.Bytes()
	pl := &lightkeeperv1.PoolLeaf{Index: index, Leaf: lb[:], Amount: msg.Amount, Height: a.height}
	a.res.PoolLeaves = append(a.res.PoolLeaves, pl)
	return TxResult{PoolLeaf: proto.Clone(pl).(*lightkeeperv1.PoolLeaf)}
}

// withdrawalPublicInputs is shielded.WithdrawalPublicInputs with its
// error as the machine reports it.
func withdrawalPublicInputs(w *lightkeeperv1.WithdrawalRequest) (shielded.PublicInputs, error) {
	pub, err := shielded.WithdrawalPublicInputs(w)
	if err != nil {
		return pub, fmt.Errorf("%w: withdrawal.%v", ErrInvalidRequest, err)
	}
	return pub, nil
}

// checkWithdrawal validates a WITHDRAWAL request against the state: shape,
// proof size, nullifier unspent, root known, amount covered by the pool.
func (m *Machine) checkWithdrawal(w *lightkeeperv1.WithdrawalRequest) error {
	if m.pool.vkID == "" {
		return fmt.Errorf("%w: withdrawal", ErrPoolDisabled)
	}
	pub, err := withdrawalPublicInputs(w)
	if err != nil {
		return err
	}
	if n, lim := len(w.Proof), protocol.SizeLimitsOf(m.params).MaxProofBytes; n == 0 || n > lim {
		return fmt.Errorf("%w: withdrawal.proof: %d bytes, want 1..%d", ErrInvalidRequest, n, lim)
	}
	return m.checkSpendable(pub)
}

func (m *Machine) checkSpendable(pub shielded.PublicInputs) error {
	if m.pool.spent[pub.Nullifier.Bytes()] {
		nb := pub.Nullifier.Bytes()
		return fmt.Errorf("%w: %x…", ErrNullifierSpent, nb[:4])
	}
	if !m.pool.tree.KnownRoot(pub.Root) {
		rb := pub.Root.Bytes()
		return fmt.Errorf("%w: %x… is not one of the pool's last %d roots", ErrUnknownRoot, rb[:4], shielded.DefaultRootHistory)
	}
	if pub.Amount > m.pool.balance {
		return fmt.Errorf("%w: withdrawal.amount %d exceeds the pool balance %d", ErrInsufficientFunds, pub.Amount, m.pool.balance)
	}
	return nil
}

// spendWithdrawal is run when a WITHDRAWAL round reaches APPROVED: it
// re-checks the nullifier and the root and, if they still hold, spends the
// nullifier and pays the recipient. It returns the reason when the round
// cannot be paid (then the round is decided REJECTED without judging the
// votes: a valid proof for a note already spent is nobody's fault).
func (a *applier) spendWithdrawal(r *lightkeeperv1.Round) error {
	w := r.GetRequest().GetWithdrawal()
	pub, err := withdrawalPublicInputs(w)
	if err != nil {
		return err
	}
	if err := a.m.checkSpendable(pub); err != nil {
		return err
	}
	p := &a.m.pool
	p.spent[pub.Nullifier.Bytes()] = true
	p.balance -= w.Amount
	p.withdrawals++
	a.credit(w.Recipient, w.Amount)
	nb := pub.Nullifier.Bytes()
	sn := &lightkeeperv1.SpentNullifier{
		Nullifier: nb[:],
		RoundId:   r.Id,
		Height:    a.height,
		Index:     uint32(len(a.res.SpentNullifiers)),
		Recipient: w.Recipient,
		Amount:    w.Amount,
	}
	a.res.SpentNullifiers = append(a.res.SpentNullifiers, sn)
	a.emit(WithdrawalPaid{Spent: proto.Clone(sn).(*lightkeeperv1.SpentNullifier)})
	return nil
}

// Voided reports whether a round is a WITHDRAWAL that reached its approval
// threshold but could not be paid: decided REJECTED with approvals at or
// above the threshold, which the tally alone can never produce (rejecting
// takes size − threshold + 1 rejections, leaving fewer than threshold
// approvals). Its votes, late ones too, are not judged.
func Voided(r *lightkeeperv1.Round) bool {
	return r.GetKind() == lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL &&
		r.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_REJECTED && r.GetApprovals() >= r.GetThreshold()
}

// DepositAdded: a deposit appended Leaf at Index; Root is the new root.
type DepositAdded struct {
	AccountID string
	Index     uint64
	Leaf      [32]byte
	Root      [32]byte
	Amount    uint64
}

// WithdrawalPaid: an APPROVED withdrawal spent its nullifier and paid its
// recipient.
type WithdrawalPaid struct{ Spent *lightkeeperv1.SpentNullifier }

// WithdrawalVoided: a withdrawal round reached its approval threshold but
// could not be paid (nullifier spent meanwhile, root expired); it is
// decided REJECTED and its votes are not judged.
type WithdrawalVoided struct {
	RoundID string
	Reason  string
}

func (DepositAdded) isEvent()     {}
func (WithdrawalPaid) isEvent()   {}
func (WithdrawalVoided) isEvent() {}

func (e DepositAdded) String() string {
	return fmt.Sprintf("deposit by %s index=%d amount=%d leaf=%x root=%x", e.AccountID, e.Index, e.Amount, e.Leaf[:4], e.Root[:4])
}

func (e WithdrawalPaid) String() string {
	return fmt.Sprintf("withdrawal paid %s to %s amount=%d nullifier=%x", e.Spent.RoundId, e.Spent.Recipient, e.Spent.Amount, e.Spent.Nullifier[:4])
}

func (e WithdrawalVoided) String() string {
	return fmt.Sprintf("withdrawal voided %s: %s", e.RoundID, e.Reason)
}
