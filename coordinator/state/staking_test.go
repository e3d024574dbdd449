package state

import (
	"errors"
	"slices"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Worked examples of every formula of docs/design.md §9, computed by hand.

func TestDHondt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		votes []uint64
		room  []int
		seats int
		want  []int // seats per candidate
		order []int // allocation order, when checked
	}{
		// The textbook example: 100,000 / 80,000 / 30,000 / 20,000 votes,
		// 8 seats → 4, 3, 1, 0. Quotients in seat order: A 100k, B 80k,
		// A 50k, B 40k, A 33.3k, C 30k, B 26.7k, A 25k (D's 20k never
		// makes it).
		{"textbook", []uint64{100_000, 80_000, 30_000, 20_000}, []int{8, 8, 8, 8}, 8, []int{4, 3, 1, 0},
			[]int{0, 1, 0, 1, 0, 2, 1, 0}},
		// A group cannot win more seats than it has members: A's third seat
		// goes to the next quotient.
		{"room", []uint64{100_000, 80_000, 30_000, 20_000}, []int{2, 8, 8, 8}, 6, []int{2, 3, 1, 0}, nil},
		// Ties go to the lower index.
		{"tie", []uint64{50, 50, 50}, []int{1, 1, 1}, 2, []int{1, 1, 0}, []int{0, 1}},
		// Fewer members than seats: everyone is seated.
		{"short", []uint64{7, 3}, []int{1, 2}, 10, []int{1, 2}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			order := DHondt(tc.votes, tc.room, tc.seats)
			got := make([]int, len(tc.votes))
			for _, i := range order {
				got[i]++
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("seats %v, want %v (order %v)", got, tc.want, order)
			}
			if tc.order != nil && !slices.Equal(order, tc.order) {
				t.Errorf("order %v, want %v", order, tc.order)
			}
		})
	}
}

func TestEpochUptime(t *testing.T) {
	for _, tc := range []struct {
		assigned, missed uint64
		grace, exp       uint32
		want             uint64
	}{
		{10, 0, 0, 10, 1_000_000},
		{0, 0, 0, 10, 1_000_000}, // no assignment: no evidence of downtime
		// 0.9^10 by ten truncating steps: 900000 810000 729000 656100
		// 590490 531441 478296 430466 387419 348677.
		{10, 1, 0, 10, 348_677},
		// grace 5 %: 0.95^10: 950000 902500 857375 814506 773780 735091
		// 698336 663419 630248 598735.
		{20, 2, 500, 10, 598_735},
		// participation + grace is capped at 1.
		{100, 3, 500, 10, 1_000_000},
		{4, 4, 0, 10, 0},
		{3, 1, 0, 1, 666_666},
	} {
		if got := epochUptime(tc.assigned, tc.missed, protocol.UptimeOne, tc.grace, tc.exp); got != tc.want {
			t.Errorf("epochUptime(%d, %d, grace %d, ^%d) = %d, want %d", tc.assigned, tc.missed, tc.grace, tc.exp, got, tc.want)
		}
	}
	// Offline for half the epoch with every assignment voted: 0.5 + 0.05
	// grace = 0.55, ^10 = 0.0025 (by truncating steps: 2532).
	if got := epochUptime(10, 0, 500_000, 500, 10); got != 2_532 {
		t.Errorf("half offline: %d, want 2532", got)
	}
	// Offline all epoch, never assigned: only the grace is left.
	if got := epochUptime(0, 0, 0, 500, 1); got != 50_000 {
		t.Errorf("all offline: %d, want 50000", got)
	}
	// The EMA with α = 0.1: ⌊(348677·1000 + 500000·9000)/10000⌋ = 484867.
	if got := ema(500_000, 348_677, 1_000); got != 484_867 {
		t.Errorf("ema = %d, want 484867", got)
	}
	// Starting from 0 (a new key), three perfect epochs: 100000, 190000, 271000.
	u := uint64(0)
	for _, want := range []uint64{100_000, 190_000, 271_000} {
		if u = ema(u, 1_000_000, 1_000); u != want {
			t.Errorf("uptime EMA = %d, want %d", u, want)
		}
	}
}

