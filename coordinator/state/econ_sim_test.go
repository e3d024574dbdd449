package state

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

var econSeed = flag.Int64("econ.seed", 0, "run TestEconomySimulation with this seed only (the failing seed it printed)")
var econSteps = flag.Int("econ.steps", 0, "blocks per TestEconomySimulation run (default 1500, 400 with -short)")

func economyEqual(a, b Snapshot) bool {
	list := func(s Snapshot) []proto.Message {
		out := []proto.Message{s.Staking}
		for _, x := range s.Accounts {
			out = append(out, x)
		}
		for _, x := range s.Guarantees {
			out = append(out, x)
		}
		for _, x := range s.Groups {
			out = append(out, x)
		}
		for _, x := range s.Unbonding {
			out = append(out, x)
		}
		return out
	}
	x, y := list(a), list(b)
	if len(x) != len(y) || !slices.Equal(a.RoundHeights, b.RoundHeights) {
		return false
	}
	for i := range x {
		if !proto.Equal(x[i], y[i]) {
			return false
		}
	}
	return true
}

// TestEconomySimulation drives the machine with seeded random blocks of
// signed economy transactions (transfers, bonds, unbonds and cancels,
// guarantees, groups, unjails, evidence, paid submissions) together with
// rounds, honest and Byzantine votes, equivocation, downtime and epoch
// turns, and after every block checks the invariants of docs/design.md §9: total
// supply conserved (genesis + minted = balances + bonds + guarantees +
// unbonding + fee pot + community fund), no amount wrapped below zero,
// effective stake ≤ limit, a candidate's effective stake ≤ min(limit,
// backing), no jailed, tombstoned, under-bonded or unelected keeper drawn
// into a committee, caps respected, epoch statements that add up. A twin
// fed the same blocks and a machine restored mid-run must agree, and a
// second run from the same seed must produce the same ledger. A failure
// prints its seed; rerun it with -econ.seed=N.
func TestEconomySimulation(t *testing.T) {
	seeds := []int64{14, 12, 13}
	steps := 1500
	if testing.Short() {
		seeds, steps = seeds[:1], 400
	}
	if *econSteps > 0 {
		steps = *econSteps
	}
	if *econSeed != 0 {
		seeds = []int64{*econSeed}
	}
	for i, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			hashes := simulateEconomy(t, seed, steps)
			if i == 0 {
				again := simulateEconomy(t, seed, steps)
				if !slices.EqualFunc(hashes, again, bytes.Equal) {
					t.Fatalf("seed %d: a second run produced a different ledger", seed)
				}
			}
		})
	}
}

const (
	econKeepers  = 16 // genesis keepers 0..15
	econNewcomer = 16 // 16..17 register later and bond
	econAccounts = 20 // plain accounts 20..25
)

func econParams(seed int64) *lightkeeperv1.ConsensusParams {
	p := protocol.DefaultParams()
	p.TotalValidators, p.Threshold = 6, 4
	p.VerificationTimeout = durationpb.New(60 * time.Second)
	s := p.Staking
	s.MinSelfBond = 50
	s.UnbondingPeriod = durationpb.New(30 * time.Minute)
	s.MaxUnbondingEntries = 4
	s.MaxGuarantees = 3
	s.MaxGroupSize = 3
	s.EpochLength = durationpb.New(10 * time.Minute)
	s.MaxElected = 12
	s.ElectabilityThresholdBps = 100
	s.StakePerUnit = 20
	s.InitialCapacity = 20
	s.MinTxFee = 1
	if seed%2 == 1 {
		s.FeePerWorkUnit = 3
	}
	p.Rewards.EpochIssuance = 5_000
	p.Rewards.IssuanceCap = 200_000
	sl := p.Slashing
	sl.SlashIncorrectBps = 300
	sl.SlashEquivocationBps = 2_000
	sl.DowntimeWindow, sl.DowntimeMaxMissed = 8, 5
	sl.DowntimeJail = durationpb.New(3 * time.Minute)
	sl.ForgivenessPeriod = durationpb.New(25 * time.Minute)
	return p
}

