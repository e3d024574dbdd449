package service_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
)

// TestWatchWithdrawals: deposits through StakingService, withdrawal rounds
// approved by their committees, and the bridge stream: ledger order,
// certificates, and a resumed stream that neither misses nor repeats.
// The coordinator does not verify proofs (keepers do; here the test casts
// the votes), so the pool key and proofs are placeholders.
func TestWatchWithdrawals(t *testing.T) {
	cfg := testConfig()
	depositor := setup.NewKey()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := startDevnetWith(t, cfg, 10, func(g *lightkeeperv1.Genesis, _ []ed25519.PrivateKey) {
		g.WithdrawalVerifyingKey = []byte("placeholder pool key")
		g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: setup.KeyID(depositor), Amount: 10_000})
	})
	api := newStakingAPI(t, d)
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	chainID := d.Genesis.GetChainId()

	rng := rand.NewChaCha8([32]byte{9})
	wt, _ := shielded.NewWalletTree(shielded.DefaultDepth)
	var notes []shielded.Note
	for _, amount := range []uint64{100, 200, 300} {
		note, err := shielded.NewNote(rng, amount)
		if err != nil {
			t.Fatal(err)
		}
		pre := note.Precommitment().Bytes()
		res, err := api.submit(api.sign(depositor, 0, -1, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Deposit{Deposit: &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: amount}}
		}))
		if err != nil {
			t.Fatalf("deposit: %v", err)
		}
		idx, _, _ := wt.Append(note.Commitment())
		if l := res.GetPoolLeaf(); l.GetIndex() != idx || l.GetAmount() != amount {
			t.Fatalf("deposit leaf %v, want index %d", l, idx)
		}
		notes = append(notes, note)
	}
	root := wt.Root().Bytes()
	// A wallet rebuilds the tree from GetPool's leaves.
	pool, err := lc.GetPool(ctx, connect.NewRequest(&lightkeeperv1.GetPoolRequest{FromIndex: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if p := pool.Msg; p.GetSize() != 3 || p.GetBalance() != 600 || len(p.GetLeaves()) != 2 || p.GetLeaves()[0].GetIndex() != 1 ||
		len(p.GetRoots()) != 3 || !bytes.Equal(p.GetRoots()[2], root[:]) {
		t.Fatalf("GetPool: %v", p)
	}
	recipient := setup.KeyID(setup.NewKey())

	withdraw := func(i int, nonce string) *lightkeeperv1.Round {
		t.Helper()
		nf := notes[i].Nullifier(uint64(i)).Bytes()
		req := &lightkeeperv1.RoundRequest{Payload: &lightkeeperv1.RoundRequest_Withdrawal{Withdrawal: &lightkeeperv1.WithdrawalRequest{
			Root: root[:], Nullifier: nf[:], Amount: notes[i].Amount, Recipient: recipient, Proof: []byte("placeholder proof"),
		}}, ClientNonce: nonce}
		res, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: req}))
		if err != nil {
			t.Fatalf("withdrawal %d: %v", i, err)
		}
		return res.Msg.GetRound()
	}
	approveAll := func(r *lightkeeperv1.Round) {
		t.Helper()
		var votes []*lightkeeperv1.Vote
		for _, id := range r.GetCommittee() {
			votes = append(votes, signedVote(t, chainID, r.GetId(), keyByID(t, d, id), lightkeeperv1.VoteKind_VOTE_KIND_APPROVE))
		}
		submitVotes(t, kc, votes...)
	}
	type got struct{ round, cursor, next string }
	watch := func(from string, n int) []got {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		defer wcancel()
		st, err := lc.WatchWithdrawals(wctx, connect.NewRequest(&lightkeeperv1.WatchWithdrawalsRequest{FromCursor: from}))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var out []got
		for len(out) < n && st.Receive() {
			m := st.Msg()
			c := m.GetCertificate()
			if c.GetRoundId() != m.GetWithdrawal().GetRoundId() || c.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED ||
				c.GetKind() != lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL {
				t.Fatalf("withdrawal %v with certificate %v", m.GetWithdrawal(), c)
			}
			// Served with its eligible list, as GetCertificate serves it.
			if h, err := protocol.EligibleListHash(c.GetEligible()); err != nil || len(c.GetEligible()) == 0 || !bytes.Equal(h, c.GetEligibleHash()) {
				t.Fatalf("withdrawal certificate: %d eligible keepers hashing to %x (%v), eligible_hash %x", len(c.GetEligible()), h, err, c.GetEligibleHash())
			}
			out = append(out, got{m.GetWithdrawal().GetRoundId(), m.GetCursor(), m.GetNextCursor()})
		}
		if len(out) < n {
			t.Fatalf("stream from %q ended after %d of %d: %v", from, len(out), n, st.Err())
		}
		return out
	}

	r0 := withdraw(0, "a")
	approveAll(r0)
	first := watch("", 1)
	if first[0].round != r0.GetId() {
		t.Fatalf("first withdrawal %s, want %s", first[0].round, r0.GetId())
	}
	// A double spend of note 0 is refused at submission.
	nf0 := notes[0].Nullifier(0).Bytes()
	if _, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: &lightkeeperv1.RoundRequest{
		Payload: &lightkeeperv1.RoundRequest_Withdrawal{Withdrawal: &lightkeeperv1.WithdrawalRequest{
			Root: root[:], Nullifier: nf0[:], Amount: 100, Recipient: recipient, Proof: []byte("p")}}, ClientNonce: "again"}})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("double spend: %v", err)
	}

	// Resume after the first while the next two are paid: the stream
	// waits, then delivers exactly them, in ledger order.
	done := make(chan []got)
	go func() { done <- watch(first[0].next, 2) }()
	time.Sleep(200 * time.Millisecond)
	r1 := withdraw(1, "b")
	approveAll(r1)
	r2 := withdraw(2, "c")
	approveAll(r2)
	resumed := <-done
	if resumed[0].round != r1.GetId() || resumed[1].round != r2.GetId() {
		t.Fatalf("resumed stream: %v", resumed)
	}
	// From the start again: all three, once each, same cursors.
	all := watch("", 3)
	if all[0] != first[0] || all[1] != resumed[0] || all[2] != resumed[1] {
		t.Fatalf("full stream %v, pieces %v %v", all, first, resumed)
	}
	if acct := api.account(recipient).GetAccount(); acct.GetBalance() != 600 {
		t.Fatalf("recipient balance %d, want 600", acct.GetBalance())
	}
	st, err := lc.WatchWithdrawals(ctx, connect.NewRequest(&lightkeeperv1.WatchWithdrawalsRequest{FromCursor: "x"}))
	if err == nil {
		defer st.Close()
		if st.Receive() {
			t.Fatal("bad cursor: got a message")
		}
		err = st.Err()
	}
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("bad cursor: %v", err)
	}
}

