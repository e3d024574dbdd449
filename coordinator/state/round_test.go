package state

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

func TestSubmitRoundValidation(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	// A second key on another curve, and a PLONK key.
	blsKey, plonkKey := testVK("groth16_bls12_381"), testVK("plonk_bn254")
	h.ok(h.apply(0,
		vkTx(blsKey, lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BLS12_381),
		vkTx(plonkKey, lightkeeperv1.Scheme_SCHEME_PLONK, lightkeeperv1.Curve_CURVE_BN254)))
	proof := func(f func(p *lightkeeperv1.ProofRequest)) *lightkeeperv1.RoundRequest {
		r := proofRequest(h.vk, "v")
		f(r.GetProof())
		return r
	}
	for _, tc := range []struct {
		name string
		req  *lightkeeperv1.RoundRequest
		err  error
		msg  string
	}{
		{"no request", nil, ErrInvalidRequest, "request: missing"},
		{"no payload", &lightkeeperv1.RoundRequest{ClientNonce: "x"}, ErrInvalidRequest, "unsupported round kind"},
		{"scheme unspecified", proof(func(p *lightkeeperv1.ProofRequest) { p.Scheme = 0 }), ErrInvalidRequest, "proof.scheme"},
		{"scheme unknown", proof(func(p *lightkeeperv1.ProofRequest) { p.Scheme = 9 }), ErrInvalidRequest, "proof.scheme"},
		{"curve unspecified", proof(func(p *lightkeeperv1.ProofRequest) { p.Curve = 0 }), ErrInvalidRequest, "proof.curve"},
		{"bad vk id", proof(func(p *lightkeeperv1.ProofRequest) { p.VerifyingKeyId = "ABC" }), ErrInvalidRequest, "proof.verifying_key_id"},
		{"unknown vk", proof(func(p *lightkeeperv1.ProofRequest) { p.VerifyingKeyId = vkID([]byte("nope")) }), ErrUnknownVerifyingKey, vkID([]byte("nope"))},
		{"curve mismatch", proof(func(p *lightkeeperv1.ProofRequest) { p.VerifyingKeyId = vkID(blsKey) }), ErrInvalidRequest, "bls12_381"},
		{"scheme mismatch", proof(func(p *lightkeeperv1.ProofRequest) { p.VerifyingKeyId = vkID(plonkKey) }), ErrInvalidRequest, "plonk"},
		{"bad inputs", proof(func(p *lightkeeperv1.ProofRequest) { p.PublicInputs = []byte(`["x"]`) }), ErrInvalidRequest, "proof.public_inputs"},
		{"no inputs", proof(func(p *lightkeeperv1.ProofRequest) { p.PublicInputs = nil }), ErrInvalidRequest, "proof.public_inputs"},
		{"wrong count", proof(func(p *lightkeeperv1.ProofRequest) { p.PublicInputs = []byte(`["1","2","3"]`) }), ErrInvalidRequest, "3 values, but verifying key " + h.vk + " expects 2"},
		{"empty proof", proof(func(p *lightkeeperv1.ProofRequest) { p.Proof = nil }), ErrInvalidRequest, "proof.proof"},
		{"long nonce", &lightkeeperv1.RoundRequest{Payload: proofRequest(h.vk, "").Payload, ClientNonce: strings.Repeat("n", MaxClientNonceLen+1)}, ErrInvalidRequest, "client_nonce"},
	} {
		res := h.apply(0, submitTx(tc.req))
		err := res.TxResults[0].Err
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v, want %v containing %q", tc.name, err, tc.err, tc.msg)
		}
		if len(res.Events) != 0 || len(res.Rounds) != 0 || len(h.m.OpenRounds()) != 0 {
			t.Errorf("%s: refused request changed state", tc.name)
		}
	}
	// The same request made valid opens a round.
	if res := h.apply(0, submitTx(proofRequest(h.vk, "v"))); res.TxResults[0].Err != nil {
		t.Fatal(res.TxResults[0].Err)
	}
}