type econSim struct {
	t        *testing.T
	seed     int64
	rng      *rand.Rand
	p        *lightkeeperv1.ConsensusParams
	m, twin  *Machine
	restored *Machine
	now      int64
	index    map[string]int
	nonce    map[int]uint64 // signer → next nonce in the block being built
	rounds   map[string]*lightkeeperv1.Round
	voted    map[string]map[int]lightkeeperv1.VoteKind // round → keeper → its vote
	open     []string                                  // round ids still open (by the machine)
	vk, vkp  string
	nreq     int
	seen     map[string]int
	hashes   [][]byte
}

func simulateEconomy(t *testing.T, seed int64, steps int) [][]byte {
	rng := rand.New(rand.NewSource(seed))
	p := econParams(seed)
	g := testGenesis(econKeepers, 0)
	for _, k := range g.Keepers {
		k.Stake = 40 + uint64(rng.Intn(400)) // some start under min_self_bond
	}
	for i := 0; i < econAccounts+6; i++ {
		g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: keeperID(i), Amount: uint64(2_000 + rng.Intn(5_000))})
	}
	m, gres, err := New(withParams(g, p))
	if err != nil {
		t.Fatal(err)
	}
	twin, _, _ := New(withParams(g, p))
	s := &econSim{t: t, seed: seed, rng: rng, p: p, m: m, twin: twin, now: testGenesisMs, index: map[string]int{},
		rounds: map[string]*lightkeeperv1.Round{}, voted: map[string]map[int]lightkeeperv1.VoteKind{}, vk: vkID(fakeVK), vkp: vkID(testVK("plonk_bn254")), seen: map[string]int{}}
	for i := 0; i < econAccounts+6; i++ {
		s.index[keeperID(i)] = i
	}
	s.hashes = append(s.hashes, gres.Block.Hash)
	s.checkEconomy(0, gres)

	var setup []*lightkeeperv1.Transaction
	for i := 0; i < econKeepers; i++ {
		setup = append(setup, registerTx(testChain, i), onlineTx(i, true))
	}
	setup = append(setup, vkTx(fakeVK, lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BN254),
		vkTx(testVK("plonk_bn254"), lightkeeperv1.Scheme_SCHEME_PLONK, lightkeeperv1.Curve_CURVE_BN254))
	s.apply(0, setup)

	restoreAt := steps/3 + rng.Intn(steps/3)
	for step := 1; step <= steps; step++ {
		if step == restoreAt {
			if s.restored, err = Restore(m.Snapshot()); err != nil {
				t.Fatalf("seed %d: restore: %v", seed, err)
			}
		}
		switch x := rng.Intn(100); {
		case x < 70:
			s.now += 500 + rng.Int63n(4_000)
		case x < 97:
			s.now += 20_000 + rng.Int63n(60_000)
		default:
			s.now += 9*60_000 + rng.Int63n(30*60_000) // epoch turns, unbonding completes
		}
		s.nonce = map[int]uint64{}
		var txs []*lightkeeperv1.Transaction
		for range rng.Intn(6) {
			if tx := s.randomEconomyTx(); tx != nil {
				txs = append(txs, tx)
			}
		}
		for range rng.Intn(3) {
			txs = append(txs, s.submission())
		}
		txs = append(txs, s.votes()...)
		if rng.Intn(10) == 0 {
			txs = append(txs, onlineTx(rng.Intn(econKeepers+2), rng.Intn(4) > 0))
		}
		if rng.Intn(30) == 0 {
			i := econNewcomer + rng.Intn(2)
			txs = append(txs, registerTx(testChain, i), onlineTx(i, true))
		}
		s.apply(step, txs)
	}
	for _, want := range []string{"slashed " + CauseIncorrect, "slashed " + CauseEquivocation, "jailed " + CauseDowntime, "unjailed",
		"epoch paid", "unbonding completed", "unbonding cancelled", "group joined", "guaranteed", "evidence tx", "election changed",
		"transfer", "reporter paid", "stage two"} {
		if s.seen[want] == 0 {
			t.Errorf("seed %d: the run never exercised %q", seed, want)
		}
	}
	if !snapshotsEqual(m.Snapshot(), twin.Snapshot()) || (s.restored != nil && !snapshotsEqual(m.Snapshot(), s.restored.Snapshot())) {
		t.Fatalf("seed %d: final states differ", seed)
	}
	st := m.Staking()
	t.Logf("seed %d: %d blocks, epoch %d, minted %d, slashed %d, fees %d, community %d, %v", seed, steps, st.Epoch,
		st.TotalMinted, st.TotalSlashed, st.TotalFees, st.CommunityFund, s.seen)
	return s.hashes
}

