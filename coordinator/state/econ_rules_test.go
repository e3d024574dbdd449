package state

import (
	"errors"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The seed rules of issue #15, one test each: every test failed before
// its fix (docs/economics.md §12 has the table of seed rules).

// econHarness: n keepers with stake 1,000, all in the committee (total =
// n, threshold = n−1), hour-long epochs, 10 % incorrect-vote slashes.
func econHarness(t *testing.T, n int, f func(p *lightkeeperv1.ConsensusParams)) *harness {
	t.Helper()
	p := protocol.DefaultParams()
	p.TotalValidators, p.Threshold = uint32(n), uint32(n-1)
	p.Staking.EpochLength = durationpb.New(time.Hour)
	p.Slashing.SlashIncorrectBps = 1_000
	p.Staking.StakePerUnit = 1
	p.Staking.MinSelfBond = 10
	if f != nil {
		f(p)
	}
	return newHarness(t, n, 1_000, p)
}

func (h *harness) signed(signer int, msg func(b *lightkeeperv1.TxBody)) TxResult {
	h.t.Helper()
	return signedOK(h.t.(*testing.T), h.m, 0, signer, msg)
}

func (h *harness) mustSigned(signer int, msg func(b *lightkeeperv1.TxBody)) {
	h.t.Helper()
	if r := h.signed(signer, msg); r.Err != nil {
		h.t.Fatalf("signed tx by %d: %v", signer, r.Err)
	}
}

func groupCreate(b *lightkeeperv1.TxBody) {
	b.Msg = &lightkeeperv1.TxBody_GroupCreate{GroupCreate: &lightkeeperv1.GroupCreateMsg{}}
}

func groupJoin(group, keeper int) func(b *lightkeeperv1.TxBody) {
	return func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_GroupJoin{GroupJoin: &lightkeeperv1.GroupJoinMsg{GroupId: keeperID(group), KeeperId: keeperID(keeper)}}
	}
}

func groupLeave(group, keeper int) func(b *lightkeeperv1.TxBody) {
	return func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_GroupLeave{GroupLeave: &lightkeeperv1.GroupLeaveMsg{GroupId: keeperID(group), KeeperId: keeperID(keeper)}}
	}
}

// join makes keeper a member of group (invitation and acceptance).
func (h *harness) join(group, keeper int) {
	h.t.Helper()
	h.mustSigned(group, groupJoin(group, keeper))
	h.mustSigned(keeper, groupJoin(group, keeper))
}

// round opens a round and has every member vote approve except those in
// wrong, who vote reject; it closes at the deadline.
func (h *harness) round(wrong ...int) {
	h.t.Helper()
	r := h.submit()
	var txs []*lightkeeperv1.Transaction
	for _, id := range r.Committee {
		kind := lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
		for _, w := range wrong {
			if h.index[id] == w {
				kind = lightkeeperv1.VoteKind_VOTE_KIND_REJECT
			}
		}
		txs = append(txs, voteTx(r.Id, h.index[id], kind))
	}
	h.ok(h.apply(time.Second, txs...))
	h.apply(time.Minute)
}

// endEpoch applies an empty block in the next epoch and returns the
// statement of the epoch that ended.
func (h *harness) endEpoch() *lightkeeperv1.EpochRecord {
	h.t.Helper()
	next := h.m.NextEpochAt()
	res, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: next}))
	if err != nil {
		h.t.Fatal(err)
	}
	if len(res.Epochs) != 1 {
		h.t.Fatalf("%d epochs ended", len(res.Epochs))
	}
	return res.Epochs[0]
}

func rewardOf(rec *lightkeeperv1.EpochRecord, i int) *lightkeeperv1.KeeperReward {
	for _, r := range rec.Rewards {
		if r.KeeperId == keeperID(i) {
			return r
		}
	}
	return nil
}