func TestIdempotentResubmission(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	req := proofRequest(h.vk, "once")
	res := h.apply(0, submitTx(req), submitTx(req)) // twice in one block
	first, second := res.TxResults[0], res.TxResults[1]
	if first.Err != nil || !errors.Is(second.Err, ErrRoundExists) || second.RoundID != first.RoundID || second.RoundID != protocol.RoundID(testChain, req) {
		t.Fatalf("same block: %v / %v", first.Err, second.Err)
	}
	if !proto.Equal(second.Round, first.Round) {
		t.Fatal("ErrRoundExists does not return the open round")
	}
	if len(eventsOf[RoundOpened](res)) != 1 {
		t.Fatal("round opened twice")
	}
	// Later block, still open.
	res = h.apply(time.Second, submitTx(req))
	if tr := res.TxResults[0]; !errors.Is(tr.Err, ErrRoundExists) || tr.RoundID != first.RoundID || tr.Round == nil {
		t.Fatalf("open: %+v", tr)
	}
	// After it closed: still refused, protocol.RoundID set, Round not in memory.
	h.apply(31 * time.Second)
	if _, open := h.m.OpenRound(first.RoundID); open || !h.m.KnownRound(first.RoundID) {
		t.Fatal("closed round still open or forgotten")
	}
	res = h.apply(0, submitTx(req))
	if tr := res.TxResults[0]; !errors.Is(tr.Err, ErrRoundExists) || tr.RoundID != first.RoundID || tr.Round != nil {
		t.Fatalf("closed: %+v", tr)
	}
	// ...also after a restart.
	h.mutate(func(*Snapshot) {})
	res = h.apply(0, submitTx(req))
	if tr := res.TxResults[0]; !errors.Is(tr.Err, ErrRoundExists) {
		t.Fatalf("after restore: %+v", tr)
	}
	// A different nonce is a different round.
	if res := h.apply(0, submitTx(proofRequest(h.vk, "twice"))); res.TxResults[0].Err != nil {
		t.Fatal(res.TxResults[0].Err)
	}
}