// signed builds a signed transaction by key i with the next nonce.
func (s *econSim) signed(i int, fee uint64, msg func(b *lightkeeperv1.TxBody)) *lightkeeperv1.Transaction {
	n, ok := s.nonce[i]
	if !ok {
		acct, _ := s.m.Account(keeperID(i))
		n = acct.Nonce
	}
	s.nonce[i] = n + 1
	b := &lightkeeperv1.TxBody{Nonce: n, Fee: fee}
	msg(b)
	stx, err := protocol.SignTx(keeperKey(i), testChain, b)
	if err != nil {
		s.t.Fatal(err)
	}
	return protocol.SignedTransaction(stx)
}

func (s *econSim) randomEconomyTx() *lightkeeperv1.Transaction {
	rng := s.rng
	keeper := rng.Intn(econKeepers + 2)
	acct := econAccounts + rng.Intn(6)
	anyKey := []int{keeper, acct}[rng.Intn(2)]
	fee := uint64(1 + rng.Intn(3))
	amount := uint64(1 + rng.Intn(300))
	target := keeperID(rng.Intn(econKeepers + 2))
	if rng.Intn(4) == 0 { // back a group (an account that may own one)
		target = keeperID(econAccounts + rng.Intn(3))
	}
	switch x := rng.Intn(100); {
	case x < 10:
		return s.signed(anyKey, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Transfer{Transfer: &lightkeeperv1.TransferMsg{To: keeperID(rng.Intn(econAccounts + 6)), Amount: amount}}
		})
	case x < 22:
		return s.signed(keeper, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Bond{Bond: &lightkeeperv1.BondMsg{Amount: amount}}
		})
	case x < 30:
		return s.signed(keeper, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Unbond{Unbond: &lightkeeperv1.UnbondMsg{Amount: amount / 3}}
		})
	case x < 36:
		var ids []uint64
		for _, e := range s.m.Unbonding(keeperID(anyKey)) {
			ids = append(ids, e.Id)
		}
		if len(ids) == 0 {
			return nil
		}
		id := ids[rng.Intn(len(ids))]
		return s.signed(anyKey, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_CancelUnbond{CancelUnbond: &lightkeeperv1.CancelUnbondMsg{EntryId: id}}
		})
	case x < 52:
		return s.signed(acct, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Guarantee{Guarantee: &lightkeeperv1.GuaranteeMsg{Target: target, Amount: amount}}
		})
	case x < 60:
		gs := s.m.Guarantees(keeperID(acct), "")
		if len(gs) == 0 {
			return nil
		}
		g := gs[rng.Intn(len(gs))]
		amt := min(g.Amount, 1+uint64(rng.Int63n(int64(g.Amount))))
		return s.signed(acct, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Unguarantee{Unguarantee: &lightkeeperv1.UnguaranteeMsg{Target: g.TargetId, Amount: amt}}
		})
	case x < 64:
		owner := econAccounts + rng.Intn(3)
		return s.signed(owner, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_GroupCreate{GroupCreate: &lightkeeperv1.GroupCreateMsg{CommissionBps: uint32(rng.Intn(3_000))}}
		})
	case x < 74:
		owner := keeperID(econAccounts + rng.Intn(3))
		signer := keeper
		if rng.Intn(2) == 0 {
			signer = s.index[owner] // the owner invites
		}
		return s.signed(signer, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_GroupJoin{GroupJoin: &lightkeeperv1.GroupJoinMsg{GroupId: owner, KeeperId: keeperID(keeper)}}
		})
	case x < 78:
		k, _ := s.m.Keeper(keeperID(keeper))
		if k.GetGroupId() == "" {
			return nil
		}
		return s.signed(keeper, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_GroupLeave{GroupLeave: &lightkeeperv1.GroupLeaveMsg{GroupId: k.GroupId, KeeperId: k.Id}}
		})
	case x < 88:
		k, _ := s.m.Keeper(keeperID(keeper))
		if !k.GetJailed() && rng.Intn(4) > 0 {
			return nil
		}
		return s.signed(keeper, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Unjail{Unjail: &lightkeeperv1.UnjailMsg{}}
		})
	case x < 91:
		// Evidence against a keeper of the equivocator class, made from two
		// conflicting votes it "signed" for a known round.
		if len(s.rounds) == 0 {
			return nil
		}
		ids := sortedKeys(s.rounds)
		rid := ids[rng.Intn(len(ids))]
		culprit := 8 // the equivocator class (index % 4 == 0) contains 0, 4, 8, 12
		for _, c := range []int{8, 4, 12, 0} {
			if k, _ := s.m.Keeper(keeperID(c)); !k.Tombstoned {
				culprit = c
				break
			}
		}
		v1 := voteTx(rid, culprit, approve).GetCastVote().Vote
		v2 := voteTx(rid, culprit, reject).GetCastVote().Vote
		return s.signed(acct, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Evidence{Evidence: &lightkeeperv1.EvidenceMsg{First: v1, Second: v2}}
		})
	default:
		// Garbage: a bad signature or a stale nonce.
		tx := s.signed(anyKey, fee, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Transfer{Transfer: &lightkeeperv1.TransferMsg{To: keeperID(0), Amount: 1}}
		})
		tx.GetSigned().Signature[5] ^= 4
		return tx
	}
}

