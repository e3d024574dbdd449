package state

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
)

// The state machine never verifies proofs (keepers do), so these tests
// use a fake pool key and fake proof bytes; the notes, leaves, roots and
// nullifiers are real.
var fakePoolVK = []byte("fake shielded pool verifying key")

// poolHarness: n keepers with stake and balance, the pool enabled.
func poolHarness(t *testing.T, n int, balance uint64) *harness {
	t.Helper()
	g := testGenesisWithBalances(n, 100, balance)
	g.WithdrawalVerifyingKey = fakePoolVK
	params := protocol.DefaultParams()
	params.Threshold, params.TotalValidators = 2, 3
	m, res, err := New(withParams(g, params))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.VerifyingKeys) != 1 || res.VerifyingKeys[0].Id != vkID(fakePoolVK) || m.PoolVerifyingKeyID() != vkID(fakePoolVK) {
		t.Fatalf("genesis pool key: %v", res.VerifyingKeys)
	}
	h := &harness{t: t, m: m, n: n, index: map[string]int{}}
	for i := 0; i < n; i++ {
		h.index[keeperID(i)] = i
	}
	var txs []*lightkeeperv1.Transaction
	for i := 0; i < n; i++ {
		txs = append(txs, registerTx(testChain, i), onlineTx(i, true))
	}
	h.ok(h.apply(0, txs...))
	return h
}

// testNote is a deterministic note.
func testNote(seed uint64, amount uint64) shielded.Note {
	n, err := shielded.NewNote(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 0x77}), amount)
	if err != nil {
		panic(err)
	}
	return n
}

func depositMsg(n shielded.Note) func(b *lightkeeperv1.TxBody) {
	pre := n.Precommitment().Bytes()
	return func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_Deposit{Deposit: &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: n.Amount}}
	}
}

func withdrawalRequest(root shielded.Scalar, nf shielded.Scalar, amount uint64, recipient string, nonce string) *lightkeeperv1.RoundRequest {
	rb, nb := root.Bytes(), nf.Bytes()
	return &lightkeeperv1.RoundRequest{
		Payload: &lightkeeperv1.RoundRequest_Withdrawal{Withdrawal: &lightkeeperv1.WithdrawalRequest{
			Root: rb[:], Nullifier: nb[:], Amount: amount, Recipient: recipient, Proof: fakeProof,
		}},
		ClientNonce: nonce,
	}
}

func poolRoot(m *Machine) shielded.Scalar {
	rs := m.PoolRoots()
	s, err := shielded.ParseScalar(rs[len(rs)-1])
	if err != nil {
		panic(err)
	}
	return s
}

func checkSupply(t *testing.T, m *Machine) {
	t.Helper()
	st := m.Staking()
	if got, want := m.TotalSupply(), st.GenesisSupply+st.TotalMinted; got != want {
		t.Fatalf("supply %d, want %d", got, want)
	}
}

