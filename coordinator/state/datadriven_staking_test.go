package state

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The economy's golden commands. Every key index i (keeper or not) is the
// account of keeperKey(i) and is printed as k<i>.
//
//	genesis ... [balance=B] [balances=i:B,i:B] [min_bond=N] [epoch=DUR] [spu=N] [cap0=UNITS]
//	        [alpha_cap=protocol.BPS] [fee_unit=N] [min_fee=N] [max_elected=N] [threshold_bps=protocol.BPS]
//	        [unbonding=DUR] [max_entries=N] [max_guarantees=N] [group_size=N]
//	        [issuance=N] [issuance_cap=N] [grace=protocol.BPS] [alpha_up=protocol.BPS] [exponent=N]
//	        [slash_incorrect=protocol.BPS] [slash_equiv=protocol.BPS] [reporter=protocol.BPS] [window=N] [max_missed=N]
//	        [jail=DUR] [forgive=DUR]
//	                                 balance= gives keys 0..keepers+9 a balance each
//	tx <signer> <kind> [nonce=N] [fee=F] [badsig] ...   queue a signed transaction:
//	    transfer to=K amount=A | bond amount=A | unbond amount=A | cancel-unbond id=N
//	    guarantee target=K amount=A | unguarantee target=K amount=A
//	    group-create [commission=protocol.BPS] | group-join group=K keeper=K | group-leave group=K keeper=K
//	    unjail | evidence keeper=K round=R | submit name=R [scheme=plonk]
//	stakes [<keepers>]               bond, guarantees, limit, effective stake, capacity, uptime, flags
//	accounts <keys>                  balance and nonce
//	economy                          epoch, active set, pots, supply check
//	groups / guarantees / unbonding  every record
//
// DUR is a Go duration or a number of days ("3d").

func parseDur(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		return time.Duration(n) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

func (g *golden) economyGenesis(a map[string]string, p *lightkeeperv1.ConsensusParams, gen *lightkeeperv1.Genesis) {
	n, _ := strconv.Atoi(a["keepers"])
	if v, ok := a["balance"]; ok {
		b, _ := strconv.ParseUint(v, 10, 64)
		for i := 0; i < n+10; i++ {
			gen.Balances = append(gen.Balances, &lightkeeperv1.GenesisBalance{AccountId: keeperID(i), Amount: b})
		}
	}
	if v, ok := a["balances"]; ok {
		for _, part := range strings.Split(v, ",") {
			i, amt, _ := strings.Cut(part, ":")
			x, _ := strconv.Atoi(strings.TrimPrefix(i, "k"))
			b, _ := strconv.ParseUint(amt, 10, 64)
			gen.Balances = append(gen.Balances, &lightkeeperv1.GenesisBalance{AccountId: keeperID(x), Amount: b})
		}
	}
	s, r, sl := p.Staking, p.Rewards, p.Slashing
	u64 := map[string]*uint64{"min_bond": &s.MinSelfBond, "spu": &s.StakePerUnit, "cap0": &s.InitialCapacity,
		"fee_unit": &s.FeePerWorkUnit, "min_fee": &s.MinTxFee, "issuance": &r.EpochIssuance, "issuance_cap": &r.IssuanceCap}
	u32 := map[string]*uint32{"alpha_cap": &s.CapacityEmaAlphaBps, "max_elected": &s.MaxElected, "threshold_bps": &s.ElectabilityThresholdBps,
		"max_entries": &s.MaxUnbondingEntries, "max_guarantees": &s.MaxGuarantees, "group_size": &s.MaxGroupSize,
		"grace": &r.UptimeGraceBps, "alpha_up": &r.UptimeEmaAlphaBps, "exponent": &r.UptimeExponent,
		"slash_incorrect": &sl.SlashIncorrectBps, "slash_equiv": &sl.SlashEquivocationBps, "reporter": &sl.SlashReporterShareBps,
		"window": &sl.DowntimeWindow, "max_missed": &sl.DowntimeMaxMissed}
	durs := map[string]**durationpb.Duration{"epoch": &s.EpochLength, "unbonding": &s.UnbondingPeriod, "jail": &sl.DowntimeJail, "forgive": &sl.ForgivenessPeriod}
	for k, v := range a {
		if dst, ok := u64[k]; ok {
			x, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				g.fail("%s=%s: %v", k, v, err)
			}
			*dst = x
		}
		if dst, ok := u32[k]; ok {
			x, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				g.fail("%s=%s: %v", k, v, err)
			}
			*dst = uint32(x)
		}
		if dst, ok := durs[k]; ok {
			d, err := parseDur(v)
			if err != nil {
				g.fail("%s=%s: %v", k, v, err)
			}
			*dst = durationpb.New(d)
		}
	}
}