// submission opens a round: signed and paid when rounds have a price.
func (s *econSim) submission() *lightkeeperv1.Transaction {
	s.nreq++
	vk := s.vk
	req := proofRequest(vk, fmt.Sprint("econ", s.seed, "-", s.nreq))
	if s.rng.Intn(3) == 0 {
		req.GetProof().Scheme = lightkeeperv1.Scheme_SCHEME_PLONK
		req.GetProof().VerifyingKeyId = s.vkp
	}
	if s.p.Staking.FeePerWorkUnit == 0 {
		return submitTx(req)
	}
	return s.signed(econAccounts+s.rng.Intn(6), 1, func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundMsg{Request: req}}
	})
}

// votes casts the committee members' votes on open rounds. By index mod 4:
// 0 equivocates sometimes, 1 votes against the truth sometimes, 2 is often
// silent (downtime), 3 is honest. A round's truth is its id's last bit.
func (s *econSim) votes() []*lightkeeperv1.Transaction {
	var txs []*lightkeeperv1.Transaction
	for _, id := range s.open {
		r := s.rounds[id]
		truth := approve
		if id[63]%2 == 0 {
			truth = reject
		}
		if s.voted[id] == nil {
			s.voted[id] = map[int]lightkeeperv1.VoteKind{}
		}
		for _, kid := range r.Committee {
			i := s.index[kid]
			if s.rng.Intn(3) == 0 {
				continue
			}
			if k, ok := s.voted[id][i]; ok { // already voted: sometimes a replay
				if s.rng.Intn(10) == 0 {
					txs = append(txs, voteTx(id, i, k))
				}
				continue
			}
			kind := truth
			switch i % 4 {
			case 1:
				if s.rng.Intn(3) == 0 {
					kind = flip(truth)
				}
			case 2:
				if s.rng.Intn(2) > 0 {
					continue
				}
			}
			s.voted[id][i] = kind
			txs = append(txs, voteTx(id, i, kind))
			if i%4 == 0 && s.rng.Intn(15) == 0 {
				txs = append(txs, voteTx(id, i, flip(kind)))
			}
		}
	}
	s.rng.Shuffle(len(txs), func(i, j int) { txs[i], txs[j] = txs[j], txs[i] })
	return txs
}

var debugHook func(m *Machine, step int)

