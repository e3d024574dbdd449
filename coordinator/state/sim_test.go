package state

import (
	"bytes"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
	"google.golang.org/protobuf/proto"
)

// Keeper behaviours in the simulation, by keeper index modulo 8.
const (
	honest = iota
	honest2
	honest3
	byzantine   // votes against the truth
	equivocator // votes, then sometimes signs a conflicting vote
	lazy        // often never votes
	abstainer   // abstains half of the time
	forger      // sometimes sends votes with a broken signature
)

type simRound struct {
	id      string
	valid   bool
	compute bool // a COMPUTE round: valid means a clean run, else a trap
	r       *lightkeeperv1.Round
	voted   map[int]bool
}

// simResult is the honest result of a simulated compute round, or (wrong)
// a Byzantine one.
func simResult(sr *simRound, wrong int) compute.Result {
	res := compute.Result{Output: []byte("out " + sr.id[:8]), FuelUsed: 1000, ExitCode: 0}
	if !sr.valid {
		res.Trap, res.FuelUsed = compute.TrapOutOfFuel, 5000
	}
	if wrong > 0 {
		res.Output = fmt.Appendf(nil, "wrong %d", wrong)
	}
	return res
}

// simVote is keeper i's vote on sr: truth (honest), flipped (the
// opposite kind for a proof round, a wrong result for a compute round),
// or abstain. A compute round's leader uploads its output.
func simVote(sr *simRound, i int, kind lightkeeperv1.VoteKind, wrong int) *lightkeeperv1.Transaction {
	if !sr.compute || kind == abstain {
		return voteTx(sr.id, i, kind)
	}
	leader := sr.r != nil && sr.r.Committee[0] == keeperID(i)
	return computeVoteTx(testChain, sr.id, i, simResult(sr, wrong), leader)
}

// TestSimulation drives machines with random but seeded blocks — honest
// and Byzantine voters, late votes, replays, equivocations, forged
// signatures, outsiders, keepers going offline, time jumps of seconds to
// days — and checks the invariants after every block. A twin machine fed
// the same inputs must produce the same block hashes, and a machine
// restored from a snapshot mid-run must continue identically.
func TestSimulation(t *testing.T) {
	// Seeds whose runs reach every path checked at the end (committees
	// follow the genesis hash and the verifying-key ids, so which seeds do
	// changes with them).
	seeds := []int64{1, 2, 4, 5, 6, 7}
	const steps = 120
	if testing.Short() {
		seeds = seeds[:2]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { simulate(t, seed, steps) })
	}
}