// #15.1: the slashing penalty follows the keeper. A slashed member is
// removed from its group (Celo) and carries the halved multiplier itself,
// so leaving the group or joining a clean one does not restore its pay.
func TestSlashPenaltyFollowsKeeper(t *testing.T) {
	h := econHarness(t, 4, nil)
	h.mustSigned(20, groupCreate)
	h.join(20, 0)
	h.mustSigned(21, groupCreate)
	h.round(0) // k0 (in group 20) votes wrong: slashed
	h.round(3) // k3 (alone) too
	k0, k3 := h.keeper(0), h.keeper(3)
	if k0.GroupId != "" {
		t.Errorf("slashed k0 still in group %s", shortID(k0.GroupId))
	}
	if k0.RewardMultiplierBps != 5_000 || k3.RewardMultiplierBps != 5_000 {
		t.Errorf("multipliers k0 %d k3 %d, want 5000 each", k0.RewardMultiplierBps, k3.RewardMultiplierBps)
	}
	if g, _ := h.m.Group(keeperID(20)); g.RewardMultiplierBps != 5_000 {
		t.Errorf("group multiplier %d, want 5000", g.RewardMultiplierBps)
	}
	// Whatever k0 did to its membership, and k3 joins clean group 21.
	if r := h.signed(0, groupLeave(20, 0)); r.Err != nil && h.keeper(0).GroupId != "" {
		t.Fatal(r.Err)
	}
	h.join(21, 3)
	// A member of group 20 that was not slashed leaves it: it still pays
	// the group's penalty (Celo: the group at the last election).
	h.join(20, 1)
	h.round()
	h.mustSigned(1, groupLeave(20, 1))
	rec := h.endEpoch()
	for _, i := range []int{0, 1, 3} {
		if r := rewardOf(rec, i); r == nil || r.MultiplierBps != 5_000 {
			t.Errorf("k%d reward %v, want multiplier 5000", i, r)
		}
	}
	if r := rewardOf(rec, 2); r == nil || r.MultiplierBps != protocol.BPS {
		t.Errorf("honest k2 reward %v, want multiplier 10000", r)
	}
}

// #15.2: only the elected earn epoch rewards. A candidate's challenge
// answers measure its capacity but pay nothing.
func TestCandidatesAreNotPaid(t *testing.T) {
	h := econHarness(t, 3, nil)
	// k3 joins after genesis: bonded, online, not elected.
	h.mutate(func(s *Snapshot) {
		k := newKeeper(keeperID(3), 500, h.m.params)
		k.CapacityMilli = 10 * protocol.MilliUnits
		s.Keepers = append(s.Keepers, k)
	})
	h.ok(h.apply(0, registerTx(testChain, 3), onlineTx(3, true)))
	if h.keeper(3).Active {
		t.Fatal("k3 is active")
	}
	ch := &lightkeeperv1.ChallengeAnswer{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, ResultHash: zeroResultHash[:], Candidates: true}
	res := h.ok(h.apply(0, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundTx{
		Request: proofRequest(h.vk, "cand"), Challenge: ch}}}))
	r := res.TxResults[0].Round
	h.ok(h.apply(time.Second, voteTx(r.Id, 3, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)))
	h.apply(time.Minute)
	if h.keeper(3).EpochWorkUnits == 0 {
		t.Fatal("k3 earned no work units")
	}
	h.mutate(func(s *Snapshot) {
		setKeeper(s, keeperID(3), func(k *lightkeeperv1.Keeper) { k.UptimePpm = protocol.UptimeOne })
	})
	rec := h.endEpoch()
	if rw := rewardOf(rec, 3); rw != nil {
		t.Errorf("unelected k3 paid %v", rw)
	}
	if rec.ToCommunityFund != rec.Minted+rec.Fees {
		t.Errorf("nobody elected earned, yet only %d of %d went to the fund", rec.ToCommunityFund, rec.Minted+rec.Fees)
	}
	if k := h.keeper(3); k.CapacityMilli <= 10*protocol.MilliUnits/2 {
		t.Errorf("k3's capacity %d did not count its challenge", k.CapacityMilli)
	}
}

// #15.3: downtime costs. An active keeper offline for the epoch loses
// uptime and capacity, and is jailed for downtime (so loses its seat).
func TestOfflineKeeperLosesSeat(t *testing.T) {
	h := econHarness(t, 4, func(p *lightkeeperv1.ConsensusParams) { p.Threshold = 3 })
	h.mutate(func(s *Snapshot) {
		for i := 0; i < 4; i++ {
			setKeeper(s, keeperID(i), func(k *lightkeeperv1.Keeper) { k.UptimePpm = 800_000; k.CapacityMilli = 8 * protocol.MilliUnits })
		}
	})
	h.ok(h.apply(0, onlineTx(3, false)))
	h.round()
	h.round()
	h.endEpoch()
	k3 := h.keeper(3)
	if k3.UptimePpm >= 800_000 {
		t.Errorf("offline k3 kept uptime %d", k3.UptimePpm)
	}
	if k3.CapacityMilli >= 8*protocol.MilliUnits {
		t.Errorf("offline k3 kept capacity %d", k3.CapacityMilli)
	}
	if k3.Active || !k3.Jailed {
		t.Errorf("offline k3: active %t jailed %t, want out of the active set and jailed", k3.Active, k3.Jailed)
	}
	if k := h.keeper(0); !k.Active || k.Jailed || k.UptimePpm < 800_000 {
		t.Errorf("online k0: %v", k)
	}
}