func (s *econSim) apply(step int, txs []*lightkeeperv1.Transaction) {
	t := s.t
	if debugHook != nil {
		defer debugHook(s.m, step)
	}
	in := BlockInput{TimeUnixMilli: s.now, Txs: txs}
	before := map[string]*lightkeeperv1.Keeper{}
	for _, k := range s.m.Keepers() {
		before[k.Id] = k
	}
	res, err := noted(s.m.ApplyBlock(in))
	if err != nil {
		t.Fatalf("seed %d step %d: %v", s.seed, step, err)
	}
	res2, err := noted(s.twin.ApplyBlock(in))
	if err != nil || !bytes.Equal(res.Block.Hash, res2.Block.Hash) {
		t.Fatalf("seed %d step %d: twin diverged (%v)", s.seed, step, err)
	}
	if s.restored != nil {
		res3, err := noted(s.restored.ApplyBlock(in))
		if err != nil || !bytes.Equal(res.Block.Hash, res3.Block.Hash) || len(res.Events) != len(res3.Events) {
			t.Fatalf("seed %d step %d: restored machine diverged (%v)", s.seed, step, err)
		}
	}
	s.hashes = append(s.hashes, res.Block.Hash)
	checkIndexes(t, s.seed, step, s.m, s.twin, s.restored)
	s.checkCommittees(step, res, before)
	s.checkEconomy(step, res)
	for i, tr := range res.TxResults {
		if tr.Err != nil && (txs[i].GetSubmitRound() != nil || txs[i].GetSigned().GetBody() != nil) {
			s.seen["refused: "+strings.SplitN(tr.Err.Error(), ":", 2)[0]]++
		}
		if st := txs[i].GetSigned(); st != nil && tr.Err == nil {
			body, _, _ := protocol.VerifyTx(testChain, st)
			switch body.Msg.(type) {
			case *lightkeeperv1.TxBody_Evidence:
				s.seen["evidence tx"]++
			case *lightkeeperv1.TxBody_Transfer:
				s.seen["transfer"]++
			}
		}
	}
	for _, r := range res.Rounds {
		s.rounds[r.Id] = r
	}
	s.open = s.open[:0]
	for _, r := range s.m.OpenRounds() {
		s.open = append(s.open, r.Id)
	}
}

// checkCommittees replays the block's events: every committee drawn must
// consist of active-set keepers that were registered, not jailed or
// tombstoned and carried at least min_self_bond at that moment.
func (s *econSim) checkCommittees(step int, res *Result, before map[string]*lightkeeperv1.Keeper) {
	jailed := map[string]bool{}
	bond := map[string]uint64{}
	for id, k := range before {
		jailed[id] = k.Jailed || k.Tombstoned
		bond[id] = k.Stake
	}
	active := map[string]bool{}
	for _, id := range s.m.Staking().ActiveSet {
		active[id] = true
	}
	for _, e := range res.Events {
		switch e := e.(type) {
		case Jailed:
			jailed[e.KeeperID] = true
			s.seen["jailed "+e.Cause]++
		case Unjailed:
			jailed[e.KeeperID] = false
			s.seen["unjailed"]++
		case Slashed:
			s.seen["slashed "+e.Cause]++
			if e.Reporter != "" && e.ReporterShare > 0 {
				s.seen["reporter paid"]++
			}
		case RoundOpened:
			for _, id := range e.Round.Committee {
				if !active[id] || jailed[id] {
					s.t.Fatalf("seed %d step %d: round %s drew %s (active %t, jailed %t)", s.seed, step, e.Round.Id, id, active[id], jailed[id])
				}
			}
		case EpochEnded:
			if e.Record.Paid > 0 {
				s.seen["epoch paid"]++
			}
		case Elected:
			if !slices.Equal(sortedCopy(e.ActiveSet), sortedCopy(before0(before))) {
				s.seen["election changed"]++
			}
		case UnbondingCompleted:
			s.seen["unbonding completed"]++
		case UnbondingCancelled:
			s.seen["unbonding cancelled"]++
		case GroupChanged:
			s.seen["group "+strings.Fields(e.What)[0]]++
		case RoundDecided:
			s.seen["decided "+protocol.OutcomeName(e.Round.Outcome)]++
		case Guaranteed:
			s.seen["guaranteed"]++
		}
	}
}