func TestVoteStatus(t *testing.T) {
	h := newHarness(t, 12, 100, nil)
	r := h.submit()
	closed := h.submit()
	h.apply(31 * time.Second) // closes both
	r = h.submit()
	member := h.seats(r)[0]
	outsider := h.nonMember(r)
	h.ok(h.apply(0, voteTx(r.Id, member, approve)))

	bad := func(f func(v *lightkeeperv1.Vote)) *lightkeeperv1.Transaction {
		tx := voteTx(r.Id, h.seats(r)[1], approve)
		f(tx.GetCastVote().Vote)
		return tx
	}
	sig := func(i int, kind lightkeeperv1.VoteKind, hash [32]byte) *lightkeeperv1.Transaction {
		return voteTxHash(testChain, r.Id, i, kind, hash)
	}
	for _, tc := range []struct {
		name string
		tx   *lightkeeperv1.Transaction
		want lightkeeperv1.VoteStatus
		err  error
	}{
		{"no vote", &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_CastVote{CastVote: &lightkeeperv1.CastVoteTx{}}}, lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED, ErrInvalidRequest},
		{"bad round id", bad(func(v *lightkeeperv1.Vote) { v.RoundId = "zz" }), lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED, ErrInvalidRequest},
		{"upper round id", bad(func(v *lightkeeperv1.Vote) { v.RoundId = strings.ToUpper(v.RoundId) }), lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED, ErrInvalidRequest},
		{"bad keeper id", bad(func(v *lightkeeperv1.Vote) { v.KeeperId = v.KeeperId[:62] }), lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED, ErrInvalidRequest},
		{"kind unspecified", bad(func(v *lightkeeperv1.Vote) { v.Kind = 0 }), lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED, ErrInvalidRequest},
		{"kind unknown", bad(func(v *lightkeeperv1.Vote) { v.Kind = 4 }), lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED, ErrInvalidRequest},
		{"short hash", bad(func(v *lightkeeperv1.Vote) { v.ResultHash = v.ResultHash[:31] }), lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED, ErrInvalidRequest},
		{"no hash", bad(func(v *lightkeeperv1.Vote) { v.ResultHash = nil }), lightkeeperv1.VoteStatus_VOTE_STATUS_MALFORMED, ErrInvalidRequest},
		{"unknown round", voteTx(protocol.RoundID(testChain, proofRequest(h.vk, "never")), member, approve), lightkeeperv1.VoteStatus_VOTE_STATUS_UNKNOWN_ROUND, ErrUnknownRound},
		{"closed round", voteTx(closed.Id, h.seats(closed)[0], approve), lightkeeperv1.VoteStatus_VOTE_STATUS_ROUND_CLOSED, ErrRoundClosed},
		{"not in committee", voteTx(r.Id, outsider, approve), lightkeeperv1.VoteStatus_VOTE_STATUS_NOT_IN_COMMITTEE, ErrNotInCommittee},
		// Checked before the signature: a non-member with a bad signature.
		{"not in committee, bad sig", func() *lightkeeperv1.Transaction {
			tx := voteTx(r.Id, outsider, approve)
			tx.GetCastVote().Vote.Signature[0] ^= 1
			return tx
		}(), lightkeeperv1.VoteStatus_VOTE_STATUS_NOT_IN_COMMITTEE, ErrNotInCommittee},
		{"bad signature", bad(func(v *lightkeeperv1.Vote) { v.Signature[5] ^= 1 }), lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE, ErrBadSignature},
		{"no signature", bad(func(v *lightkeeperv1.Vote) { v.Signature = nil }), lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE, ErrBadSignature},
		{"signed by another", bad(func(v *lightkeeperv1.Vote) { v.KeeperId = keeperID(member) }), lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE, ErrBadSignature},
		{"kind changed after signing", bad(func(v *lightkeeperv1.Vote) { v.Kind = reject }), lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE, ErrBadSignature},
		{"other chain", voteTxHash("other-chain", r.Id, h.seats(r)[1], approve, [32]byte{}), lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE, ErrBadSignature},
		// A replay with a bad signature is not a duplicate.
		{"replay with bad signature", func() *lightkeeperv1.Transaction {
			tx := voteTx(r.Id, member, approve)
			tx.GetCastVote().Vote.Signature[0] ^= 1
			return tx
		}(), lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE, ErrBadSignature},
		{"duplicate", voteTx(r.Id, member, approve), lightkeeperv1.VoteStatus_VOTE_STATUS_DUPLICATE, nil},
		{"duplicate, other reason", func() *lightkeeperv1.Transaction {
			tx := voteTx(r.Id, member, approve)
			tx.GetCastVote().Vote.Reason = lightkeeperv1.RejectReason_REJECT_REASON_INVALID_PROOF
			return tx
		}(), lightkeeperv1.VoteStatus_VOTE_STATUS_DUPLICATE, nil},
		{"equivocation: kind", voteTx(r.Id, member, reject), lightkeeperv1.VoteStatus_VOTE_STATUS_EQUIVOCATION, ErrEquivocation},
		{"equivocation: hash", sig(member, approve, [32]byte{1}), lightkeeperv1.VoteStatus_VOTE_STATUS_EQUIVOCATION, ErrEquivocation},
		{"accepted", voteTx(r.Id, h.seats(r)[1], abstain), lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED, nil},
	} {
		res := h.apply(0, tc.tx)
		tr := res.TxResults[0]
		if tr.VoteStatus != tc.want || (tc.err == nil) != (tr.Err == nil) || (tc.err != nil && !errors.Is(tr.Err, tc.err)) {
			t.Errorf("%s: got %v / %v, want %v / %v", tc.name, tr.VoteStatus, tr.Err, tc.want, tc.err)
		}
		o, _ := h.m.OpenRound(r.Id)
		wantVotes := 1
		if tc.want == lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED {
			wantVotes = 2
		}
		if len(o.Votes) != wantVotes || o.Approvals != 1 {
			t.Errorf("%s: round has %d votes, %d approvals", tc.name, len(o.Votes), o.Approvals)
		}
	}
}