// #15.3: a short absence lowers uptime in proportion but keeps the seat.
func TestShortAbsenceLowersUptime(t *testing.T) {
	h := econHarness(t, 4, func(p *lightkeeperv1.ConsensusParams) { p.Threshold = 3 })
	h.mutate(func(s *Snapshot) {
		for i := 0; i < 4; i++ {
			setKeeper(s, keeperID(i), func(k *lightkeeperv1.Keeper) { k.UptimePpm = 800_000 })
		}
	})
	h.round()
	h.ok(h.apply(0, onlineTx(3, false)))
	h.ok(h.apply(20*time.Minute, onlineTx(3, true)))
	h.round()
	h.endEpoch()
	k3, k0 := h.keeper(3), h.keeper(0)
	if k3.UptimePpm >= k0.UptimePpm || k3.Jailed || !k3.Active {
		t.Errorf("k3 after 20 minutes offline: uptime %d (k0 %d) jailed %t active %t", k3.UptimePpm, k0.UptimePpm, k3.Jailed, k3.Active)
	}
	if k3.EpochOfflineMs != 0 || k3.OfflineSince != nil {
		t.Errorf("offline counters not reset: %v", k3)
	}
}

// #15.4: a keeper registered after genesis has no stake limit until it
// proves work; genesis keepers keep the bootstrap allowance.
func TestNewKeeperStartsWithoutLimit(t *testing.T) {
	h := econHarness(t, 3, nil)
	h.ok(h.apply(0, registerTx(testChain, 3)))
	h.m.recomputeStakes(nil)
	if k := h.keeper(3); k.CapacityMilli != 0 || k.StakeLimit != 0 {
		t.Errorf("new keeper: capacity %d limit %d, want 0 0", k.CapacityMilli, k.StakeLimit)
	}
	if k := h.keeper(0); k.CapacityMilli != h.m.params.Staking.InitialCapacity*protocol.MilliUnits {
		t.Errorf("genesis keeper capacity %d", k.CapacityMilli)
	}
}

// #15.6: one exposure rule. A member's fault slashes the guarantees that
// share its group's rewards: to the member, to the group, and to the
// group's other members; not the other members' own bonds.
func TestGuaranteesToGroupSlashed(t *testing.T) {
	h := econHarness(t, 4, func(p *lightkeeperv1.ConsensusParams) { p.Staking.StakePerUnit = 1_000 })
	h.mustSigned(20, groupCreate)
	h.join(20, 0)
	h.join(20, 1)
	h.m.accounts[keeperID(21)] = &lightkeeperv1.Account{Id: keeperID(21), Balance: 100_000}
	for _, tgt := range []int{20, 0, 1} {
		h.mustSigned(21, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Guarantee{Guarantee: &lightkeeperv1.GuaranteeMsg{Target: keeperID(tgt), Amount: 100}}
		})
	}
	h.round(0)
	for _, tgt := range []int{20, 0, 1} {
		if g := h.m.guarantees[guaranteeKey(keeperID(21), keeperID(tgt))]; g.Amount != 90 {
			t.Errorf("guarantee to k%d: %d, want 90", tgt, g.Amount)
		}
	}
	if k := h.keeper(1); k.Stake < 1_000 {
		t.Errorf("innocent member's bond slashed: %d", k.Stake)
	}
}

// #15.7: every path that adds backing checks the vote cap.
func TestVoteCapOnEveryPath(t *testing.T) {
	h := econHarness(t, 4, func(p *lightkeeperv1.ConsensusParams) {
		p.Staking.StakePerUnit = 1_000
		p.Staking.UnbondingPeriod = durationpb.New(time.Hour)
	})
	// Total 4,000 among 4 keepers: a lone keeper's cap is 2·total/4.
	h.m.accounts[keeperID(21)] = &lightkeeperv1.Account{Id: keeperID(21), Balance: 100_000}
	h.m.accounts[keeperID(0)] = &lightkeeperv1.Account{Id: keeperID(0), Balance: 100_000}
	guarantee := func(amount uint64) func(b *lightkeeperv1.TxBody) { return guaranteeMsg(1, amount) }
	h.mustSigned(21, guarantee(1_000)) // k1: 2,000 of cap 2·5,000/4 = 2,500
	h.mustSigned(21, func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_Unguarantee{Unguarantee: &lightkeeperv1.UnguaranteeMsg{Target: keeperID(1), Amount: 1_000}}
	})
	// Fill the cap again while the entry waits: 1,000 + 1,400 = 2,400 ≤ 2·5,400/4.
	h.mustSigned(21, guarantee(1_400))
	// Cancelling the entry would make it 3,400 > 2·6,400/4 = 3,200.
	r := h.signed(21, func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_CancelUnbond{CancelUnbond: &lightkeeperv1.CancelUnbondMsg{EntryId: 1}}
	})
	if !errors.Is(r.Err, ErrLimitReached) {
		t.Errorf("cancel-unbond above the cap: %v", r.Err)
	}
	// Bonding above the cap is refused too: k0 has 1,000 of 2·6,400/4.
	r = h.signed(0, func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_Bond{Bond: &lightkeeperv1.BondMsg{Amount: 50_000}}
	})
	if !errors.Is(r.Err, ErrLimitReached) {
		t.Errorf("bond above the cap: %v", r.Err)
	}
}