func simulate(t *testing.T, seed int64, steps int) {
	rng := rand.New(rand.NewSource(seed))
	const n = 16
	p := protocol.DefaultParams()
	g := testGenesis(n, 0)
	for i, k := range g.Keepers {
		k.Stake = uint64(rng.Intn(1000)) // some may be 0
		if i < 8 {
			k.Stake += 1 // enough keepers always have stake
		}
	}
	// The shielded pool: depositors 40..43 put notes in, withdrawals take
	// them out (sometimes the same note twice, in one block or later).
	g.WithdrawalVerifyingKey = fakePoolVK
	const depositors = 4
	for j := range depositors {
		g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: keeperID(40 + j), Amount: 1_000_000})
	}
	type simNote struct {
		note  shielded.Note
		index uint64
	}
	var notes []simNote
	pending := map[[32]byte]shielded.Note{} // leaf → note, deposited this block
	spent := map[[32]byte]string{}          // nullifier → round that spent it
	var deposited, paid uint64
	m, gres, err := New(withParams(g, p))
	if err != nil {
		t.Fatal(err)
	}
	twin, _, _ := New(withParams(g, p))
	var restored *Machine
	restoreAt := steps/3 + rng.Intn(steps/3)

	index := map[string]int{}
	for i := 0; i < n+4; i++ {
		index[keeperID(i)] = i
	}
	rounds := map[string]*simRound{}
	decided := map[string]int{}
	closed := map[string]int{}
	evidence := map[string]bool{}
	rep := map[string]int64{}
	for _, k := range gres.Keepers {
		rep[k.Id] = k.Reputation
	}
	lastHash := gres.Block.Hash
	nonce := 0
	seen := map[string]int{} // what the run exercised

	var setup []*lightkeeperv1.Transaction
	for i := 0; i < n; i++ {
		setup = append(setup, registerTx(testChain, i), onlineTx(i, true))
	}
	setup = append(setup, vkTx(fakeVK, lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BN254))
	simProgram := fakeModule("sim", 0)
	setup = append(setup, programTx(simProgram))
	now := testGenesisMs

	check := func(step int, res *Result) {
		t.Helper()
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d step %d: %s", seed, step, fmt.Sprintf(format, args...))
		}
		b := res.Block
		if !bytes.Equal(b.Header.PreviousHash, lastHash) || !bytes.Equal(b.Hash, protocol.BlockHash(b.Header)) {
			fail("hash chain broken")
		}
		lastHash = b.Hash
		for _, c := range b.Certificates {
			if err := protocol.VerifyCertificateInBlock(served(c), p, b); err != nil {
				fail("certificate: %v", err)
			}
		}
		for _, e := range res.Events {
			switch e := e.(type) {
			case DepositAdded:
				n, ok := pending[e.Leaf]
				if !ok {
					fail("deposit of an unknown leaf")
				}
				notes = append(notes, simNote{n, e.Index})
				deposited += e.Amount
				seen["deposit"]++
			case WithdrawalPaid:
				// The invariant: no nullifier is ever spent twice.
				nf := [32]byte(e.Spent.Nullifier)
				if prev, dup := spent[nf]; dup {
					fail("nullifier %x spent twice (rounds %s and %s)", nf[:4], prev, e.Spent.RoundId)
				}
				spent[nf] = e.Spent.RoundId
				paid += e.Spent.Amount
				seen["withdrawal paid"]++
			case WithdrawalVoided:
				seen["withdrawal voided"]++
			case RoundDecided:
				seen[protocol.OutcomeName(e.Round.Outcome)]++
				if e.Round.Kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
					seen["COMPUTE "+protocol.OutcomeName(e.Round.Outcome)]++
				}
				decided[e.Round.Id]++
				if decided[e.Round.Id] > 1 {
					fail("round %s decided twice", e.Round.Id)
				}
			case RoundClosed:
				closed[e.Round.Id]++
				if closed[e.Round.Id] > 1 || decided[e.Round.Id] != 1 {
					fail("round %s closed twice or before it was decided", e.Round.Id)
				}
			case VoteAccepted:
				if e.Late {
					seen["late"]++
				}
			case ReputationChanged:
				seen[e.Cause]++
				if rep[e.KeeperID] != e.From {
					fail("reputation event from %d, tracked %d", e.From, rep[e.KeeperID])
				}
				rep[e.KeeperID] = e.To
			case EquivocationDetected:
				key := e.Evidence.RoundId + e.Evidence.KeeperId
				if evidence[key] {
					fail("evidence twice for one member and round")
				}
				evidence[key] = true
			case KeeperRegistered:
				if _, ok := rep[e.KeeperID]; !ok {
					rep[e.KeeperID] = p.ReputationInitial
				}
			}
		}
		accepted := 0
		for _, tr := range res.TxResults {
			if tr.VoteStatus == lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED {
				accepted++
			}
			if tr.VoteStatus != 0 {
				seen[tr.VoteStatus.String()]++
			}
		}
		if accepted != len(eventsOf[VoteAccepted](res)) {
			fail("%d ACCEPTED statuses, %d VoteAccepted events", accepted, len(eventsOf[VoteAccepted](res)))
		}
		for _, r := range res.Rounds {
			checkRound(t, fail, r)
			if sr := rounds[r.Id]; sr != nil {
				sr.r = r
			}
		}
		for _, k := range m.Keepers() {
			if k.Reputation < p.ReputationMin || k.Reputation > p.ReputationMax {
				fail("keeper %s reputation %d out of bounds", k.Id, k.Reputation)
			}
			if rep[k.Id] != k.Reputation {
				fail("keeper %s reputation %d, events say %d", k.Id, k.Reputation, rep[k.Id])
			}
		}
		for _, o := range m.OpenRounds() {
			if o.Deadline.AsTime().UnixMilli() <= now {
				fail("round %s open past its deadline", o.Id)
			}
		}
		for _, sn := range res.SpentNullifiers {
			if c := certOf(b, sn.RoundId); c == nil || c.Outcome != lightkeeperv1.Outcome_OUTCOME_APPROVED {
				fail("nullifier spent by round %s without an APPROVED certificate in its block", sn.RoundId)
			}
		}
		if m.PoolBalance() != deposited-paid {
			fail("pool balance %d, deposited %d - paid %d", m.PoolBalance(), deposited, paid)
		}
		if st := m.Staking(); m.TotalSupply() != st.GenesisSupply+st.TotalMinted {
			fail("supply %d, want %d", m.TotalSupply(), st.GenesisSupply+st.TotalMinted)
		}
		clear(pending)
	}

	apply := func(step int, txs []*lightkeeperv1.Transaction) *Result {
		t.Helper()
		in := BlockInput{TimeUnixMilli: now, Txs: txs}
		res, err := noted(m.ApplyBlock(in))
		if err != nil {
			t.Fatal(err)
		}
		res2, err := noted(twin.ApplyBlock(in))
		if err != nil || !bytes.Equal(res.Block.Hash, res2.Block.Hash) {
			t.Fatalf("seed %d step %d: twin diverged (%v)", seed, step, err)
		}
		if restored != nil {
			res3, err := noted(restored.ApplyBlock(in))
			if err != nil || !bytes.Equal(res.Block.Hash, res3.Block.Hash) || len(res.Events) != len(res3.Events) {
				t.Fatalf("seed %d step %d: restored machine diverged (%v)", seed, step, err)
			}
		}
		checkIndexes(t, seed, step, m, twin, restored)
		check(step, res)
		for _, tr := range res.TxResults {
			if tr.Round != nil && tr.Err == nil {
				sr := rounds[tr.RoundID]
				sr.r = tr.Round
			}
		}
		return res
	}
	apply(0, setup)

	for step := 1; step <= steps; step++ {
		if step == restoreAt {
			restored, err = Restore(m.Snapshot())
			if err != nil {
				t.Fatal(err)
			}
		}
		switch x := rng.Intn(100); {
		case x < 60:
			now += rng.Int63n(5000)
		case x < 95:
			now += 10_000 + rng.Int63n(30_000)
		default:
			now += int64(1+rng.Intn(3)) * MillisPerDay
		}
		var txs []*lightkeeperv1.Transaction
		for j := range depositors {
			if rng.Intn(4) > 0 {
				continue
			}
			note, _ := shielded.NewNote(rng, uint64(1+rng.Intn(1000)))
			acct, _ := m.Account(keeperID(40 + j))
			pre := note.Precommitment().Bytes()
			stx, err := protocol.SignTx(keeperKey(40+j), testChain, &lightkeeperv1.TxBody{Nonce: acct.GetNonce(),
				Msg: &lightkeeperv1.TxBody_Deposit{Deposit: &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: note.Amount}}})
			if err != nil {
				t.Fatal(err)
			}
			pending[note.Commitment().Bytes()] = note
			txs = append(txs, protocol.SignedTransaction(stx))
		}
		for range rng.Intn(3) {
			if len(notes) == 0 {
				break
			}
			sn := notes[rng.Intn(len(notes))] // spent already, maybe
			nonce++
			req := withdrawalRequest(m.pool.tree.Root(), sn.note.Nullifier(sn.index), sn.note.Amount, keeperID(44+rng.Intn(4)), fmt.Sprint("sim", nonce))
			id := protocol.RoundID(testChain, req)
			if m.NullifierSpent(req.GetWithdrawal().Nullifier) {
				continue // refused at submission
			}
			rounds[id] = &simRound{id: id, valid: true, voted: map[int]bool{}}
			txs = append(txs, submitTx(req))
			if rng.Intn(2) == 0 { // a second round for the same note
				nonce++
				req2 := proto.Clone(req).(*lightkeeperv1.RoundRequest)
				req2.ClientNonce = fmt.Sprint("sim", nonce)
				id2 := protocol.RoundID(testChain, req2)
				rounds[id2] = &simRound{id: id2, valid: true, voted: map[int]bool{}}
				txs = append(txs, submitTx(req2))
			}
		}
		for range rng.Intn(3) {
			nonce++
			req := proofRequest(vkID(fakeVK), fmt.Sprint("sim", nonce))
			isCompute := rng.Intn(3) == 0
			if isCompute {
				req = computeRequest(programID(simProgram), "input", 5000, fmt.Sprint("sim", nonce))
			}
			id := protocol.RoundID(testChain, req)
			rounds[id] = &simRound{id: id, valid: rng.Intn(3) > 0, compute: isCompute, voted: map[int]bool{}}
			txs = append(txs, submitTx(req))
			if rng.Intn(10) == 0 { // an idempotent resubmission
				txs = append(txs, submitTx(req))
			}
		}
		for _, id := range sortedKeys(rounds) {
			sr := rounds[id]
			if sr.r == nil || closed[id] > 0 {
				if sr.r != nil && rng.Intn(20) == 0 { // a vote after the close
					txs = append(txs, voteTx(id, index[sr.r.Committee[0]], approve))
				}
				continue
			}
			for _, kid := range sr.r.Committee {
				i := index[kid]
				if rng.Intn(3) == 0 { // not this block: arrives later or never
					continue
				}
				if sr.voted[i] {
					if rng.Intn(10) == 0 { // replay
						txs = append(txs, simVote(sr, i, truth(sr), 0))
					}
					continue
				}
				kind, wrong := truth(sr), 0
				switch i % 8 {
				case byzantine:
					kind, wrong = flip(kind), 1
					if sr.compute && rng.Intn(2) == 0 {
						kind = truth(sr) // a wrong result of the right kind
					}
				case lazy:
					if rng.Intn(4) > 0 {
						continue
					}
				case abstainer:
					if rng.Intn(2) == 0 {
						kind = abstain
					}
				case forger:
					if rng.Intn(3) == 0 {
						tx := simVote(sr, i, kind, 0)
						tx.GetCastVote().Vote.Signature[3] ^= 0x10
						txs = append(txs, tx)
						continue
					}
				}
				if sr.compute && kind != abstain && kind != truth(sr) && wrong == 0 {
					wrong = 1
				}
				sr.voted[i] = true
				txs = append(txs, simVote(sr, i, kind, wrong))
				if i%8 == equivocator && rng.Intn(2) == 0 {
					if sr.compute {
						txs = append(txs, simVote(sr, i, kind, 2+rng.Intn(2)))
					} else {
						txs = append(txs, voteTx(id, i, flip(kind)))
					}
				}
			}
			if rng.Intn(10) == 0 { // an outsider
				txs = append(txs, voteTx(id, n+rng.Intn(4), approve))
			}
		}
		if rng.Intn(8) == 0 {
			txs = append(txs, onlineTx(rng.Intn(n), rng.Intn(3) > 0))
		}
		if rng.Intn(20) == 0 {
			txs = append(txs, registerTx(testChain, n+rng.Intn(4)))
		}
		rng.Shuffle(len(txs), func(i, j int) { txs[i], txs[j] = txs[j], txs[i] })
		res := apply(step, txs)
		for i, tr := range res.TxResults {
			if sub := txs[i].GetSubmitRound(); sub != nil && tr.Err != nil {
				if tr.RoundID == "" || !m.KnownRound(tr.RoundID) {
					delete(rounds, protocol.RoundID(testChain, sub.Request)) // refused (not enough keepers)
				}
			}
		}
	}
	// Let every round run out.
	now += 31_000
	apply(steps+1, nil)
	for id := range rounds {
		if decided[id] != 1 || closed[id] != 1 {
			t.Fatalf("seed %d: round %s decided %d, closed %d times", seed, id, decided[id], closed[id])
		}
	}
	if len(m.OpenRounds()) != 0 {
		t.Fatal("rounds left open")
	}
	if !snapshotsEqual(m.Snapshot(), twin.Snapshot()) || (restored != nil && !snapshotsEqual(m.Snapshot(), restored.Snapshot())) {
		t.Fatalf("seed %d: final states differ", seed)
	}
	for _, want := range []string{"deposit", "withdrawal paid", "withdrawal voided", "APPROVED", "REJECTED", "TIMEOUT", "late", "COMPUTE APPROVED", "COMPUTE REJECTED", "COMPUTE TIMEOUT", CauseCorrect, CauseIncorrect, CauseTimeout, CauseDecay,
		"VOTE_STATUS_DUPLICATE", "VOTE_STATUS_EQUIVOCATION", "VOTE_STATUS_BAD_SIGNATURE", "VOTE_STATUS_NOT_IN_COMMITTEE", "VOTE_STATUS_ROUND_CLOSED"} {
		if seen[want] == 0 {
			t.Errorf("seed %d: the run never exercised %s", seed, want)
		}
	}
	t.Logf("seed %d: %d rounds, %d evidence, %v", seed, len(rounds), len(evidence), seen)
}