func TestApprovalAtThreshold(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	r := h.submit()
	// 6 approvals, 3 rejections: still voting (4 rejections needed).
	res := h.ok(h.apply(time.Second, append(votes(r, h, approve, 0, 1, 2, 3, 4, 5), votes(r, h, reject, 6, 7, 8)...)...))
	if len(res.Block.Certificates) != 0 {
		t.Fatal("decided before the threshold")
	}
	o, _ := h.m.OpenRound(r.Id)
	if o.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING || o.Approvals != 6 || o.Rejections != 3 {
		t.Fatalf("round %v %d/%d", o.Phase, o.Approvals, o.Rejections)
	}
	res = h.ok(h.apply(time.Second, votes(r, h, approve, 9)...))
	d := eventsOf[RoundDecided](res)
	if len(d) != 1 || len(res.Block.Certificates) != 1 {
		t.Fatal("not decided at the 7th approval")
	}
	o, _ = h.m.OpenRound(r.Id)
	if o.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_DECIDED || o.Outcome != lightkeeperv1.Outcome_OUTCOME_APPROVED ||
		o.DecidedVotes != 10 || o.DecidedHeight != res.Block.Header.Height || !proto.Equal(o.DecidedAt, res.Block.Header.Time) {
		t.Fatalf("round after decision: %v", o)
	}
	cert := res.Block.Certificates[0]
	if err := protocol.VerifyCertificate(served(cert), h.m.Params()); err != nil {
		t.Fatal(err)
	}
	if len(cert.Votes) != 10 || cert.Outcome != lightkeeperv1.Outcome_OUTCOME_APPROVED || cert.Height != o.DecidedHeight || cert.ChainId != testChain {
		t.Fatalf("certificate %v", cert)
	}
	if !proto.Equal(d[0].Certificate, cert) {
		t.Fatal("event certificate differs from the block's")
	}
}

func TestRejectionAtFour(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	r := h.submit()
	res := h.ok(h.apply(time.Second, append(votes(r, h, reject, 0, 1, 2), votes(r, h, approve, 3, 4)...)...))
	if len(res.Block.Certificates) != 0 {
		t.Fatal("decided at 3 rejections")
	}
	res = h.ok(h.apply(time.Second, votes(r, h, reject, 5)...))
	if len(res.Block.Certificates) != 1 || res.Block.Certificates[0].Outcome != lightkeeperv1.Outcome_OUTCOME_REJECTED {
		t.Fatal("not REJECTED at the 4th rejection")
	}
	if c := res.Block.Certificates[0]; len(c.Votes) != 6 || protocol.VerifyCertificate(served(c), h.m.Params()) != nil {
		t.Fatalf("certificate votes %d: %v", len(c.Votes), protocol.VerifyCertificate(served(c), h.m.Params()))
	}
	// A decision is taken once: more rejections and approvals are late.
	res = h.ok(h.apply(time.Second, append(votes(r, h, reject, 6), votes(r, h, approve, 7, 8, 9)...)...))
	if len(res.Block.Certificates) != 0 || len(eventsOf[RoundDecided](res)) != 0 {
		t.Fatal("decided twice")
	}
	for _, e := range eventsOf[VoteAccepted](res) {
		if !e.Late {
			t.Fatal("vote after the decision not marked late")
		}
	}
}

// TestDecisionInsideBlock: the decision happens at the vote that reaches
// the threshold, even mid-block; later votes in the same block are late.
func TestDecisionInsideBlock(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	r := h.submit()
	res := h.ok(h.apply(time.Second, votes(r, h, approve, seatRange(0, 10)...)...))
	if c := res.Block.Certificates; len(c) != 1 || len(c[0].Votes) != 7 {
		t.Fatal("certificate is not the first 7 votes")
	}
	late := 0
	for _, e := range eventsOf[VoteAccepted](res) {
		if e.Late {
			late++
		}
	}
	if late != 3 {
		t.Fatalf("%d late votes, want 3", late)
	}
	o, _ := h.m.OpenRound(r.Id)
	if o.DecidedVotes != 7 || len(o.Votes) != 10 || o.Approvals != 10 {
		t.Fatalf("decided_votes %d votes %d", o.DecidedVotes, len(o.Votes))
	}
	// Event order: accepted ×7, decided, settlement, accepted (late) ...
	var kinds []string
	for _, e := range res.Events {
		switch e.(type) {
		case VoteAccepted:
			kinds = append(kinds, "v")
		case RoundDecided:
			kinds = append(kinds, "D")
		case ReputationChanged:
			kinds = append(kinds, "r")
		}
	}
	if got := strings.Join(kinds, ""); got != "vvvvvvvDrrrrrrrvrvrvr" {
		t.Fatalf("event order %s", got)
	}
}

