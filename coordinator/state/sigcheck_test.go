package state

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// verifiedFor is what the service hands a block: the signatures of txs that
// verified on chain.
func verifiedFor(chain string, txs ...*lightkeeperv1.Transaction) VerifiedSigs {
	var s VerifiedSigs
	for _, tx := range txs {
		s.Add(VerifyTxSignatures(chain, tx)...)
	}
	return s
}

func (h *harness) applyVerified(verified VerifiedSigs, txs ...*lightkeeperv1.Transaction) *Result {
	h.t.Helper()
	res, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: h.now(), Txs: txs, Verified: verified}))
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

func cloneTx(tx *lightkeeperv1.Transaction) *lightkeeperv1.Transaction {
	return proto.Clone(tx).(*lightkeeperv1.Transaction)
}

// Two machines fed the same blocks, one with the pre-checked set and one
// without (as a replay from disk is), end every block with the same header
// and the same verdict on every transaction, good signatures and bad.
func TestVerifiedSigsChangeNoResult(t *testing.T) {
	with, without := newHarness(t, 12, 1000, nil), newHarness(t, 12, 1000, nil)
	same := func(block string, txs ...*lightkeeperv1.Transaction) *Result {
		t.Helper()
		a := with.applyVerified(verifiedFor(testChain, txs...), txs...)
		b := without.apply(0, txs...)
		mustEqualProto(t, block+": header", a.Block.GetHeader(), b.Block.GetHeader())
		for i := range txs {
			ra, rb := a.TxResults[i], b.TxResults[i]
			if ra.VoteStatus != rb.VoteStatus || fmt.Sprint(ra.Err) != fmt.Sprint(rb.Err) {
				t.Fatalf("%s: tx %d: with the set %v / %v, without %v / %v", block, i, ra.VoteStatus, ra.Err, rb.VoteStatus, rb.Err)
			}
		}
		return a
	}
	r := same("submit", submitTx(proofRequest(with.vk, "a"))).TxResults[0].Round
	seats := with.seats(r)
	badSig := voteTx(r.Id, seats[2], approve)
	badSig.GetCastVote().Vote.Signature[7] ^= 1
	flipped := voteTx(r.Id, seats[3], approve)
	flipped.GetCastVote().Vote.Kind = reject
	badReg := registerTx("other-chain", 20)
	res := same("votes",
		voteTx(r.Id, seats[0], approve), voteTx(r.Id, seats[1], reject), badSig, flipped,
		voteTx(r.Id, seats[0], reject), // equivocation: signed, so checked
		registerTx(testChain, 21), badReg)
	want := []lightkeeperv1.VoteStatus{
		lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED, lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED,
		lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE, lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE,
		lightkeeperv1.VoteStatus_VOTE_STATUS_EQUIVOCATION,
	}
	for i, w := range want {
		if got := res.TxResults[i].VoteStatus; got != w {
			t.Errorf("vote %d: %v, want %v", i, got, w)
		}
	}
	if err := res.TxResults[5].Err; err != nil {
		t.Errorf("registration: %v", err)
	}
	if err := res.TxResults[6].Err; !errors.Is(err, ErrBadSignature) {
		t.Errorf("registration signed for another chain: %v, want %v", err, ErrBadSignature)
	}
	var rest []*lightkeeperv1.Transaction
	for _, s := range seats[4:] {
		rest = append(rest, voteTx(r.Id, s, approve))
	}
	same("rest", rest...)
	_, ha := with.m.Head()
	_, hb := without.m.Head()
	if !bytes.Equal(ha, hb) {
		t.Fatal("head hashes differ")
	}
}

// A vote whose triple is not in the set is checked in full, even when the
// set holds the good signatures of the same block and of the same keeper:
// a bad signature is refused, and a vote altered after its good signature
// was pre-checked (another kind, hash, keeper or chain) does not match the
// pre-checked digest.
func TestVerifiedSigsAcceptOnlyTheExactTriple(t *testing.T) {
	h := newHarness(t, 12, 1000, nil)
	r := h.submit()
	seats := h.seats(r)
	good := voteTx(r.Id, seats[0], approve)
	others := []*lightkeeperv1.Transaction{voteTx(r.Id, seats[1], approve), voteTx(r.Id, seats[2], approve)}
	set := verifiedFor(testChain, append([]*lightkeeperv1.Transaction{good}, others...)...)
	if set.Len() != 3 {
		t.Fatalf("%d verified signatures, want 3", set.Len())
	}
	alter := func(f func(v *lightkeeperv1.Vote)) *lightkeeperv1.Transaction {
		tx := cloneTx(good)
		f(tx.GetCastVote().Vote)
		return tx
	}
	for _, tc := range []struct {
		name string
		tx   *lightkeeperv1.Transaction
	}{
		{"bad signature", alter(func(v *lightkeeperv1.Vote) { v.Signature[3] ^= 1 })},
		{"kind changed", alter(func(v *lightkeeperv1.Vote) { v.Kind = reject })},
		{"hash changed", alter(func(v *lightkeeperv1.Vote) { v.ResultHash = bytes.Repeat([]byte{1}, 32) })},
		{"keeper changed", alter(func(v *lightkeeperv1.Vote) { v.KeeperId = keeperID(seats[1]) })},
		{"another member's signature", alter(func(v *lightkeeperv1.Vote) {
			v.Signature = bytes.Clone(others[0].GetCastVote().Vote.Signature)
		})},
	} {
		res := h.applyVerified(set, tc.tx)
		if st := res.TxResults[0].VoteStatus; st != lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE {
			t.Errorf("%s: %v (%v), want BAD_SIGNATURE", tc.name, st, res.TxResults[0].Err)
		}
	}
	// Signed for another chain: verified there, so in that chain's set.
	other := voteTxHash("other-chain", r.Id, seats[0], approve, [32]byte{})
	res := h.applyVerified(verifiedFor("other-chain", other), other)
	if st := res.TxResults[0].VoteStatus; st != lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE {
		t.Errorf("other chain: %v, want BAD_SIGNATURE", st)
	}
	if n := verifiedFor(testChain, other).Len(); n != 0 {
		t.Errorf("a vote signed for another chain verified on this one (%d)", n)
	}
	res = h.applyVerified(set, good)
	if st := res.TxResults[0].VoteStatus; st != lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED {
		t.Errorf("the pre-checked vote: %v (%v)", st, res.TxResults[0].Err)
	}
}