func truth(sr *simRound) lightkeeperv1.VoteKind {
	if sr.valid {
		return approve
	}
	return reject
}

func flip(k lightkeeperv1.VoteKind) lightkeeperv1.VoteKind {
	if k == approve {
		return reject
	}
	return approve
}

// checkRound checks a round record against its own votes.
func checkRound(t *testing.T, fail func(string, ...any), r *lightkeeperv1.Round) {
	t.Helper()
	if r.Kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE {
		checkComputeRound(fail, r)
		return
	}
	outcome := r.Outcome
	if Voided(r) {
		outcome = lightkeeperv1.Outcome_OUTCOME_APPROVED // reached by the tally, then not payable
	}
	seen := map[string]bool{}
	var a, rj, ab uint32
	tally := func(votes []*lightkeeperv1.Vote) (a, r uint32) {
		for _, v := range votes {
			switch v.Kind {
			case approve:
				a++
			case reject:
				r++
			}
		}
		return
	}
	for _, v := range r.Votes {
		if !slices.Contains(r.Committee, v.KeeperId) || seen[v.KeeperId] || v.RoundId != r.Id {
			fail("round %s: vote by %s is not from a distinct member", r.Id, v.KeeperId)
		}
		seen[v.KeeperId] = true
		switch v.Kind {
		case approve:
			a++
		case reject:
			rj++
		case abstain:
			ab++
		}
	}
	if a != r.Approvals || rj != r.Rejections || ab != r.Abstentions {
		t.Helper()
		fail("round %s: tally %d/%d/%d, votes say %d/%d/%d", r.Id, r.Approvals, r.Rejections, r.Abstentions, a, rj, ab)
	}
	if r.Phase == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
		if r.Outcome != 0 || a >= r.Threshold || rj >= r.RejectThreshold {
			fail("round %s: voting with outcome %v or a reached threshold", r.Id, r.Outcome)
		}
		return
	}
	d := int(r.DecidedVotes)
	if d > len(r.Votes) {
		fail("round %s: decided_votes %d > %d", r.Id, d, len(r.Votes))
	}
	da, dr := tally(r.Votes[:d])
	switch outcome {
	case lightkeeperv1.Outcome_OUTCOME_APPROVED, lightkeeperv1.Outcome_OUTCOME_REJECTED:
		// Decided at the first vote that reached a threshold.
		pa, pr := tally(r.Votes[:d-1])
		if pa >= r.Threshold || pr >= r.RejectThreshold {
			fail("round %s: decided late", r.Id)
		}
		if (outcome == lightkeeperv1.Outcome_OUTCOME_APPROVED) != (da >= r.Threshold) ||
			(outcome == lightkeeperv1.Outcome_OUTCOME_REJECTED) != (dr >= r.RejectThreshold) {
			fail("round %s: outcome %v with %d/%d", r.Id, outcome, da, dr)
		}
	case lightkeeperv1.Outcome_OUTCOME_TIMEOUT:
		if da >= r.Threshold || dr >= r.RejectThreshold || d != len(r.Votes) || r.Phase != lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
			fail("round %s: bad TIMEOUT", r.Id)
		}
	default:
		fail("round %s: phase %v without outcome", r.Id, r.Phase)
	}
}