func TestTimeout(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	r := h.submit()
	seats := h.seats(r)
	h.ok(h.apply(time.Second, append(votes(r, h, approve, 0, 1, 2, 3, 4, 5), append(votes(r, h, reject, 6, 7, 8), votes(r, h, abstain)...)...)...))
	// One millisecond before the deadline: still open.
	h.apply(29*time.Second - time.Millisecond)
	if _, open := h.m.OpenRound(r.Id); !open {
		t.Fatal("closed before the deadline")
	}
	if d, ok := h.m.NextDeadline(); !ok || d != r.Deadline.AsTime().UnixMilli() {
		t.Fatalf("NextDeadline %d %v", d, ok)
	}
	// A vote in the block at the deadline is too late: deadlines close
	// before transactions run.
	res := h.apply(time.Millisecond, votes(r, h, approve, 9)...)
	if st := res.TxResults[0].VoteStatus; st != lightkeeperv1.VoteStatus_VOTE_STATUS_ROUND_CLOSED {
		t.Fatalf("vote at the deadline: %v", st)
	}
	if _, ok := h.m.NextDeadline(); ok {
		t.Fatal("NextDeadline with no open round")
	}
	if len(res.Rounds) != 1 {
		t.Fatalf("%d rounds in result", len(res.Rounds))
	}
	fin := res.Rounds[0]
	if fin.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED || fin.Outcome != lightkeeperv1.Outcome_OUTCOME_TIMEOUT ||
		fin.DecidedVotes != 9 || fin.DecidedHeight != res.Block.Header.Height {
		t.Fatalf("final round %v", fin)
	}
	if len(res.Block.Certificates) != 1 || res.Block.Certificates[0].Outcome != lightkeeperv1.Outcome_OUTCOME_TIMEOUT || len(res.Block.Certificates[0].Votes) != 9 {
		t.Fatal("no TIMEOUT certificate")
	}
	if err := protocol.VerifyCertificate(served(res.Block.Certificates[0]), h.m.Params()); err != nil {
		t.Fatal(err)
	}
	cl := eventsOf[RoundClosed](res)
	if len(cl) != 1 || !slices.Equal(cl[0].Missed, []string{keeperID(seats[9])}) {
		t.Fatalf("missed %v", cl)
	}
	// TIMEOUT judges nobody: only the missing member loses reputation.
	for s, i := range seats {
		k := h.keeper(i)
		want := int64(1000)
		if s == 9 {
			want = 970
		}
		if k.Reputation != want || k.VotesCorrect != 0 || k.VotesIncorrect != 0 {
			t.Fatalf("seat %d: %v", s, k)
		}
	}
	// Event order: decided, closed, timeout penalty.
	var kinds []string
	for _, e := range res.Events {
		switch e.(type) {
		case RoundDecided:
			kinds = append(kinds, "D")
		case RoundClosed:
			kinds = append(kinds, "C")
		case ReputationChanged:
			kinds = append(kinds, "r")
		}
	}
	if strings.Join(kinds, "") != "DCr" {
		t.Fatalf("event order %v", kinds)
	}
}

func TestLateVotes(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	r := h.submit()
	seats := h.seats(r)
	h.ok(h.apply(time.Second, votes(r, h, approve, seatRange(0, 7)...)...))
	res := h.ok(h.apply(time.Second, append(votes(r, h, reject, 7), votes(r, h, approve, 8)...)...))
	ev := eventsOf[VoteAccepted](res)
	if len(ev) != 2 || !ev[0].Late || !ev[1].Late {
		t.Fatal("late votes not accepted as late")
	}
	// Settled at once.
	if k := h.keeper(seats[7]); k.Reputation != 950 || k.VotesIncorrect != 1 {
		t.Fatalf("late wrong vote: %v", k)
	}
	if k := h.keeper(seats[8]); k.Reputation != 1015 || k.VotesCorrect != 1 {
		t.Fatalf("late right vote: %v", k)
	}
	o, _ := h.m.OpenRound(r.Id)
	if o.DecidedVotes != 7 || len(o.Votes) != 9 || o.Rejections != 1 || o.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_DECIDED {
		t.Fatalf("round %v", o)
	}
	// Closed at the deadline: only seat 9 missed it, no second certificate.
	res = h.apply(30 * time.Second)
	if len(res.Block.Certificates) != 0 || len(eventsOf[RoundDecided](res)) != 0 {
		t.Fatal("decided again at close")
	}
	if cl := eventsOf[RoundClosed](res); len(cl) != 1 || !slices.Equal(cl[0].Missed, []string{keeperID(seats[9])}) ||
		cl[0].Round.Outcome != lightkeeperv1.Outcome_OUTCOME_APPROVED {
		t.Fatalf("close: %v", cl)
	}
	if k := h.keeper(seats[9]); k.Reputation != 970 || k.RoundsMissed != 1 {
		t.Fatalf("missing member: %v", k)
	}
}