func before0(ks map[string]*lightkeeperv1.Keeper) []string {
	var out []string
	for id, k := range ks {
		if k.Active {
			out = append(out, id)
		}
	}
	return out
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// checkEconomy checks the invariants on the machine's state after a block.
func (s *econSim) checkEconomy(step int, res *Result) {
	m := s.m
	fail := func(format string, args ...any) {
		s.t.Helper()
		s.t.Fatalf("seed %d step %d: %s", s.seed, step, fmt.Sprintf(format, args...))
	}
	st := m.Staking()
	if got, want := m.TotalSupply(), st.GenesisSupply+st.TotalMinted; got != want {
		fail("supply %d, want genesis %d + minted %d = %d", got, st.GenesisSupply, st.TotalMinted, want)
	}
	if st.TotalMinted > s.p.Rewards.IssuanceCap {
		fail("minted %d over the cap", st.TotalMinted)
	}
	small := func(what string, v uint64) {
		if v > protocol.MaxSupply {
			fail("%s = %d: wrapped below zero", what, v)
		}
	}
	small("community fund", st.CommunityFund)
	small("fee pot", st.FeePot)
	for _, a := range m.Accounts() {
		small("balance of "+a.Id, a.Balance)
	}
	sp := s.p.Staking
	for _, k := range m.Keepers() {
		small("bond of "+k.Id, k.Stake)
		if k.EffectiveStake > k.StakeLimit {
			fail("keeper %s: effective %d > limit %d", k.Id, k.EffectiveStake, k.StakeLimit)
		}
		if (k.Jailed || k.Tombstoned || k.Stake < sp.MinSelfBond) && k.EffectiveStake != 0 {
			fail("keeper %s: effective stake %d while not electable", k.Id, k.EffectiveStake)
		}
		if k.StakeLimit > 0 && k.StakeLimit < mulDiv(k.CapacityMilli, sp.StakePerUnit, protocol.MilliUnits) {
			fail("keeper %s: limit %d below its stage-one limit", k.Id, k.StakeLimit)
		}
		if k.StakeLimit > mulDiv(k.CapacityMilli, sp.StakePerUnit, protocol.MilliUnits) {
			s.seen["stage two"]++
		}
	}
	perGuarantor := map[string]int{}
	for _, g := range m.Guarantees("", "") {
		small("guarantee", g.Amount)
		if g.Amount == 0 {
			fail("zero guarantee kept")
		}
		perGuarantor[g.GuarantorId]++
	}
	for id, n := range perGuarantor {
		if n > int(sp.MaxGuarantees) {
			fail("%s backs %d targets", id, n)
		}
	}
	perOwner := map[string]int{}
	for _, e := range m.Unbonding("") {
		small("unbonding entry", e.Amount)
		if e.CompletesAt.AsTime().UnixMilli() <= s.now {
			fail("entry #%d past due", e.Id)
		}
		perOwner[e.OwnerId]++
	}
	for id, n := range perOwner {
		if n > int(sp.MaxUnbondingEntries) {
			fail("%s has %d entries", id, n)
		}
	}
	for _, g := range m.Groups() {
		if len(g.Members) > int(sp.MaxGroupSize) {
			fail("group %s has %d members", g.Id, len(g.Members))
		}
		gs, _ := m.GroupStake(g.Id)
		var sum uint64
		for _, id := range g.Members {
			k, _ := m.Keeper(id)
			sum += k.EffectiveStake
			if k.GroupId != g.Id {
				fail("member %s of %s points to %q", id, g.Id, k.GroupId)
			}
		}
		if gs.Effective > min(gs.Limit, gs.Backing) || sum > gs.Effective {
			fail("group %s: members carry %d, effective %d, limit %d, backing %d", g.Id, sum, gs.Effective, gs.Limit, gs.Backing)
		}
	}
	if len(st.ActiveSet) > int(sp.MaxElected) || len(sortedCopy(st.ActiveSet)) != len(slices.Compact(sortedCopy(st.ActiveSet))) {
		fail("active set %v", st.ActiveSet)
	}
	for _, rec := range res.Epochs {
		if rec.Paid+rec.ToCommunityFund != rec.Fees+rec.Minted {
			fail("epoch %d: paid %d + fund %d != fees %d + minted %d", rec.Epoch, rec.Paid, rec.ToCommunityFund, rec.Fees, rec.Minted)
		}
		// Only the elected earn (candidates' challenges pay nothing).
		for _, rw := range rec.Rewards {
			if !slices.Contains(rec.ActiveSet, rw.KeeperId) {
				fail("epoch %d: keeper %s paid %d outside the active set", rec.Epoch, rw.KeeperId, rw.Share)
			}
		}
	}
	// Downtime: an elected keeper offline for more than the downtime share
	// of an epoch is jailed by its end, so it is not in the next active set.
	// (A tombstoned keeper was jailed by an equivocation in this block's
	// transactions, which run after the epoch closed and elected.)
	for _, rec := range res.Epochs {
		for _, id := range rec.NextActiveSet {
			if k, _ := m.Keeper(id); k.Jailed && !k.Tombstoned {
				fail("epoch %d: jailed keeper %s elected", rec.Epoch, id)
			}
		}
	}
}

// TestEconomyAdversaries runs the exploits of issue #15 against honest
// keepers of equal stake and capacity over six epochs, and checks for each
// that the strategy earns no more per unit of stake than honest
// participation:
//
//   - k2 votes wrong once, is slashed, and moves to a clean group it
//     controls (the penalty must follow it);
//   - k8, never elected, answers every candidates' challenge (candidates
//     must not be paid);
//   - k5 stays offline for most of every epoch and comes back before its
//     end (downtime must cost uptime and the seat);
//   - a guarantor grinds guarantee, unguarantee, cancel-unbond, bond and
//     group joins around the vote cap (TestVoteCapGrinding).
func TestEconomyAdversaries(t *testing.T) {
	const n, leaver, farmer, absent = 8, 2, 8, 5
	h := econHarness(t, n, func(p *lightkeeperv1.ConsensusParams) {
		p.Threshold = 6
		p.Staking.MaxElected = n
		p.Staking.StakePerUnit = 1_000
		p.Slashing.SlashIncorrectBps = 100
	})
	h.mutate(func(s *Snapshot) {
		s.Keepers = append(s.Keepers, newKeeper(keeperID(farmer), 1_000, h.m.params))
	})
	h.ok(h.apply(0, registerTx(testChain, farmer), onlineTx(farmer, true)))
	h.mustSigned(20, groupCreate) // honest group: k0, k1
	h.join(20, 0)
	h.join(20, 1)
	h.mustSigned(21, groupCreate) // the leaver's group
	h.join(21, leaver)
	h.join(21, 3)
	h.mustSigned(22, groupCreate) // the clean group the leaver controls
	for e := 0; e < 6; e++ {
		if e > 0 {
			h.ok(h.apply(0, onlineTx(absent, false)))
			if k := h.keeper(absent); k.Jailed && k.JailedUntil.AsTime().UnixMilli() <= h.now() {
				h.mustSigned(absent, func(b *lightkeeperv1.TxBody) {
					b.Msg = &lightkeeperv1.TxBody_Unjail{Unjail: &lightkeeperv1.UnjailMsg{}}
				})
			}
		}
		for r := 0; r < 5; r++ {
			if e == 1 && r == 0 {
				h.round(leaver)
				if h.keeper(leaver).GroupId != "" {
					h.mustSigned(leaver, groupLeave(21, leaver))
				}
				h.join(22, leaver)
				continue
			}
			h.round()
			if h.m.HasCandidates() {
				h.nonce++
				res := h.ok(h.apply(0, challengeTx(h.vk, fmt.Sprint("c", h.nonce), approve, true)))
				rd := res.TxResults[0].Round
				var txs []*lightkeeperv1.Transaction
				for _, i := range h.seats(rd) {
					txs = append(txs, voteTx(rd.Id, i, approve))
				}
				h.ok(h.apply(time.Second, txs...))
				h.apply(time.Minute)
			}
		}
		if e > 0 {
			// Back just before the epoch ends.
			if _, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: h.m.NextEpochAt() - 60_000, Txs: []*lightkeeperv1.Transaction{onlineTx(absent, true)}})); err != nil {
				t.Fatal(err)
			}
		}
		h.endEpoch()
	}
	perStake := func(i int) uint64 { k := h.keeper(i); return k.RewardsTotal * 1_000_000 / 1_000 }
	honest := perStake(4)
	for _, i := range []int{0, 1, 3, 6, 7} {
		honest = min(honest, perStake(i))
	}
	if honest == 0 {
		t.Fatal("honest keepers earned nothing: nothing was tested")
	}
	for _, adv := range []struct {
		name string
		i    int
	}{{"leave a group after a slash", leaver}, {"farm challenges while unelected", farmer}, {"go offline and keep the seat", absent}} {
		got := perStake(adv.i)
		t.Logf("%s (k%d): %d per million of stake; honest at least %d", adv.name, adv.i, got, honest)
		if got > honest {
			t.Errorf("%s (k%d) earned %d per million of stake, honest keepers at least %d", adv.name, adv.i, got, honest)
		}
	}
	if h.keeper(absent).Active {
		t.Errorf("the absent keeper kept its seat")
	}
}