func (g *golden) key(s string) int {
	x, err := strconv.Atoi(strings.TrimPrefix(s, "k"))
	if err != nil {
		g.fail("bad key %q", s)
	}
	return x
}

func (g *golden) num(a map[string]string, k string) uint64 {
	x, err := strconv.ParseUint(a[k], 10, 64)
	if err != nil {
		g.fail("%s=%q: %v", k, a[k], err)
	}
	return x
}

func (g *golden) runEconomy(f []string, a map[string]string) (string, bool) {
	switch f[0] {
	case "tx":
		return g.doTx(f, a), true
	case "stakes":
		return g.doStakes(f), true
	case "accounts":
		var b strings.Builder
		for _, i := range g.indexes(f[1], g.nKeeper) {
			acct, _ := g.m.Account(keeperID(i))
			fmt.Fprintf(&b, "k%d: balance=%d nonce=%d\n", i, acct.Balance, acct.Nonce)
		}
		return b.String(), true
	case "economy":
		st := g.m.Staking()
		supply := g.m.TotalSupply()
		check := "ok"
		if supply != st.GenesisSupply+st.TotalMinted {
			check = fmt.Sprintf("BROKEN (genesis %d + minted %d)", st.GenesisSupply, st.TotalMinted)
		}
		return fmt.Sprintf("epoch=%d started=%s active=[%s]\ncommunity_fund=%d fee_pot=%d minted=%d slashed=%d fees=%d\nsupply=%d %s\n",
			st.Epoch, g.rel(st.EpochStartedAt.AsTime().UnixMilli()), g.short(strings.Join(st.ActiveSet, " ")),
			st.CommunityFund, st.FeePot, st.TotalMinted, st.TotalSlashed, st.TotalFees, supply, check), true
	case "groups":
		var b strings.Builder
		for _, gr := range g.m.Groups() {
			gs, _ := g.m.GroupStake(gr.Id)
			fmt.Fprintf(&b, "%s: commission=%d members=[%s] invited=[%s] multiplier=%d backing=%d limit=%d effective=%d cap=%d\n",
				g.short(gr.Id), gr.CommissionBps, g.short(strings.Join(gr.Members, " ")), g.short(strings.Join(gr.Invited, " ")),
				gr.RewardMultiplierBps, gs.Backing, gs.Limit, gs.Effective, gs.VoteCap)
		}
		return b.String(), true
	case "guarantees":
		var b strings.Builder
		for _, gu := range g.m.Guarantees("", "") {
			fmt.Fprintf(&b, "%s -> %s: %d\n", g.short(gu.GuarantorId), g.short(gu.TargetId), gu.Amount)
		}
		return b.String(), true
	case "unbonding":
		var b strings.Builder
		for _, e := range g.m.Unbonding("") {
			fmt.Fprintf(&b, "#%d %s %d target=%s self=%t created=%d completes=%s\n", e.Id, g.short(e.OwnerId), e.Amount,
				g.short(e.TargetId), e.SelfBond, e.CreatedHeight, g.rel(e.CompletesAt.AsTime().UnixMilli()))
		}
		return b.String(), true
	}
	return "", false
}

func (g *golden) doStakes(f []string) string {
	sel := seatRange(0, g.nKeeper)
	if len(f) > 1 {
		sel = g.indexes(f[1], g.nKeeper)
	}
	var b strings.Builder
	for _, i := range sel {
		k, ok := g.m.Keeper(keeperID(i))
		if !ok {
			fmt.Fprintf(&b, "k%d: unknown\n", i)
			continue
		}
		var flags []string
		for _, fl := range []struct {
			on   bool
			name string
		}{{k.Active, "active"}, {k.Jailed, "jailed"}, {k.Tombstoned, "tombstoned"}} {
			if fl.on {
				flags = append(flags, fl.name)
			}
		}
		if k.GroupId != "" {
			flags = append(flags, "group="+g.short(k.GroupId))
		}
		fmt.Fprintf(&b, "k%d: bond=%d guaranteed=%d limit=%d effective=%d capacity=%d.%03d uptime=%d mult=%d work=%d assigned=%d missed=%d slashed=%d rewards=%d [%s]\n",
			i, k.Stake, k.Guaranteed, k.StakeLimit, k.EffectiveStake, k.CapacityMilli/1000, k.CapacityMilli%1000, k.UptimePpm,
			k.RewardMultiplierBps, k.EpochWorkUnits, k.EpochAssigned, k.EpochMissed, k.SlashedTotal, k.RewardsTotal, strings.Join(flags, " "))
	}
	return b.String()
}

