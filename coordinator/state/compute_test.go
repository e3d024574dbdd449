package state

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
	"google.golang.org/protobuf/proto"
)

// computeHarness is a harness with a registered fake program.
func computeHarness(t *testing.T, n int, p *lightkeeperv1.ConsensusParams) (*harness, string) {
	t.Helper()
	h := newHarness(t, n, 100, p)
	mod := fakeModule("table", 0)
	h.ok(h.apply(0, programTx(mod)))
	return h, programID(mod)
}

func (h *harness) submitCompute(program string, fuel uint64) *lightkeeperv1.Round {
	h.t.Helper()
	h.nonce++
	res := h.ok(h.apply(0, submitTx(computeRequest(program, "in", fuel, strings.Repeat("c", h.nonce)))))
	return res.TxResults[0].Round
}

// cvote is the vote of the member at seat with result res.
func (h *harness) cvote(r *lightkeeperv1.Round, seat int, res compute.Result, upload bool) *lightkeeperv1.Transaction {
	return computeVoteTx(testChain, r.Id, h.index[r.Committee[seat]], res, upload)
}

func TestComputeWorkUnits(t *testing.T) {
	h, _ := computeHarness(t, 3, nil)
	for _, tc := range []struct{ fuel, want uint64 }{
		{0, 1}, {1, 1}, {1_000_000, 1}, {1_000_001, 2}, {2_500_000, 3}, {1 << 40, MaxComputeWorkUnits},
	} {
		if got := h.m.computeWorkUnits(tc.fuel); got != tc.want {
			t.Errorf("computeWorkUnits(%d) = %d, want %d", tc.fuel, got, tc.want)
		}
	}
}

// TestComputeRounds covers the tally of a 3-keeper compute committee, one
// case per row: which seats vote what, and what the round ends with.
func TestComputeRounds(t *testing.T) {
	good := compute.Result{Output: []byte("42\n"), FuelUsed: 2_500_000}
	wrong := compute.Result{Output: []byte("41\n"), FuelUsed: 2_500_000}
	trap := compute.Result{Output: []byte("partial"), FuelUsed: 5_000_000, Trap: compute.TrapOutOfFuel}
	type vote struct {
		seat   int
		res    compute.Result
		upload bool
	}
	for _, tc := range []struct {
		name    string
		votes   []vote
		outcome lightkeeperv1.Outcome
		output  string // "" when the output is not known
		right   []int  // seats judged correct
		wrong   []int  // seats judged incorrect
	}{
		{"honest, leader uploads", []vote{{0, good, true}, {1, good, false}, {2, good, false}},
			lightkeeperv1.Outcome_OUTCOME_APPROVED, "42\n", []int{0, 1, 2}, nil},
		{"leader silent: decided without output", []vote{{1, good, false}, {2, good, false}},
			lightkeeperv1.Outcome_OUTCOME_APPROVED, "", []int{1, 2}, nil},
		{"Byzantine leader uploads its wrong output", []vote{{0, wrong, true}, {1, good, false}, {2, good, false}},
			lightkeeperv1.Outcome_OUTCOME_APPROVED, "", []int{1, 2}, []int{0}},
		{"Byzantine member outvoted", []vote{{0, good, true}, {1, wrong, false}, {2, good, false}},
			lightkeeperv1.Outcome_OUTCOME_APPROVED, "42\n", []int{0, 2}, []int{1}},
		{"any member's upload of the agreed output counts", []vote{{0, wrong, true}, {1, good, true}, {2, good, false}},
			lightkeeperv1.Outcome_OUTCOME_APPROVED, "42\n", []int{1, 2}, []int{0}},
		{"out of fuel is REJECTED with the trap", []vote{{0, trap, true}, {1, trap, false}, {2, good, false}},
			lightkeeperv1.Outcome_OUTCOME_REJECTED, "partial", []int{0, 1}, []int{2}},
		{"a clean run and a trap do not add up", []vote{{0, good, true}, {1, trap, false}, {2, wrong, false}},
			lightkeeperv1.Outcome_OUTCOME_TIMEOUT, "", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := protocol.DefaultParams()
			h, prog := computeHarness(t, 5, p)
			r := h.submitCompute(prog, 5_000_000)
			if r.Kind != lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE || len(r.Committee) != 3 || r.Threshold != 2 || r.RejectThreshold != 2 {
				t.Fatalf("round %v: committee %d, thresholds %d/%d", r.Kind, len(r.Committee), r.Threshold, r.RejectThreshold)
			}
			seats := h.seats(r)
			before := map[int]int64{}
			for _, s := range seats {
				before[s] = h.keeper(s).Reputation
			}
			var txs []*lightkeeperv1.Transaction
			for _, v := range tc.votes {
				txs = append(txs, h.cvote(r, v.seat, v.res, v.upload))
			}
			res := h.apply(time.Second, txs...)
			for i, tr := range res.TxResults {
				if tr.VoteStatus != lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED {
					t.Fatalf("vote %d: %v %v", i, tr.VoteStatus, tr.Err)
				}
			}
			got := latest(r.Id, res)
			got = latestOr(got, r.Id, h.apply(31*time.Second)) // the deadline closes it
			if got.Outcome != tc.outcome || got.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
				t.Fatalf("outcome %v phase %v, want %v CLOSED", got.Outcome, got.Phase, tc.outcome)
			}
			if tc.outcome == lightkeeperv1.Outcome_OUTCOME_TIMEOUT {
				if got.Result != nil || got.ResultHash != nil {
					t.Fatalf("TIMEOUT with a result %v", got.Result)
				}
			} else {
				want := good
				if tc.outcome == lightkeeperv1.Outcome_OUTCOME_REJECTED {
					want = trap
				}
				wh := compute.ResultHash(want)
				if !bytes.Equal(got.ResultHash, wh[:]) || got.Result.FuelUsed != want.FuelUsed || got.Result.Trap != uint32(want.Trap) {
					t.Fatalf("result %v, want %v", got.Result, want)
				}
				if known := OutputKnown(got.Result); known != (tc.output != "") || string(got.Result.Output) != tc.output {
					t.Fatalf("output %q (known %v), want %q", got.Result.Output, known, tc.output)
				}
			}
			for _, v := range got.Votes {
				if len(v.GetCompute().GetOutput()) > 0 {
					t.Fatal("a stored vote keeps its output")
				}
			}
			voted := map[int]bool{}
			for _, v := range tc.votes {
				voted[v.seat] = true
			}
			for seat, k := range seats {
				delta := h.keeper(k).Reputation - before[k]
				want := int64(0)
				switch {
				case slices.Contains(tc.right, seat):
					want = p.ReputationCorrect + p.ReputationConsensusBonus
				case slices.Contains(tc.wrong, seat):
					want = -p.ReputationIncorrect
				case !voted[seat]:
					want = -p.ReputationTimeout
				}
				if delta != want {
					t.Errorf("seat %d: reputation %+d, want %+d", seat, delta, want)
				}
				if slices.Contains(tc.wrong, seat) && h.keeper(k).SlashedTotal == 0 {
					t.Errorf("seat %d voted a wrong result and was not slashed", seat)
				}
			}
		})
	}
}