func TestDeposit(t *testing.T) {
	h := poolHarness(t, 3, 1_000)
	note := testNote(1, 300)
	r := signedOK(t, h.m, 0, 0, depositMsg(note))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if a, _ := h.m.Account(keeperID(0)); a.Balance != 700 {
		t.Fatalf("balance %d, want 700", a.Balance)
	}
	if h.m.PoolBalance() != 300 || h.m.PoolSize() != 1 {
		t.Fatalf("pool balance %d size %d", h.m.PoolBalance(), h.m.PoolSize())
	}
	// The leaf is the commitment to the amount paid.
	wt, _ := shielded.NewWalletTree(shielded.DefaultDepth)
	_, root, _ := wt.Append(note.Commitment())
	if poolRoot(h.m) != root {
		t.Fatal("pool root differs from the wallet tree's")
	}
	checkSupply(t, h.m)

	pre := note.Precommitment().Bytes()
	for _, tc := range []struct {
		name string
		msg  *lightkeeperv1.DepositMsg
		want error
	}{
		{"zero amount", &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: 0}, ErrInvalidRequest},
		{"short precommitment", &lightkeeperv1.DepositMsg{Precommitment: pre[:31], Amount: 1}, ErrInvalidRequest},
		{"non-canonical", &lightkeeperv1.DepositMsg{Precommitment: bytesOf(0xff, 32), Amount: 1}, ErrInvalidRequest},
		{"over balance", &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: 701}, ErrInsufficientFunds},
	} {
		r := signedOK(t, h.m, 0, 0, func(b *lightkeeperv1.TxBody) { b.Msg = &lightkeeperv1.TxBody_Deposit{Deposit: tc.msg} })
		if !errors.Is(r.Err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, r.Err, tc.want)
		}
	}
	if h.m.PoolBalance() != 300 || h.m.PoolSize() != 1 {
		t.Fatal("a refused deposit changed the pool")
	}

	// Disabled pool.
	m, _, err := New(testGenesisWithBalances(3, 100, 1_000))
	if err != nil {
		t.Fatal(err)
	}
	if r := signedOK(t, m, 0, 0, depositMsg(note)); !errors.Is(r.Err, ErrPoolDisabled) {
		t.Fatalf("disabled pool: %v", r.Err)
	}
}

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestWithdrawalSubmitRefusals(t *testing.T) {
	h := poolHarness(t, 3, 1_000)
	note := testNote(2, 500)
	if r := signedOK(t, h.m, 0, 0, depositMsg(note)); r.Err != nil {
		t.Fatal(r.Err)
	}
	root, nf := poolRoot(h.m), note.Nullifier(0)
	to := keeperID(5)
	for _, tc := range []struct {
		name string
		req  *lightkeeperv1.RoundRequest
		want error
	}{
		{"unknown root", withdrawalRequest(shielded.ScalarFromUint64(7), nf, 500, to, "a"), ErrUnknownRoot},
		{"empty tree root", withdrawalRequest(shielded.ZeroHash(shielded.DefaultDepth), nf, 500, to, "a"), ErrUnknownRoot},
		{"zero amount", withdrawalRequest(root, nf, 0, to, "b"), ErrInvalidRequest},
		{"over pool balance", withdrawalRequest(root, nf, 501, to, "c"), ErrInsufficientFunds},
		{"bad recipient", withdrawalRequest(root, nf, 500, "XYZ", "d"), ErrInvalidRequest},
	} {
		r := h.apply(0, submitTx(tc.req)).TxResults[0]
		if !errors.Is(r.Err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, r.Err, tc.want)
		}
	}
	req := withdrawalRequest(root, nf, 500, to, "ok")
	req.GetWithdrawal().Proof = nil
	if r := h.apply(0, submitTx(req)).TxResults[0]; !errors.Is(r.Err, ErrInvalidRequest) {
		t.Errorf("no proof: %v", r.Err)
	}
	r := h.ok(h.apply(0, submitTx(withdrawalRequest(root, nf, 500, to, "ok")))).TxResults[0]
	if r.Round.Kind != lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL || len(r.Round.Committee) != 3 || r.Round.Threshold != 2 {
		t.Fatalf("round: %v", r.Round)
	}
	inputs, err := shielded.WithdrawalPublicInputs(r.Round.Request.GetWithdrawal())
	pub, _ := inputs.MarshalBinary()
	if err != nil || len(pub) != 140 {
		t.Fatalf("public inputs: %d bytes, %v", len(pub), err)
	}
	// Approve: the recipient is paid and the nullifier is spent, in the
	// block of the decision.
	res := h.ok(h.apply(0, votes(r.Round, h, approve, 0, 1)...))
	if len(res.SpentNullifiers) != 1 || len(eventsOf[WithdrawalPaid](res)) != 1 {
		t.Fatalf("spent %v", res.SpentNullifiers)
	}
	if a, _ := h.m.Account(to); a.GetBalance() != 500 {
		t.Fatalf("recipient balance %d", a.GetBalance())
	}
	nb := nf.Bytes()
	if !h.m.NullifierSpent(nb[:]) || h.m.PoolBalance() != 0 {
		t.Fatal("nullifier not spent or pool not debited")
	}
	checkSupply(t, h.m)
	if err := protocol.VerifyCertificate(served(res.Block.Certificates[0]), h.m.Params()); err != nil {
		t.Fatal(err)
	}
	// The nullifier is now refused at submission.
	if r := h.apply(0, submitTx(withdrawalRequest(root, nf, 1, to, "again"))).TxResults[0]; !errors.Is(r.Err, ErrNullifierSpent) {
		t.Fatalf("spent nullifier: %v", r.Err)
	}
}