// #15.7: joining a group brings the member's bond and guarantees into
// the group's backing, so a join is checked against the group's cap too.
func TestVoteCapOnJoin(t *testing.T) {
	h := econHarness(t, 4, func(p *lightkeeperv1.ConsensusParams) { p.Staking.StakePerUnit = 1_000 })
	h.m.accounts[keeperID(21)] = &lightkeeperv1.Account{Id: keeperID(21), Balance: 100_000}
	h.mustSigned(21, guaranteeMsg(1, 1_000)) // k1: 2,000 ≤ 2·5,000/4
	h.mustSigned(22, groupCreate)
	h.join(22, 2)
	h.mustSigned(21, guaranteeMsg(22, 3_000)) // group: 4,000 ≤ 2·8,000/4
	h.mustSigned(21, guaranteeMsg(1, 2_000))  // k1: 4,000 ≤ 2·10,000/4
	h.mustSigned(22, groupJoin(22, 1))
	// k1 joining: 4,000 + 4,000 > 3·10,000/4 = 7,500.
	if r := h.signed(1, groupJoin(22, 1)); !errors.Is(r.Err, ErrLimitReached) {
		t.Errorf("join above the group's cap: %v", r.Err)
	}
}

// #15.8: D'Hondt ties favour no kind of candidate: a group and a lone
// keeper with equal votes each win the one seat in some elections.
func TestElectionTieNeutral(t *testing.T) {
	h := econHarness(t, 2, func(p *lightkeeperv1.ConsensusParams) {
		p.Staking.MaxElected = 1
		p.Staking.StakePerUnit = 1_000
		p.TotalValidators, p.Threshold = 1, 1
	})
	h.mustSigned(20, groupCreate)
	h.join(20, 0)
	wins := map[bool]int{}
	for e := 0; e < 16; e++ {
		h.endEpoch()
		wins[h.keeper(0).Active]++
	}
	if wins[true] == 0 || wins[false] == 0 {
		t.Errorf("ties always went one way: group won %d, lone keeper %d", wins[true], wins[false])
	}
}

// #15.9: decay is exactly the seed's 0.1 % a day near the floor too.
func TestDecayExactNearFloor(t *testing.T) {
	h := econHarness(t, 1, func(p *lightkeeperv1.ConsensusParams) { p.TotalValidators, p.Threshold = 1, 1 })
	h.mutate(func(s *Snapshot) { setKeeper(s, keeperID(0), func(k *lightkeeperv1.Keeper) { k.Reputation = 200 }) })
	for d := 0; d < 10; d++ {
		h.apply(24 * time.Hour)
	}
	// 200 · 0.999¹⁰ = 198.0: the integer loses 0.2 a day, carried.
	if r := h.keeper(0).Reputation; r != 199 {
		t.Errorf("reputation after 10 days from 200: %d, want 199 (0.2 a day carried)", r)
	}
	for d := 0; d < 90; d++ {
		h.apply(24 * time.Hour)
	}
	// 100 days: 200·0.999¹⁰⁰ = 180.9; integer steps of the carried rule give 181.
	if r := h.keeper(0).Reputation; r < 180 || r > 182 {
		t.Errorf("reputation after 100 days from 200: %d, want about 181", r)
	}
}

// #15.3: downtime is counted from a keeper's registration (its first
// connection): a genesis keeper that connects late in the first epoch is
// not jailed for the time before, one that never connects is not measured.
func TestDowntimeFromRegistration(t *testing.T) {
	h := econHarness(t, 5, func(p *lightkeeperv1.ConsensusParams) { p.TotalValidators, p.Threshold = 3, 2 })
	h.mutate(func(s *Snapshot) {
		for _, i := range []int{3, 4} {
			setKeeper(s, keeperID(i), func(k *lightkeeperv1.Keeper) { k.Registered, k.Online = false, false })
		}
	})
	h.ok(h.apply(50*time.Minute, registerTx(testChain, 3), onlineTx(3, true)))
	h.endEpoch()
	for _, i := range []int{3, 4} {
		if k := h.keeper(i); k.Jailed || !k.Active {
			t.Errorf("k%d: jailed %t active %t", i, k.Jailed, k.Active)
		}
	}
}