// TestVoteCapGrinding: random guarantees, unguarantees, cancellations,
// bonds and group joins around the vote cap. Invariant: every accepted
// transaction that adds backing leaves its candidate at or under its cap.
func TestVoteCapGrinding(t *testing.T) {
	h := econHarness(t, 6, func(p *lightkeeperv1.ConsensusParams) {
		p.Staking.StakePerUnit = 1_000
		p.Staking.MaxGroupSize = 3
	})
	rng := rand.New(rand.NewSource(5))
	for i := 20; i < 26; i++ {
		h.m.accounts[keeperID(i)] = &lightkeeperv1.Account{Id: keeperID(i), Balance: 50_000}
	}
	for i := 0; i < 6; i++ {
		h.m.accounts[keeperID(i)] = &lightkeeperv1.Account{Id: keeperID(i), Balance: 20_000}
	}
	h.mustSigned(20, groupCreate)
	h.mustSigned(21, groupCreate)
	targets := []int{0, 1, 2, 3, 4, 5, 20, 21}
	accepted := 0
	for step := 0; step < 400; step++ {
		var signer int
		var msg func(b *lightkeeperv1.TxBody)
		var added string // candidate key whose backing the tx adds to
		switch rng.Intn(5) {
		case 0, 1:
			signer = 22 + rng.Intn(4)
			tgt := targets[rng.Intn(len(targets))]
			msg = guaranteeMsg(tgt, uint64(100+rng.Intn(3_000)))
			added, _ = h.m.candidateKeyOf(keeperID(tgt))
		case 2:
			signer = 22 + rng.Intn(4)
			tgt := targets[rng.Intn(len(targets))]
			msg = func(b *lightkeeperv1.TxBody) {
				b.Msg = &lightkeeperv1.TxBody_Unguarantee{Unguarantee: &lightkeeperv1.UnguaranteeMsg{Target: keeperID(tgt), Amount: uint64(100 + rng.Intn(2_000))}}
			}
		case 3:
			es := h.m.Unbonding("")
			if len(es) == 0 {
				continue
			}
			e := es[rng.Intn(len(es))]
			signer = h.index[e.OwnerId]
			msg = func(b *lightkeeperv1.TxBody) {
				b.Msg = &lightkeeperv1.TxBody_CancelUnbond{CancelUnbond: &lightkeeperv1.CancelUnbondMsg{EntryId: e.Id}}
			}
			added, _ = h.m.candidateKeyOf(e.TargetId)
		default:
			k := rng.Intn(6)
			if rng.Intn(2) == 0 {
				signer, msg = k, func(b *lightkeeperv1.TxBody) {
					b.Msg = &lightkeeperv1.TxBody_Bond{Bond: &lightkeeperv1.BondMsg{Amount: uint64(100 + rng.Intn(3_000))}}
				}
				added = candidateKeyOfKeeper(h.m.keepers[keeperID(k)])
			} else {
				g := 20 + rng.Intn(2)
				h.signed(g, groupJoin(g, k)) // invite (may fail: already member)
				signer, msg, added = k, groupJoin(g, k), "g"+keeperID(g)
			}
		}
		if r := h.signed(signer, msg); r.Err == nil && added != "" {
			accepted++
			if raw, cap := h.m.voteCap(added); raw > cap {
				t.Fatalf("step %d: %s accepted with backing %d above the cap %d", step, added[:9], raw, cap)
			}
		}
	}
	if accepted < 50 {
		t.Fatalf("only %d transactions adding backing were accepted", accepted)
	}
}