// latest returns the last record of round id in res (nil if absent).
func latest(id string, res *Result) *lightkeeperv1.Round {
	return latestOr(nil, id, res)
}

func latestOr(r *lightkeeperv1.Round, id string, res *Result) *lightkeeperv1.Round {
	for _, x := range res.Rounds {
		if x.Id == id {
			r = x
		}
	}
	return r
}

func TestComputeCertificate(t *testing.T) {
	h, prog := computeHarness(t, 5, nil)
	r := h.submitCompute(prog, 5_000_000)
	good := compute.Result{Output: []byte("ok"), FuelUsed: 1234, ExitCode: 7}
	res := h.ok(h.apply(time.Second, h.cvote(r, 0, good, true), h.cvote(r, 1, good, false)))
	if len(res.Block.Certificates) != 1 {
		t.Fatalf("%d certificates", len(res.Block.Certificates))
	}
	cert := served(res.Block.Certificates[0])
	if err := protocol.VerifyCertificate(cert, h.m.Params()); err != nil {
		t.Fatal(err)
	}
	if cert.Result == nil || len(cert.Result.Output) != 0 || cert.Result.FuelUsed != 1234 {
		t.Fatalf("certificate result %v: want the result without output bytes", cert.Result)
	}
	for _, v := range cert.Votes {
		if len(v.GetCompute().GetOutput()) != 0 {
			t.Fatal("a certificate vote carries output bytes")
		}
	}
	for _, tc := range []struct {
		name string
		mut  func(c *lightkeeperv1.Certificate)
		want string
	}{
		{"other result hash", func(c *lightkeeperv1.Certificate) { c.ResultHash[0] ^= 1 }, "votes for result"},
		{"result does not open the hash", func(c *lightkeeperv1.Certificate) { c.Result.FuelUsed++ }, "result does not hash"},
		{"vote result changed", func(c *lightkeeperv1.Certificate) { c.Votes[1].Compute.ExitCode = 0 }, "votes[1]: result_hash does not match"},
		{"vote result removed", func(c *lightkeeperv1.Certificate) { c.Votes[1].Compute = nil }, "votes[1]: compute result missing"},
		{"a vote dropped", func(c *lightkeeperv1.Certificate) { c.Votes = c.Votes[:1] }, "1 votes for result"},
		{"thresholds", func(c *lightkeeperv1.Certificate) { c.RejectThreshold = 1 }, "reject_threshold: 1, but the chain's rule gives 2"},
		{"minority threshold", func(c *lightkeeperv1.Certificate) { c.Threshold, c.RejectThreshold = 1, 1 }, "threshold: 1, but the chain's rule gives 2"},
		{"flipped outcome", func(c *lightkeeperv1.Certificate) { c.Outcome = lightkeeperv1.Outcome_OUTCOME_REJECTED }, "outcome REJECTED"},
		{"TIMEOUT with agreement", func(c *lightkeeperv1.Certificate) { c.Outcome = lightkeeperv1.Outcome_OUTCOME_TIMEOUT }, "outcome TIMEOUT"},
		{"result on a proof certificate", func(c *lightkeeperv1.Certificate) {
			c.Kind, c.RejectThreshold = lightkeeperv1.RoundKind_ROUND_KIND_PROOF, 2
		}, "need at least threshold 7"},
	} {
		c := proto.Clone(cert).(*lightkeeperv1.Certificate)
		tc.mut(c)
		err := protocol.VerifyCertificate(c, h.m.Params())
		if !errors.Is(err, protocol.ErrBadCertificate) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestComputePaidSubmission(t *testing.T) {
	p := protocol.DefaultParams()
	p.Staking.FeePerWorkUnit = 10
	p.Staking.FuelPerUnit = 1000
	m, _, err := New(withParams(testGenesisWithBalances(3, 100, 1_000), p))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, m: m, n: 3, index: map[string]int{}}
	for i := 0; i < 3; i++ {
		h.index[keeperID(i)] = i
	}
	var txs []*lightkeeperv1.Transaction
	for i := 0; i < 3; i++ {
		txs = append(txs, registerTx(testChain, i), onlineTx(i, true))
	}
	mod := fakeModule("paid", 0)
	txs = append(txs, programTx(mod))
	h.ok(h.apply(0, txs...))
	// Unsigned submissions are refused once rounds cost a fee.
	if r := h.apply(0, submitTx(computeRequest(programID(mod), "", 2500, "free"))).TxResults[0]; !errors.Is(r.Err, ErrPaymentRequired) {
		t.Fatalf("unsigned: %v", r.Err)
	}
	// 2,500 fuel at 1,000 fuel per unit is 3 work units: a fee of 30,
	// charged on the fuel limit at submission.
	req := computeRequest(programID(mod), "", 2500, "paid")
	r := signedOK(t, m, 0, 0, func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundMsg{Request: req}}
	})
	if r.Err != nil || r.Round.GetKind() != lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
		t.Fatalf("paid compute submission: %v", r.Err)
	}
	if acct, _ := m.Account(keeperID(0)); acct.Balance != 1_000-30 {
		t.Fatalf("balance %d, want %d", acct.Balance, 1_000-30)
	}
}