// checkComputeRound checks a compute round: it is decided by the first vote
// that makes threshold votes of one kind agree on one result hash, with
// that result; no vote keeps an uploaded output once it is decided; the
// result's output, when known, hashes to its output_hash.
func checkComputeRound(fail func(string, ...any), r *lightkeeperv1.Round) {
	if r.Threshold != r.RejectThreshold || 2*r.Threshold <= uint32(len(r.Committee)) {
		fail("round %s: compute thresholds %d/%d for %d seats", r.Id, r.Threshold, r.RejectThreshold, len(r.Committee))
	}
	// first returns the index of the vote at which some result first
	// reached the threshold, or -1.
	first := func(votes []*lightkeeperv1.Vote) int {
		count := map[string]uint32{}
		for i, v := range votes {
			if v.Kind == abstain {
				continue
			}
			k := fmt.Sprintf("%d/%x", v.Kind, v.ResultHash)
			if count[k]++; count[k] == r.Threshold {
				return i
			}
		}
		return -1
	}
	at := first(r.Votes)
	switch {
	case r.Phase == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING:
		if at >= 0 || r.Result != nil {
			fail("round %s: voting, but a result reached the threshold", r.Id)
		}
		return
	case r.Outcome == lightkeeperv1.Outcome_OUTCOME_TIMEOUT:
		if at >= 0 || r.Result != nil || int(r.DecidedVotes) != len(r.Votes) {
			fail("round %s: bad compute TIMEOUT", r.Id)
		}
	default:
		if at < 0 || int(r.DecidedVotes) != at+1 || !bytes.Equal(r.Votes[at].ResultHash, r.ResultHash) {
			fail("round %s: decided at vote %d of %d, first agreement at %d", r.Id, r.DecidedVotes, len(r.Votes), at)
		}
		want := lightkeeperv1.Outcome_OUTCOME_APPROVED
		if r.Votes[at].Kind == reject {
			want = lightkeeperv1.Outcome_OUTCOME_REJECTED
		}
		if r.Outcome != want {
			fail("round %s: outcome %v, agreed kind %v", r.Id, r.Outcome, r.Votes[at].Kind)
		}
		res := r.Result
		h := protocol.ComputeResultHash(res.GetTrap(), res.GetExitCode(), res.GetFuelUsed(), [32]byte(res.GetOutputHash()))
		if !bytes.Equal(h[:], r.ResultHash) {
			fail("round %s: result does not open result_hash", r.Id)
		}
		if len(res.Output) > 0 && !OutputKnown(res) {
			fail("round %s: output does not hash to output_hash", r.Id)
		}
	}
	for _, v := range r.Votes {
		if len(v.GetCompute().GetOutput()) > 0 {
			fail("round %s: a decided round keeps an output in a vote", r.Id)
		}
	}
}

// certOf is the certificate of round id in block b, or nil.
func certOf(b *lightkeeperv1.Block, id string) *lightkeeperv1.Certificate {
	for _, c := range b.Certificates {
		if c.RoundId == id {
			return c
		}
	}
	return nil
}
