package state

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"math/bits"
	"slices"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"google.golang.org/protobuf/proto"
)

// ElectionDomain separates the active-set shuffle from other uses of the
// seed.
const ElectionDomain = "lightkeeper/election/v1\x00"

// stakingTick runs at the start of every block, after rounds are closed:
// unbonding entries that are due are paid out (by id), reward multipliers
// past their forgiveness time return to 1, and when the block's time is in
// a later epoch than the current one, the epoch ends (rewards, capacity,
// election). A gap of several epochs without blocks ends as one epoch
// whose issuance catches up with the target schedule.
func (a *applier) stakingTick() {
	m := a.m
	for _, id := range m.unbondingIDs() {
		e := m.unbonding[id]
		if e.CompletesAt.AsTime().UnixMilli() > a.now {
			continue
		}
		a.credit(e.OwnerId, e.Amount)
		a.removeEntry(e)
		a.emit(UnbondingCompleted{Entry: proto.Clone(e).(*lightkeeperv1.UnbondingEntry)})
	}
	for _, id := range sortedKeys(m.groups) {
		g := m.groups[id]
		if g.RewardMultiplierBps < BPS && g.MultiplierResetAt != nil && a.now >= g.MultiplierResetAt.AsTime().UnixMilli() {
			g.RewardMultiplierBps, g.MultiplierResetAt = BPS, nil
			a.groups[id] = true
			a.emit(MultiplierReset{ID: id})
		}
	}
	for _, id := range sortedKeys(m.keepers) {
		k := m.keepers[id]
		if k.RewardMultiplierBps < BPS && k.MultiplierResetAt != nil && a.now >= k.MultiplierResetAt.AsTime().UnixMilli() {
			k.RewardMultiplierBps, k.MultiplierResetAt = BPS, nil
			a.keepers[id] = true
			a.emit(MultiplierReset{ID: id})
		}
	}
	if e, start := m.EpochAt(a.now); e > m.staking.Epoch {
		a.endEpoch(e, start)
	}
}

type earner struct {
	k     *lightkeeperv1.Keeper
	score *big.Int
}