// TestWithdrawalDoubleSpendOneBlock: two rounds with the same nullifier
// reach their threshold in the same block; exactly one is approved and
// paid, the other is voided (REJECTED, votes not judged).
func TestWithdrawalDoubleSpendOneBlock(t *testing.T) {
	h := poolHarness(t, 3, 1_000)
	note := testNote(3, 400)
	if r := signedOK(t, h.m, 0, 0, depositMsg(note)); r.Err != nil {
		t.Fatal(r.Err)
	}
	// A second deposit so the pool could pay both.
	if r := signedOK(t, h.m, 0, 1, depositMsg(testNote(4, 400))); r.Err != nil {
		t.Fatal(r.Err)
	}
	root, nf := poolRoot(h.m), note.Nullifier(0)
	res := h.ok(h.apply(0,
		submitTx(withdrawalRequest(root, nf, 400, keeperID(7), "x")),
		submitTx(withdrawalRequest(root, nf, 400, keeperID(8), "y"))))
	r1, r2 := res.TxResults[0].Round, res.TxResults[1].Round
	before := [3]*lightkeeperv1.Keeper{h.keeper(0), h.keeper(1), h.keeper(2)}
	res = h.ok(h.apply(time.Second, append(votes(r1, h, approve, 0, 1), votes(r2, h, approve, 0, 1)...)...))
	if len(res.SpentNullifiers) != 1 {
		t.Fatalf("%d nullifiers spent, want 1", len(res.SpentNullifiers))
	}
	var approved, voided int
	for _, c := range res.Block.Certificates {
		// A voided withdrawal's certificate needs its block: offline it
		// could be a proof round's approval relabelled.
		if err := protocol.VerifyCertificate(served(c), h.m.Params()); (c.Outcome == lightkeeperv1.Outcome_OUTCOME_REJECTED) != errors.Is(err, protocol.ErrNeedsBlock) {
			t.Fatalf("%v: offline check %v", c.Outcome, err)
		}
		if err := protocol.VerifyCertificateInBlock(served(c), h.m.Params(), res.Block); err != nil {
			t.Fatal(err)
		}
		switch c.Outcome {
		case lightkeeperv1.Outcome_OUTCOME_APPROVED:
			approved++
		case lightkeeperv1.Outcome_OUTCOME_REJECTED:
			voided++
		}
	}
	if approved != 1 || voided != 1 || len(eventsOf[WithdrawalVoided](res)) != 1 {
		t.Fatalf("approved %d voided %d", approved, voided)
	}
	a7, _ := h.m.Account(keeperID(7))
	a8, _ := h.m.Account(keeperID(8))
	if a7.GetBalance()+a8.GetBalance() != 400 || h.m.PoolBalance() != 400 {
		t.Fatalf("paid %d + %d, pool %d", a7.GetBalance(), a8.GetBalance(), h.m.PoolBalance())
	}
	checkSupply(t, h.m)
	// Nobody was judged wrong for the voided round, late votes included.
	late := h.ok(h.apply(time.Second, votes(r2, h, approve, 2)...))
	_ = late
	for i := range 3 {
		if k := h.keeper(i); k.VotesIncorrect != before[i].VotesIncorrect {
			t.Fatalf("keeper %d judged incorrect", i)
		}
	}
}

// TestWithdrawalRootExpires: a root that leaves the history between
// submission and decision voids the round.
func TestWithdrawalRootExpires(t *testing.T) {
	h := poolHarness(t, 3, 1_000_000)
	note := testNote(5, 10)
	if r := signedOK(t, h.m, 0, 0, depositMsg(note)); r.Err != nil {
		t.Fatal(r.Err)
	}
	root := poolRoot(h.m)
	r := h.ok(h.apply(0, submitTx(withdrawalRequest(root, note.Nullifier(0), 10, keeperID(1), "z")))).TxResults[0].Round
	for i := range shielded.DefaultRootHistory {
		if r := signedOK(t, h.m, 0, 1, depositMsg(testNote(uint64(100+i), 1))); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	res := h.ok(h.apply(0, votes(r, h, approve, 0, 1)...))
	if len(res.SpentNullifiers) != 0 || len(eventsOf[WithdrawalVoided](res)) != 1 {
		t.Fatalf("expired root: spent %v", res.SpentNullifiers)
	}
	checkSupply(t, h.m)
}

func TestPoolSnapshotRestore(t *testing.T) {
	h := poolHarness(t, 3, 1_000)
	note := testNote(6, 100)
	signedOK(t, h.m, 0, 0, depositMsg(note))
	r := h.ok(h.apply(0, submitTx(withdrawalRequest(poolRoot(h.m), note.Nullifier(0), 60, keeperID(4), "s")))).TxResults[0].Round
	h.ok(h.apply(0, votes(r, h, approve, 0, 1)...))
	signedOK(t, h.m, 0, 1, depositMsg(testNote(7, 50)))
	before := h.m.Snapshot()
	h.mutate(func(*Snapshot) {})
	after := h.m.Snapshot()
	mustEqualProto(t, "meta", after.Meta, before.Meta)
	if fmt.Sprint(after.SpentNullifiers) != fmt.Sprint(before.SpentNullifiers) || len(after.SpentNullifiers) != 1 {
		t.Fatal("spent nullifiers differ after restore")
	}
	nb := note.Nullifier(0).Bytes()
	if !h.m.NullifierSpent(nb[:]) || h.m.PoolBalance() != 90 || h.m.PoolSize() != 2 {
		t.Fatal("pool not restored")
	}
	if _, err := Restore(Snapshot{Meta: before.Meta, SpentNullifiers: [][]byte{bytesOf(0xff, 32)}, Staking: before.Staking}); err == nil {
		t.Fatal("restored a non-canonical nullifier")
	}
}