func TestReputationSettlement(t *testing.T) {
	const (
		approved = lightkeeperv1.Outcome_OUTCOME_APPROVED
		rejected = lightkeeperv1.Outcome_OUTCOME_REJECTED
		timedOut = lightkeeperv1.Outcome_OUTCOME_TIMEOUT
	)
	for _, tc := range []struct {
		name     string
		outcome  lightkeeperv1.Outcome
		vote     lightkeeperv1.VoteKind // of the probe member (seat 9); 0: no vote
		late     bool
		rep      int64
		correct  uint64
		wrong    uint64
		abstains uint64
		missed   uint64
		cause    string
	}{
		{"approve on APPROVED", approved, approve, false, 1015, 1, 0, 0, 0, CauseCorrect},
		{"reject on APPROVED", approved, reject, false, 950, 0, 1, 0, 0, CauseIncorrect},
		{"abstain on APPROVED", approved, abstain, false, 1000, 0, 0, 1, 0, ""},
		{"reject on REJECTED", rejected, reject, false, 1015, 1, 0, 0, 0, CauseCorrect},
		{"approve on REJECTED", rejected, approve, false, 950, 0, 1, 0, 0, CauseIncorrect},
		{"abstain on REJECTED", rejected, abstain, false, 1000, 0, 0, 1, 0, ""},
		{"late approve on APPROVED", approved, approve, true, 1015, 1, 0, 0, 0, CauseCorrect},
		{"late reject on APPROVED", approved, reject, true, 950, 0, 1, 0, 0, CauseIncorrect},
		{"late abstain on REJECTED", rejected, abstain, true, 1000, 0, 0, 1, 0, ""},
		{"approve on TIMEOUT", timedOut, approve, false, 1000, 0, 0, 0, 0, ""},
		{"reject on TIMEOUT", timedOut, reject, false, 1000, 0, 0, 0, 0, ""},
		{"abstain on TIMEOUT", timedOut, abstain, false, 1000, 0, 0, 1, 0, ""},
		{"no vote on APPROVED", approved, 0, false, 970, 0, 0, 0, 1, CauseTimeout},
		{"no vote on TIMEOUT", timedOut, 0, false, 970, 0, 0, 0, 1, CauseTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 10, 100, nil)
			r := h.submit()
			probe := h.seats(r)[9]
			// Seats 0..8 bring the round to its outcome (or not).
			var txs []*lightkeeperv1.Transaction
			switch tc.outcome {
			case approved:
				txs = votes(r, h, approve, seatRange(0, 7)...)
			case rejected:
				txs = votes(r, h, reject, seatRange(0, 4)...)
			case timedOut:
				// 3 approvals and 2 rejections: with the probe's vote neither
				// threshold (7, 4) is reached.
				txs = append(votes(r, h, approve, 0, 1, 2), votes(r, h, reject, 3, 4)...)
			}
			probeTx := func() []*lightkeeperv1.Transaction {
				if tc.vote == 0 {
					return nil
				}
				return []*lightkeeperv1.Transaction{voteTx(r.Id, probe, tc.vote)}
			}
			var all []Event
			if tc.late {
				all = append(all, h.ok(h.apply(time.Second, txs...)).Events...)
				all = append(all, h.ok(h.apply(time.Second, probeTx()...)).Events...)
			} else {
				// The probe votes first so that it is part of the decision.
				all = append(all, h.ok(h.apply(time.Second, append(probeTx(), txs...)...)).Events...)
			}
			all = append(all, h.apply(31*time.Second).Events...)
			k := h.keeper(probe)
			if k.Reputation != tc.rep || k.VotesCorrect != tc.correct || k.VotesIncorrect != tc.wrong ||
				k.VotesAbstained != tc.abstains || k.RoundsMissed != tc.missed {
				t.Fatalf("probe keeper %v", k)
			}
			var causes []string
			for _, e := range all {
				if rc, ok := e.(ReputationChanged); ok && rc.KeeperID == keeperID(probe) {
					causes = append(causes, rc.Cause)
					if rc.From != 1000 || rc.To != tc.rep {
						t.Fatalf("event %v", rc)
					}
				}
			}
			if want := []string{tc.cause}; (tc.cause == "" && len(causes) != 0) || (tc.cause != "" && !slices.Equal(causes, want)) {
				t.Fatalf("causes %v, want %q", causes, tc.cause)
			}
		})
	}
}