func (g *golden) doTx(f []string, a map[string]string) string {
	if len(f) < 3 {
		return g.fail("tx <signer> <kind> ...")
	}
	signer := g.key(f[1])
	id := keeperID(signer)
	body := &lightkeeperv1.TxBody{}
	if g.nonces == nil || len(g.queue) == 0 {
		g.nonces = map[string]uint64{} // a new block: nonces come from the state again
	}
	if _, ok := g.nonces[id]; !ok {
		acct, _ := g.m.Account(id)
		g.nonces[id] = acct.Nonce
	}
	body.Nonce = g.nonces[id]
	if v, ok := a["nonce"]; ok {
		body.Nonce, _ = strconv.ParseUint(v, 10, 64)
	} else {
		g.nonces[id]++
	}
	if _, ok := a["fee"]; ok {
		body.Fee = g.num(a, "fee")
	}
	label := "tx k" + strconv.Itoa(signer) + " " + f[2]
	target := func(k string) string { return keeperID(g.key(a[k])) }
	switch f[2] {
	case "transfer":
		body.Msg = &lightkeeperv1.TxBody_Transfer{Transfer: &lightkeeperv1.TransferMsg{To: target("to"), Amount: g.num(a, "amount")}}
	case "bond":
		body.Msg = &lightkeeperv1.TxBody_Bond{Bond: &lightkeeperv1.BondMsg{Amount: g.num(a, "amount")}}
	case "unbond":
		body.Msg = &lightkeeperv1.TxBody_Unbond{Unbond: &lightkeeperv1.UnbondMsg{Amount: g.num(a, "amount")}}
	case "cancel-unbond":
		body.Msg = &lightkeeperv1.TxBody_CancelUnbond{CancelUnbond: &lightkeeperv1.CancelUnbondMsg{EntryId: g.num(a, "id")}}
	case "guarantee":
		body.Msg = &lightkeeperv1.TxBody_Guarantee{Guarantee: &lightkeeperv1.GuaranteeMsg{Target: target("target"), Amount: g.num(a, "amount")}}
	case "unguarantee":
		body.Msg = &lightkeeperv1.TxBody_Unguarantee{Unguarantee: &lightkeeperv1.UnguaranteeMsg{Target: target("target"), Amount: g.num(a, "amount")}}
	case "group-create":
		var c uint64
		if _, ok := a["commission"]; ok {
			c = g.num(a, "commission")
		}
		body.Msg = &lightkeeperv1.TxBody_GroupCreate{GroupCreate: &lightkeeperv1.GroupCreateMsg{CommissionBps: uint32(c)}}
	case "group-join":
		body.Msg = &lightkeeperv1.TxBody_GroupJoin{GroupJoin: &lightkeeperv1.GroupJoinMsg{GroupId: target("group"), KeeperId: target("keeper")}}
	case "group-leave":
		body.Msg = &lightkeeperv1.TxBody_GroupLeave{GroupLeave: &lightkeeperv1.GroupLeaveMsg{GroupId: target("group"), KeeperId: target("keeper")}}
	case "unjail":
		body.Msg = &lightkeeperv1.TxBody_Unjail{Unjail: &lightkeeperv1.UnjailMsg{}}
	case "evidence":
		rid := g.rounds[a["round"]]
		if rid == "" {
			return g.fail("unknown round %s", a["round"])
		}
		k := g.key(a["keeper"])
		v1 := voteTx(rid, k, approve).GetCastVote().Vote
		v2 := voteTx(rid, k, reject).GetCastVote().Vote
		body.Msg = &lightkeeperv1.TxBody_Evidence{Evidence: &lightkeeperv1.EvidenceMsg{First: v1, Second: v2}}
		label += " " + a["keeper"] + " " + a["round"]
	case "submit":
		name := a["name"]
		req := proofRequest(g.vks[def(a["vk"], "vk1")], name)
		if a["scheme"] == "plonk" {
			req.GetProof().Scheme = lightkeeperv1.Scheme_SCHEME_PLONK
		}
		rid := protocol.RoundID(testChain, req)
		g.rounds[name] = rid
		g.name(rid, name)
		body.Msg = &lightkeeperv1.TxBody_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundMsg{Request: req}}
		label += " " + name
	case "deposit":
		n, ok := g.notes[a["note"]]
		if !ok {
			return g.fail("unknown note %q", a["note"])
		}
		amount := n.Amount
		if _, ok := a["amount"]; ok {
			amount = g.num(a, "amount")
		}
		pre := n.Precommitment().Bytes()
		body.Msg = &lightkeeperv1.TxBody_Deposit{Deposit: &lightkeeperv1.DepositMsg{Precommitment: pre[:], Amount: amount}}
		label += " " + a["note"]
	default:
		return g.fail("unknown tx kind %q", f[2])
	}
	stx, err := protocol.SignTx(keeperKey(signer), testChain, body)
	if err != nil {
		return g.fail("sign: %v", err)
	}
	if _, bad := a["badsig"]; bad {
		stx.Signature[0] ^= 1
		label += " badsig"
	}
	g.enqueue(protocol.SignedTransaction(stx), label)
	return ""
}