// VerifyTxSignatures refuses what does not verify and never panics on
// malformed transactions (it runs on untrusted input before any check).
func TestVerifyTxSignaturesMalformed(t *testing.T) {
	h := newHarness(t, 12, 1000, nil)
	r := h.submit()
	vote := func(f func(v *lightkeeperv1.Vote)) *lightkeeperv1.Transaction {
		tx := voteTx(r.Id, h.seats(r)[0], approve)
		f(tx.GetCastVote().Vote)
		return tx
	}
	for name, tx := range map[string]*lightkeeperv1.Transaction{
		"nil":             nil,
		"empty":           {},
		"no vote":         {Kind: &lightkeeperv1.Transaction_CastVote{CastVote: &lightkeeperv1.CastVoteTx{}}},
		"short signature": vote(func(v *lightkeeperv1.Vote) { v.Signature = v.Signature[:10] }),
		"short hash":      vote(func(v *lightkeeperv1.Vote) { v.ResultHash = v.ResultHash[:5] }),
		"bad kind":        vote(func(v *lightkeeperv1.Vote) { v.Kind = 9 }),
		"bad keeper id":   vote(func(v *lightkeeperv1.Vote) { v.KeeperId = "xyz" }),
		"bad signature":   vote(func(v *lightkeeperv1.Vote) { v.Signature[0] ^= 1 }),
		"no registration": {Kind: &lightkeeperv1.Transaction_RegisterKeeper{}},
		"online":          onlineTx(0, true),
	} {
		if got := VerifyTxSignatures(testChain, tx); len(got) != 0 {
			t.Errorf("%s: %d verified", name, len(got))
		}
	}
	if got := VerifyTxSignatures(testChain, registerTx(testChain, 3)); len(got) != 1 {
		t.Errorf("registration: %d verified, want 1", len(got))
	}
}

// The machine does rely on the set: an entry for a triple that never
// verified would be taken at its word. That is why the only way to make an
// entry outside this package is VerifyTxSignatures, which verifies.
func TestVerifiedSigsAreTrusted(t *testing.T) {
	h := newHarness(t, 12, 1000, nil)
	r := h.submit()
	tx := voteTx(r.Id, h.seats(r)[0], approve)
	v := tx.GetCastVote().Vote
	v.Signature[0] ^= 1
	rid, _ := protocol.ParseID(v.RoundId)
	kid, _ := protocol.ParseID(v.KeeperId)
	var forged VerifiedSigs
	forged.Add(VerifiedSig{sigDigest(kid[:], protocol.VoteSignBytes(testChain, rid, kid[:], protocol.VoteApprove, [32]byte{}), v.Signature)})
	if st := h.applyVerified(forged, tx).TxResults[0].VoteStatus; st != lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED {
		t.Fatalf("a vote in the set was checked again: %v", st)
	}
}

// BenchmarkApplyVotesVerified is BenchmarkApplyVotes (100 votes a block)
// with and without the set the service builds before the block: the
// difference is what the write lock no longer covers. Building the set
// (the checks themselves) is not timed: the service does it on the
// receiving goroutines.
func BenchmarkApplyVotesVerified(b *testing.B) {
	const perBlock = 100
	for _, pre := range []bool{false, true} {
		b.Run(fmt.Sprintf("prechecked=%v", pre), func(b *testing.B) {
			h := newHarness(b, 10, 100, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				in := voteBlock(h, perBlock)
				if pre {
					in.Verified = verifiedFor(testChain, in.Txs...)
				}
				b.StartTimer()
				res, err := noted(h.m.ApplyBlock(in))
				if err != nil || len(res.Block.Certificates) != perBlock/10 {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/vote")
		})
	}
}