func TestConsensusBonus(t *testing.T) {
	for _, tc := range []struct {
		correct, bonus, want int64
	}{{10, 5, 1015}, {10, 0, 1010}, {0, 5, 1005}, {0, 0, 1000}} {
		p := protocol.DefaultParams()
		p.ReputationCorrect, p.ReputationConsensusBonus = tc.correct, tc.bonus
		h := newHarness(t, 10, 100, p)
		r := h.submit()
		res := h.ok(h.apply(time.Second, votes(r, h, approve, seatRange(0, 7)...)...))
		if k := h.keeper(h.seats(r)[0]); k.Reputation != tc.want || k.VotesCorrect != 1 {
			t.Errorf("correct %d bonus %d: reputation %d, want %d", tc.correct, tc.bonus, k.Reputation, tc.want)
		}
		if n := len(eventsOf[ReputationChanged](res)); (tc.want == 1000) != (n == 0) {
			t.Errorf("correct %d bonus %d: %d events", tc.correct, tc.bonus, n)
		}
	}
}

func TestReputationClamp(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	r := h.submit()
	s := h.seats(r)
	h.mutate(func(sn *Snapshot) {
		setKeeper(sn, keeperID(s[0]), func(k *lightkeeperv1.Keeper) { k.Reputation = 10_000 }) // at max
		setKeeper(sn, keeperID(s[1]), func(k *lightkeeperv1.Keeper) { k.Reputation = 9_990 })  // +15 → max
		setKeeper(sn, keeperID(s[7]), func(k *lightkeeperv1.Keeper) { k.Reputation = 120 })    // −50 → min
		setKeeper(sn, keeperID(s[8]), func(k *lightkeeperv1.Keeper) { k.Reputation = 100 })    // at min
		setKeeper(sn, keeperID(s[9]), func(k *lightkeeperv1.Keeper) { k.Reputation = 110 })    // −30 → min
	})
	res := h.ok(h.apply(time.Second, append(votes(r, h, approve, seatRange(0, 7)...), votes(r, h, reject, 7, 8)...)...))
	res2 := h.apply(31 * time.Second)
	want := map[int]int64{s[0]: 10_000, s[1]: 10_000, s[7]: 100, s[8]: 100, s[9]: 100}
	for i, rep := range want {
		if k := h.keeper(i); k.Reputation != rep {
			t.Errorf("keeper %d: reputation %d, want %d", i, k.Reputation, rep)
		}
	}
	// Clamped changes report the clamped value; no-op changes emit nothing.
	got := map[string]ReputationChanged{}
	for _, e := range append(eventsOf[ReputationChanged](res), eventsOf[ReputationChanged](res2)...) {
		got[e.KeeperID] = e
	}
	if _, ok := got[keeperID(s[0])]; ok {
		t.Error("event for a keeper already at the maximum")
	}
	if _, ok := got[keeperID(s[8])]; ok {
		t.Error("event for a keeper already at the minimum")
	}
	for i, from := range map[int]int64{s[1]: 9990, s[7]: 120, s[9]: 110} {
		if e := got[keeperID(i)]; e.From != from || e.To != want[i] {
			t.Errorf("keeper %d: event %v", i, e)
		}
	}
	// Counters still move at the bounds.
	if k := h.keeper(s[0]); k.VotesCorrect != 1 {
		t.Error("votes_correct not counted at the maximum")
	}
	if k := h.keeper(s[8]); k.VotesIncorrect != 1 {
		t.Error("votes_incorrect not counted at the minimum")
	}
}