// endEpoch pays the current epoch's rewards, updates capacities, resets
// the per-epoch counters and elects the active set of epoch next (which
// starts at start).
//
// Rewards: pot = the epoch's fees + minted, minted = target(next) −
// minted so far with target(e) = min(e × epoch_issuance, issuance_cap).
// Each keeper that verified work correctly and is not jailed, tombstoned or
// under min_self_bond earns share_i = ⌊pot × w_i × u_i / Σ w_j × u_j⌋
// (w: work units, u: its uptime EMA, updated first); the group's (or lone
// keeper's) multiplier keeps ⌊share × mult / 10⁴⌋ and withholds the rest;
// the group owner takes ⌊kept × commission / 10⁴⌋; what is left is shared
// among the backers of the keeper's group pro rata to their bonds and
// guarantees and added to them (compounded). Withheld tokens and every
// rounding remainder go to the community fund.
func (a *applier) endEpoch(next uint64, start int64) {
	m := a.m
	st := m.staking
	sp, rp := m.params.Staking, m.params.Rewards
	end := st.GenesisTime.AsTime().UnixMilli() + int64(st.Epoch+1)*millis(sp.EpochLength)
	rec := &lightkeeperv1.EpochRecord{
		Epoch:       st.Epoch,
		StartedAt:   st.EpochStartedAt,
		EndedAt:     tsMilli(end),
		EndedHeight: a.height,
		ActiveSet:   slices.Clone(st.ActiveSet),
		Fees:        st.FeePot,
	}

	target := mulDiv(rp.EpochIssuance, next, 1)
	if rp.IssuanceCap > 0 {
		target = min(target, rp.IssuanceCap)
	}
	target = min(target, MaxSupply-st.GenesisSupply)
	var minted uint64
	if target > st.TotalMinted {
		minted = target - st.TotalMinted
	}
	st.TotalMinted += minted
	rec.Minted = minted
	pot := st.FeePot + minted
	st.FeePot = 0

	ids := sortedKeys(m.keepers)
	var earners []earner
	sum := new(big.Int)
	for _, id := range ids {
		k := m.keepers[id]
		if k.EpochAssigned > 0 {
			s := epochUptime(k.EpochAssigned, k.EpochMissed, rp.UptimeGraceBps, rp.UptimeExponent)
			k.UptimePpm = uint32(ema(uint64(k.UptimePpm), s, rp.UptimeEmaAlphaBps))
			a.keepers[id] = true
		}
		if k.EpochWorkUnits > 0 && k.UptimePpm > 0 && !k.Jailed && !k.Tombstoned && k.Stake >= sp.MinSelfBond {
			sc := new(big.Int).SetUint64(k.EpochWorkUnits)
			sc.Mul(sc, new(big.Int).SetUint64(uint64(k.UptimePpm)))
			earners = append(earners, earner{k, sc})
			sum.Add(sum, sc)
		}
	}

	var paid, toFund, shared uint64
	groupNet := map[string]uint64{}
	for _, e := range earners {
		k := e.k
		share := shareOf(pot, e.score, sum)
		shared += share
		mult, commissionBps := k.RewardMultiplierBps, uint32(0)
		key := "k" + k.Id
		g := m.groups[k.GroupId]
		if k.GroupId != "" && g != nil {
			mult, commissionBps, key = g.RewardMultiplierBps, g.CommissionBps, "g"+g.Id
		}
		kept := mulBps(share, mult)
		commission := mulBps(kept, commissionBps)
		if commission > 0 {
			a.credit(g.Id, commission)
		}
		net := kept - commission
		groupNet[key] += net
		paid += commission
		toFund += share - kept
		k.RewardsTotal += kept
		a.keepers[k.Id] = true
		rec.Rewards = append(rec.Rewards, &lightkeeperv1.KeeperReward{
			KeeperId: k.Id, GroupId: k.GroupId, WorkUnits: k.EpochWorkUnits, UptimePpm: k.UptimePpm,
			Share: share, MultiplierBps: mult, Commission: commission, ToBackers: net, Withheld: share - kept,
		})
	}
	toFund += pot - shared
	for _, key := range sortedKeys(groupNet) {
		d := a.payBackers(key, groupNet[key])
		paid += d
		toFund += groupNet[key] - d
	}
	st.CommunityFund += toFund
	rec.Paid, rec.ToCommunityFund = paid, toFund

	// Capacity is measured on the keepers that were given work: an epoch in
	// which a keeper was assigned no round (offline, outside the active set,
	// or a quiet network) says nothing about its capacity and leaves it as
	// it was. Random challenges (GPoW) will later measure keepers outside
	// the active set too.
	for _, id := range ids {
		if k := m.keepers[id]; k.EpochAssigned > 0 {
			k.CapacityMilli = ema(k.CapacityMilli, mulDiv(k.EpochWorkUnits, MilliUnits, 1), sp.CapacityEmaAlphaBps)
			a.keepers[id] = true
			m.stakesDirty = true
		}
	}
	for _, id := range ids {
		k := m.keepers[id]
		if k.EpochWorkUnits != 0 || k.EpochAssigned != 0 || k.EpochMissed != 0 {
			k.EpochWorkUnits, k.EpochAssigned, k.EpochMissed = 0, 0, 0
			a.keepers[id] = true
		}
	}

	st.Epoch = next
	st.EpochStartedAt = tsMilli(start)
	a.elect()
	rec.NextActiveSet = slices.Clone(st.ActiveSet)
	a.res.Epochs = append(a.res.Epochs, rec)
	a.emit(EpochEnded{Record: proto.Clone(rec).(*lightkeeperv1.EpochRecord)})
	a.emit(Elected{Epoch: next, ActiveSet: slices.Clone(st.ActiveSet)})
}