// TestPoolSurvivesRestart: the pool's tree, balance and spent nullifiers
// are restored from the store.
func TestPoolSurvivesRestart(t *testing.T) {
	cfg := testConfig()
	dir := t.TempDir()
	depositor := setup.NewKey()
	recipient := setup.KeyID(setup.NewKey())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := func() *devnet.Devnet {
		t.Helper()
		byz := make([]byzantine.Strategy, 10)
		for i := range byz {
			byz[i] = byzantine.Silent
		}
		d, err := devnet.Start(ctx, devnet.Options{Dir: dir, Keepers: 10, Byzantine: byz, Config: &cfg.Config, Params: cfg.Params,
			Genesis: func(g *lightkeeperv1.Genesis, _ []ed25519.PrivateKey) {
				g.WithdrawalVerifyingKey = []byte("placeholder pool key")
				g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: setup.KeyID(depositor), Amount: 1_000})
			}})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.WaitOnline(ctx, 10, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		return d
	}
	rng := rand.NewChaCha8([32]byte{7})
	wt, _ := shielded.NewWalletTree(shielded.DefaultDepth)
	deposit := func(d *devnet.Devnet, amount uint64) shielded.Note {
		t.Helper()
		api := newStakingAPI(t, d)
		note, _ := shielded.NewNote(rng, amount)
		pre := note.Precommitment().Bytes()
		if _, err := api.submit(api.sign(depositor, 0, -1, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Deposit{Deposit: &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: amount}}
		})); err != nil {
			t.Fatal(err)
		}
		wt.Append(note.Commitment())
		return note
	}
	request := func(note shielded.Note, index uint64, nonce string) *lightkeeperv1.RoundRequest {
		root, nf := wt.Root().Bytes(), note.Nullifier(index).Bytes()
		return &lightkeeperv1.RoundRequest{Payload: &lightkeeperv1.RoundRequest_Withdrawal{Withdrawal: &lightkeeperv1.WithdrawalRequest{
			Root: root[:], Nullifier: nf[:], Amount: note.Amount, Recipient: recipient, Proof: []byte("p")}}, ClientNonce: nonce}
	}

	d := start()
	n0 := deposit(d, 40)
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	res, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: request(n0, 0, "a")}))
	if err != nil {
		t.Fatal(err)
	}
	var votes []*lightkeeperv1.Vote
	for _, id := range res.Msg.GetRound().GetCommittee() {
		votes = append(votes, signedVote(t, d.Genesis.GetChainId(), res.Msg.GetRound().GetId(), keyByID(t, d, id), lightkeeperv1.VoteKind_VOTE_KIND_APPROVE))
	}
	submitVotes(t, lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL), votes...)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d = start()
	defer d.Close()
	rc = lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	if _, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: request(n0, 0, "again")})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("spent nullifier after restart: %v", err)
	}
	// The restored tree continues: the root after a new deposit is known.
	n1 := deposit(d, 50)
	if _, err := rc.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: request(n1, 1, "b")})); err != nil {
		t.Fatalf("withdrawal against the restored tree: %v", err)
	}
	if got := newStakingAPI(t, d).account(recipient).GetAccount().GetBalance(); got != 40 {
		t.Fatalf("recipient %d, want 40", got)
	}
}