func TestDailyDecay(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name  string
		rep   int64
		ppm   int64
		steps []time.Duration // block time offsets from the previous block
		want  int64
		evs   int // decay events for the keeper
	}{
		{"same day", 1000, 1000, []time.Duration{day - time.Millisecond}, 1000, 0},
		{"one day", 1000, 1000, []time.Duration{day}, 999, 1},
		{"one day at max", 10_000, 1000, []time.Duration{day}, 9_990, 1},
		// 0.1 % of the integer a day, the fraction carried: 10000 → 9990
		// → 9981 (carry .99) → 9971 (10.971 lost, carry .971); the exact
		// 9970.03 is never more than one point away.
		{"three days in one block", 10_000, 1000, []time.Duration{3 * day}, 9_971, 1},
		{"three days in three blocks", 10_000, 1000, []time.Duration{day, day, day}, 9_971, 3},
		{"boundary crossed by a short step", 1000, 1000, []time.Duration{day - 1, 2 * time.Millisecond}, 999, 1},
		// ≈ 0.999 a day, carried: 999·0.999¹⁰ = 989.06; the integer is 990
		// with 0.9 of a point carried. Small values decay at the same rate.
		{"small values decay", 999, 1000, []time.Duration{10 * day}, 990, 1},
		// 0.2 a day at 200: a point every five days, not a point a day.
		{"near the floor", 200, 1000, []time.Duration{10 * day}, 199, 1},
		{"clamped at the minimum", 150, 500_000, []time.Duration{day}, 100, 1},
		{"no decay configured", 1000, 0, []time.Duration{5 * day}, 1000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := protocol.DefaultParams()
			p.ReputationDailyDecayPpm = tc.ppm
			p.ReputationMax = max(p.ReputationMax, tc.rep)
			// Genesis at midnight: the harness block is at the same time.
			m, _, err := New(withParams(testGenesis(1, 1), p))
			if err != nil {
				t.Fatal(err)
			}
			h := &harness{t: t, m: m}
			h.mutate(func(s *Snapshot) { s.Keepers[0].Reputation = tc.rep })
			evs := 0
			for _, d := range tc.steps {
				res := h.apply(d)
				for _, e := range eventsOf[ReputationChanged](res) {
					if e.Cause != CauseDecay {
						t.Fatalf("cause %q", e.Cause)
					}
					evs++
				}
				if res.Meta.LastDecayDay != dayOf(h.now()) {
					t.Fatal("last_decay_day not advanced")
				}
			}
			if k := h.keeper(0); k.Reputation != tc.want || evs != tc.evs {
				t.Fatalf("reputation %d (%d events), want %d (%d)", k.Reputation, evs, tc.want, tc.evs)
			}
		})
	}
}

// TestDecayBounded: a block after a very long gap applies at most
// MaxDecayDays days of decay.
func TestDecayBounded(t *testing.T) {
	const rep = int64(1_000_000_000_000)
	ref := func(days int) int64 {
		r, carry := rep, int64(0)
		for range days {
			loss := r + carry // r·ppm with ppm = 1
			r, carry = r-loss/protocol.PPM, loss%protocol.PPM
		}
		return r
	}
	p := protocol.DefaultParams()
	p.ReputationMax, p.ReputationDailyDecayPpm = rep, 1
	m, _, err := New(withParams(testGenesis(1, 1), p))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, m: m}
	h.mutate(func(s *Snapshot) { s.Keepers[0].Reputation = rep })
	h.apply(10_000 * 24 * time.Hour)
	if got, want := h.keeper(0).Reputation, ref(MaxDecayDays); got != want || want == ref(10_000) {
		t.Fatalf("reputation %d, want %d (unbounded would be %d)", got, want, ref(10_000))
	}
	if got := h.m.Snapshot().Meta.LastDecayDay; got != dayOf(h.now()) {
		t.Fatalf("last_decay_day %d", got)
	}
}