// payBackers shares net among the backers of a candidate pro rata to
// their stake — the electable members' own bonds and the guarantees to
// the group and to those members — and compounds each share into the bond
// or guarantee it came from. It returns what it paid (net minus rounding).
func (a *applier) payBackers(key string, net uint64) uint64 {
	if net == 0 {
		return 0
	}
	m := a.m
	id := key[1:]
	var bonds []*lightkeeperv1.Keeper
	targets := map[string]bool{}
	if key[0] == 'g' {
		g := m.groups[id]
		if g == nil {
			return 0
		}
		targets[id] = true
		for _, mid := range g.Members {
			if k := m.keepers[mid]; m.electable(k) {
				bonds = append(bonds, k)
				targets[mid] = true
			}
		}
	} else {
		k := m.keepers[id]
		bonds = append(bonds, k)
		if _, named := m.groups[id]; !named {
			targets[id] = true
		}
	}
	var gkeys []string
	total := new(big.Int)
	for _, k := range bonds {
		total.Add(total, new(big.Int).SetUint64(k.Stake))
	}
	for _, gk := range sortedKeys(m.guarantees) {
		if g := m.guarantees[gk]; targets[g.TargetId] {
			gkeys = append(gkeys, gk)
			total.Add(total, new(big.Int).SetUint64(g.Amount))
		}
	}
	if total.Sign() == 0 {
		return 0
	}
	var paid uint64
	for _, k := range bonds {
		s := shareOf(net, new(big.Int).SetUint64(k.Stake), total)
		k.Stake += s
		paid += s
		a.keeperStakeChanged(k)
	}
	for _, gk := range gkeys {
		g := m.guarantees[gk]
		s := shareOf(net, new(big.Int).SetUint64(g.Amount), total)
		g.Amount += s
		paid += s
		a.guarantees[gk] = true
	}
	m.stakesDirty = true
	return paid
}

// elect runs the election of the current epoch (Celo): candidates below
// electability_threshold_bps of all effective stake are excluded; seats go
// one by one to the candidate with the highest effective / (seats won + 1)
// (D'Hondt; ties to the lower candidate key), each seat to its next member
// by stake limit, until max_elected seats are filled or no candidate has an
// unseated member; the active set is then shuffled by the seed.
func (a *applier) elect() {
	m := a.m
	m.stakesDirty = true
	m.recomputeStakes(a)
	var total uint64
	for _, c := range m.cands {
		total += c.effective
	}
	var running []*candidate
	for _, c := range m.cands {
		if c.effective > 0 && len(c.members) > 0 && atLeastBps(c.effective, total, m.params.Staking.ElectabilityThresholdBps) {
			running = append(running, c)
		}
	}
	slices.SortFunc(running, func(x, y *candidate) int {
		if x.key < y.key {
			return -1
		}
		return 1
	})
	votes := make([]uint64, len(running))
	room := make([]int, len(running))
	for i, c := range running {
		votes[i], room[i] = c.effective, len(c.members)
	}
	seats := make([]int, len(running))
	var elected []string
	for _, i := range DHondt(votes, room, int(m.params.Staking.MaxElected)) {
		elected = append(elected, running[i].members[seats[i]].Id)
		seats[i]++
	}
	shuffle(elected, a.seed, m.staking.Epoch)
	m.staking.ActiveSet = elected
	in := make(map[string]bool, len(elected))
	for _, id := range elected {
		in[id] = true
	}
	for _, id := range sortedKeys(m.keepers) {
		if k := m.keepers[id]; k.Active != in[id] {
			k.Active = in[id]
			a.keepers[id] = true
		}
	}
}

// DHondt allocates up to seats seats one at a time, each to the candidate
// with the highest votes[i] / (won_i + 1) among those with won_i < room[i]
// (ties to the lower index), compared exactly in 128 bits. It returns the
// candidate index of each seat in allocation order.
func DHondt(votes []uint64, room []int, seats int) []int {
	won := make([]int, len(votes))
	var out []int
	for len(out) < seats {
		best := -1
		for i := range votes {
			if won[i] >= room[i] {
				continue
			}
			if best < 0 || quotientLess(votes[best], won[best], votes[i], won[i]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out = append(out, best)
		won[best]++
	}
	return out
}

// shuffle permutes ids (Fisher–Yates from the end): position i swaps with
// j = SHA-256(ElectionDomain || seed || u64be(epoch) || u32be(i)) mod (i+1).
func shuffle(ids []string, seed []byte, epoch uint64) {
	buf := make([]byte, 0, len(ElectionDomain)+len(seed)+12)
	buf = append(buf, ElectionDomain...)
	buf = append(buf, seed...)
	buf = binary.BigEndian.AppendUint64(buf, epoch)
	buf = append(buf, 0, 0, 0, 0)
	for i := len(ids) - 1; i > 0; i-- {
		binary.BigEndian.PutUint32(buf[len(buf)-4:], uint32(i))
		h := sha256.Sum256(buf)
		var r uint64
		for w := 0; w < 4; w++ {
			r = bits.Rem64(r, binary.BigEndian.Uint64(h[8*w:]), uint64(i+1))
		}
		ids[i], ids[r] = ids[r], ids[i]
	}
}