// economyMachine makes a machine with n keepers (stakes given) and
// capacities (units), every keeper registered; params tweaked by f.
func economyMachine(t *testing.T, stakes []uint64, capUnits []uint64, f func(p *lightkeeperv1.ConsensusParams)) *Machine {
	t.Helper()
	p := protocol.DefaultParams()
	p.Staking.StakePerUnit = 1
	p.Staking.MinSelfBond = 1
	if f != nil {
		f(p)
	}
	g := testGenesis(len(stakes), 0)
	for i, s := range stakes {
		g.Keepers[i].Stake = s
	}
	for i := 0; i < 10; i++ {
		g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: keeperID(20 + i), Amount: 1_000_000})
	}
	m, _, err := New(withParams(g, p))
	if err != nil {
		t.Fatal(err)
	}
	s := m.Snapshot()
	for i, k := range s.Keepers {
		_ = k
		for j := range stakes {
			if s.Keepers[i].Id == keeperID(j) {
				s.Keepers[i].CapacityMilli = capUnits[j] * protocol.MilliUnits
				s.Keepers[i].Registered = true
			}
		}
	}
	if m, err = Restore(s); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *Machine) limits(n int) (lim, eff []uint64) {
	m.recomputeStakes(nil)
	for i := 0; i < n; i++ {
		k := m.keepers[keeperID(i)]
		lim = append(lim, k.StakeLimit)
		eff = append(eff, k.EffectiveStake)
	}
	return
}

func signedOK(t *testing.T, m *Machine, dt time.Duration, signer int, msg func(b *lightkeeperv1.TxBody)) TxResult {
	t.Helper()
	acct, _ := m.Account(keeperID(signer))
	b := &lightkeeperv1.TxBody{Nonce: acct.Nonce}
	msg(b)
	stx, err := protocol.SignTx(keeperKey(signer), testChain, b)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := m.Head()
	res, err := noted(m.ApplyBlock(BlockInput{TimeUnixMilli: h.Time.AsTime().UnixMilli() + dt.Milliseconds(), Txs: []*lightkeeperv1.Transaction{protocol.SignedTransaction(stx)}}))
	if err != nil {
		t.Fatal(err)
	}
	return res.TxResults[0]
}

func guaranteeMsg(target int, amount uint64) func(b *lightkeeperv1.TxBody) {
	return func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_Guarantee{Guarantee: &lightkeeperv1.GuaranteeMsg{Target: keeperID(target), Amount: amount}}
	}
}

func TestStakeLimitStages(t *testing.T) {
	// Stage one: capacities 100, 200, 300 units × 1 token/unit = limits
	// 100, 200, 300 (total 600); stakes 50 + 150 + 400 = 600 ≤ 600.
	m := economyMachine(t, []uint64{50, 150, 400}, []uint64{100, 200, 300}, nil)
	lim, eff := m.limits(3)
	if !slices.Equal(lim, []uint64{100, 200, 300}) || !slices.Equal(eff, []uint64{50, 150, 300}) {
		t.Fatalf("stage one: limits %v effective %v, want [100 200 300] [50 150 300]", lim, eff)
	}
	// Stage two: a guarantee of 300 to keeper 0 makes demand 900 > 600;
	// each limit is the capacity share of 900: 150, 300, 450. Keeper 0's
	// backing 350 is scaled to 150 (own 50·150/350 = 21.4, guaranteed
	// 300·150/350 = 128.6 in proportion); keeper 2's 400 fits under 450.
	if r := signedOK(t, m, 0, 20, guaranteeMsg(0, 300)); r.Err != nil {
		t.Fatal(r.Err)
	}
	lim, eff = m.limits(3)
	if !slices.Equal(lim, []uint64{150, 300, 450}) || !slices.Equal(eff, []uint64{150, 150, 400}) {
		t.Fatalf("stage two: limits %v effective %v, want [150 300 450] [150 150 400]", lim, eff)
	}
	// Stage two never gives less than stage one: capacities 1, 1, 1 with
	// limit 1 each, demand 3 = total: stage one; demand 4: 4·1/3 = 1 ≥ 1.
	m = economyMachine(t, []uint64{1, 1, 2}, []uint64{1, 1, 1}, nil)
	if lim, _ := m.limits(3); !slices.Equal(lim, []uint64{1, 1, 1}) {
		t.Fatalf("limits %v", lim)
	}
}