// TestComputeSubmitRefusals: what a COMPUTE request must satisfy.
func TestComputeSubmitRefusals(t *testing.T) {
	p := protocol.DefaultParams()
	p.Compute.MaxFuel, p.Compute.MaxInputBytes = 1000, 4
	h, prog := computeHarness(t, 3, p)
	unknown := programID([]byte("not registered"))
	for _, tc := range []struct {
		req  *lightkeeperv1.RoundRequest
		want error
		text string
	}{
		{computeRequest(unknown, "", 10, "a"), ErrUnknownProgram, "compute.program_id"},
		{computeRequest("XYZ", "", 10, "b"), ErrInvalidRequest, "compute.program_id"},
		{computeRequest(prog, "", 0, "c"), ErrInvalidRequest, "compute.fuel"},
		{computeRequest(prog, "", 1001, "d"), ErrInvalidRequest, "compute.max_fuel"},
		{computeRequest(prog, "12345", 10, "e"), ErrInvalidRequest, "compute.max_input_bytes"},
	} {
		r := h.apply(0, submitTx(tc.req)).TxResults[0]
		if !errors.Is(r.Err, tc.want) || !strings.Contains(r.Err.Error(), tc.text) {
			t.Errorf("%v: got %v, want %v mentioning %s", tc.req.GetCompute(), r.Err, tc.want, tc.text)
		}
	}
	if r := h.apply(0, submitTx(computeRequest(prog, "1234", 1000, "ok"))).TxResults[0]; r.Err != nil {
		t.Fatalf("valid request refused: %v", r.Err)
	}
}

func testGenesisWithBalances(n int, stake, balance uint64) *lightkeeperv1.Genesis {
	g := testGenesis(n, stake)
	for i := 0; i < n; i++ {
		g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: keeperID(i), Amount: balance})
	}
	return g
}

// TestComputeThresholdTwoThirds: a compute round is decided by two thirds
// of compute_validators (Paraloom's 2/3 WASM verification), not by a bare
// majority: ⌈2n/3⌉ = 2, 3, 4, 4, 5, 6, 6 for n = 3, 4, 5, 6, 7, 8, 9.
func TestComputeThresholdTwoThirds(t *testing.T) {
	for n, want := range map[uint32]uint32{1: 1, 2: 2, 3: 2, 4: 3, 5: 4, 6: 4, 7: 5, 8: 6, 9: 6, 10: 7} {
		p := protocol.DefaultParams()
		p.ComputeValidators = n
		if got := protocol.ComputeThreshold(p.ComputeValidators); got != want {
			t.Errorf("compute_validators %d: threshold %d, want %d", n, got, want)
		}
	}
}