func TestGroupScaleDown(t *testing.T) {
	// A group of keepers 0 and 1 (limits 100 and 300, stakes 100 each)
	// backed by 300 more: backing 500 > limit 400 → effective 400, shared
	// by limit: 100 and 300. Keeper 2 stands alone (limit 100, stake 100).
	m := economyMachine(t, []uint64{100, 100, 100}, []uint64{100, 300, 100}, func(p *lightkeeperv1.ConsensusParams) {
		p.Staking.StakePerUnit = 10 // stage one throughout: limits 1000, 3000, 1000
	})
	owner := 20
	for _, msg := range []func(b *lightkeeperv1.TxBody){
		func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_GroupCreate{GroupCreate: &lightkeeperv1.GroupCreateMsg{CommissionBps: 500}}
		},
		func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_GroupJoin{GroupJoin: &lightkeeperv1.GroupJoinMsg{GroupId: keeperID(owner), KeeperId: keeperID(0)}}
		},
		func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_GroupJoin{GroupJoin: &lightkeeperv1.GroupJoinMsg{GroupId: keeperID(owner), KeeperId: keeperID(1)}}
		},
	} {
		if r := signedOK(t, m, 0, owner, msg); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	for _, k := range []int{0, 1} {
		if r := signedOK(t, m, 0, k, func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_GroupJoin{GroupJoin: &lightkeeperv1.GroupJoinMsg{GroupId: keeperID(owner), KeeperId: keeperID(k)}}
		}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	// The vote cap: (2 members + 1) × total / min(100, 3 registered) =
	// 3 · (300 + x) / 3 ≥ 200 + x always holds for the group, so 3,000 is
	// accepted.
	if r := signedOK(t, m, 0, 21, guaranteeMsg(owner, 3_000)); r.Err != nil {
		t.Fatal(r.Err)
	}
	gs, _ := m.GroupStake(keeperID(owner))
	if gs.Backing != 3_200 || gs.Limit != 4_000 || gs.Effective != 3_200 {
		t.Fatalf("group %+v", gs)
	}
	lim, eff := m.limits(3)
	// 3200 shared by limit 1000 : 3000 → 800 and 2400.
	if !slices.Equal(lim, []uint64{1_000, 3_000, 1_000}) || !slices.Equal(eff, []uint64{800, 2_400, 100}) {
		t.Fatalf("limits %v effective %v", lim, eff)
	}
	// Keeper 2 alone: cap = 2 · (3300 + x) / 3 ≥ 100 + x ⇔ x ≤ 6300.
	if r := signedOK(t, m, 0, 22, guaranteeMsg(2, 6_301)); !errors.Is(r.Err, ErrLimitReached) {
		t.Fatalf("6301 over the cap: %v", r.Err)
	}
	if r := signedOK(t, m, 0, 22, guaranteeMsg(2, 6_300)); r.Err != nil {
		t.Fatalf("6300 at the cap: %v", r.Err)
	}
	// Demand 3200 + 6400 = 9600 is now above the total limit 5000: stage
	// two, limits 9600 × capacity / 500 = 1920, 5760, 1920; keeper 2's
	// backing 6400 is capped at its limit 1920.
	if lim, eff := m.limits(3); !slices.Equal(lim, []uint64{1_920, 5_760, 1_920}) || eff[2] != 1_920 {
		t.Fatalf("limits %v effective %v", lim, eff)
	}
	// The cap falls when backing leaves, but existing backing stays
	// counted: nothing is taken away, only new backing is refused.
	raw, cap := m.voteCap("k" + keeperID(2))
	if raw != 6_400 || cap != 2*(3_300+6_300)/3 {
		t.Fatalf("vote cap of keeper 2: raw %d cap %d", raw, cap)
	}
}

func TestSlashWithUnbondingEntries(t *testing.T) {
	// Keeper 0: bond 1000, entries of 100 (before the offence) and 200
	// (at the offence height); guaranteed 500 by account 20, which
	// unguaranteed 100 after the offence. A 10 % slash takes 70 (of the 700
	// left bonded), 40 (of 400 guaranteed), 20 (the entry after), 10 (the
	// guarantee's entry): 140, of which the reporter gets 10 % = 14 and the
	// community fund 126.
	m := economyMachine(t, []uint64{1_000}, []uint64{10_000}, nil)
	if r := signedOK(t, m, 0, 20, guaranteeMsg(0, 500)); r.Err != nil {
		t.Fatal(r.Err)
	}
	unbond := func(amount uint64) func(b *lightkeeperv1.TxBody) {
		return func(b *lightkeeperv1.TxBody) {
			b.Msg = &lightkeeperv1.TxBody_Unbond{Unbond: &lightkeeperv1.UnbondMsg{Amount: amount}}
		}
	}
	if r := signedOK(t, m, time.Second, 0, unbond(100)); r.Err != nil {
		t.Fatal(r.Err)
	}
	h, _ := m.Head()
	offence := h.Height + 1
	if r := signedOK(t, m, time.Second, 0, unbond(200)); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := signedOK(t, m, time.Second, 20, func(b *lightkeeperv1.TxBody) {
		b.Msg = &lightkeeperv1.TxBody_Unguarantee{Unguarantee: &lightkeeperv1.UnguaranteeMsg{Target: keeperID(0), Amount: 100}}
	}); r.Err != nil {
		t.Fatal(r.Err)
	}
	before := m.TotalSupply()
	a := newApplier(m, h.Height+5, h.Time.AsTime().UnixMilli()+5000, nil)
	a.res.Events = nil
	got := a.slash(m.keepers[keeperID(0)], 1_000, offence, CauseEquivocation, keeperID(21))
	if got != 140 {
		t.Fatalf("slashed %d, want 140", got)
	}
	k := m.keepers[keeperID(0)]
	var entries []uint64
	for _, e := range m.Unbonding("") {
		entries = append(entries, e.Amount)
	}
	g := m.guarantees[guaranteeKey(keeperID(20), keeperID(0))]
	if k.Stake != 630 || g.Amount != 360 || !slices.Equal(entries, []uint64{100, 180, 90}) {
		t.Fatalf("bond %d guarantee %d entries %v, want 630 360 [100 180 90]", k.Stake, g.Amount, entries)
	}
	if acct, _ := m.Account(keeperID(21)); acct.Balance != 1_000_014 {
		t.Fatalf("reporter balance %d", acct.Balance)
	}
	if m.staking.CommunityFund != 126 || m.TotalSupply() != before {
		t.Fatalf("community fund %d, supply %d → %d", m.staking.CommunityFund, before, m.TotalSupply())
	}
	if k.RewardMultiplierBps != 5_000 {
		t.Fatalf("multiplier %d, want halved", k.RewardMultiplierBps)
	}
}

func TestTxSignature(t *testing.T) {
	body := &lightkeeperv1.TxBody{Nonce: 3, Fee: 1, Msg: &lightkeeperv1.TxBody_Bond{Bond: &lightkeeperv1.BondMsg{Amount: 5}}}
	stx, err := protocol.SignTx(keeperKey(1), "chain-a", body)
	if err != nil {
		t.Fatal(err)
	}
	if _, signer, err := protocol.VerifyTx("chain-a", stx); err != nil || signer != keeperID(1) {
		t.Fatalf("protocol.VerifyTx = %s, %v", signer, err)
	}
	// The chain id is length-prefixed: "chain-a" || body never verifies as
	// "chain-" || "a" || body.
	if _, _, err := protocol.VerifyTx("chain-b", stx); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("other chain: %v", err)
	}
	want := append([]byte("lightkeeper/tx/v1\x00\x00\x07chain-a"), stx.Body...)
	if got := protocol.TxSignBytes("chain-a", stx.Body); string(got) != string(want) {
		t.Fatalf("sign bytes %q", got)
	}
	for name, mangle := range map[string]func(s *lightkeeperv1.SignedTx){
		"short key":  func(s *lightkeeperv1.SignedTx) { s.PublicKey = s.PublicKey[:31] },
		"short sig":  func(s *lightkeeperv1.SignedTx) { s.Signature = s.Signature[:63] },
		"empty body": func(s *lightkeeperv1.SignedTx) { s.Body = nil },
		"other body": func(s *lightkeeperv1.SignedTx) { s.Body = append(s.Body, 0) },
	} {
		c, _ := protocol.SignTx(keeperKey(1), "chain-a", body)
		mangle(c)
		if _, _, err := protocol.VerifyTx("chain-a", c); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestEconomyParamsValidated(t *testing.T) {
	for field, f := range map[string]func(p *lightkeeperv1.ConsensusParams){
		"params.staking.min_self_bond":          func(p *lightkeeperv1.ConsensusParams) { p.Staking.MinSelfBond = 0 },
		"params.staking.epoch_length":           func(p *lightkeeperv1.ConsensusParams) { p.Staking.EpochLength = durationpb.New(0) },
		"params.staking.max_elected":            func(p *lightkeeperv1.ConsensusParams) { p.Staking.MaxElected = 0 },
		"params.staking.capacity_ema_alpha_bps": func(p *lightkeeperv1.ConsensusParams) { p.Staking.CapacityEmaAlphaBps = 10_001 },
		"params.rewards.uptime_exponent":        func(p *lightkeeperv1.ConsensusParams) { p.Rewards.UptimeExponent = 0 },
		"params.slashing.downtime_max_missed":   func(p *lightkeeperv1.ConsensusParams) { p.Slashing.DowntimeMaxMissed = p.Slashing.DowntimeWindow },
		"params.slashing.forgiveness_period":    func(p *lightkeeperv1.ConsensusParams) { p.Slashing.ForgivenessPeriod = nil },
		"params.staking":                        func(p *lightkeeperv1.ConsensusParams) { p.Staking = nil },
	} {
		p := protocol.DefaultParams()
		f(p)
		var pe *protocol.ParamError
		if err := protocol.ValidateParams(p); !errors.As(err, &pe) || pe.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestGenesisBalances(t *testing.T) {
	g := testGenesis(2, 100)
	g.Balances = []*lightkeeperv1.GenesisBalance{{AccountId: keeperID(5), Amount: 7}, {AccountId: keeperID(5), Amount: 1}}
	if _, _, err := New(g); !errors.Is(err, ErrInvalidGenesis) {
		t.Fatalf("duplicate balance: %v", err)
	}
	g.Balances = []*lightkeeperv1.GenesisBalance{{AccountId: "zz", Amount: 7}}
	if _, _, err := New(g); !errors.Is(err, ErrInvalidGenesis) {
		t.Fatalf("bad id: %v", err)
	}
	g.Balances = []*lightkeeperv1.GenesisBalance{{AccountId: keeperID(5), Amount: protocol.MaxSupply}}
	if _, _, err := New(g); !errors.Is(err, ErrInvalidGenesis) {
		t.Fatalf("over max supply: %v", err)
	}
	g.Balances = []*lightkeeperv1.GenesisBalance{{AccountId: keeperID(5), Amount: 7}}
	m, res, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	if st := m.Staking(); st.GenesisSupply != 207 || len(st.ActiveSet) != 2 || len(res.Accounts) != 1 {
		t.Fatalf("staking %v accounts %v", st, res.Accounts)
	}
}
