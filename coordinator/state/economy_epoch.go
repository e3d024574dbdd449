package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"math/bits"
	"slices"
	"strings"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
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
	for _, id := range m.dueUnbondingIDs(a.now) {
		e := m.unbonding[id]
		a.credit(e.OwnerId, e.Amount)
		a.removeEntry(e)
		a.emit(UnbondingCompleted{Entry: proto.Clone(e).(*lightkeeperv1.UnbondingEntry)})
	}
	for _, id := range sortedKeys(m.groups) {
		g := m.groups[id]
		if g.RewardMultiplierBps < protocol.BPS && g.MultiplierResetAt != nil && a.now >= g.MultiplierResetAt.AsTime().UnixMilli() {
			g.RewardMultiplierBps, g.MultiplierResetAt = protocol.BPS, nil
			a.groups[id] = true
			a.emit(MultiplierReset{ID: id})
		}
	}
	for _, k := range m.keepersByID() {
		id := k.Id
		if k.RewardMultiplierBps < protocol.BPS && k.MultiplierResetAt != nil && a.now >= k.MultiplierResetAt.AsTime().UnixMilli() {
			k.RewardMultiplierBps, k.MultiplierResetAt = protocol.BPS, nil
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
	target = min(target, protocol.MaxSupply-st.GenesisSupply)
	var minted uint64
	if target > st.TotalMinted {
		minted = target - st.TotalMinted
	}
	st.TotalMinted += minted
	rec.Minted = minted
	pot := st.FeePot + minted
	st.FeePot = 0

	ids := sortedKeys(m.keepers)
	// Downtime: the part of the epoch each elected keeper spent offline
	// (sessions reach the machine as SetKeeperOnline at block times).
	epochMs := uint64(max(end-st.EpochStartedAt.AsTime().UnixMilli(), 1))
	online := make(map[string]uint64, len(ids)) // ppm of the epoch online
	for _, id := range ids {
		k := m.keepers[id]
		online[id] = protocol.UptimeOne
		if !k.Active || !k.Registered {
			continue // a genesis keeper that never registered is not measured
		}
		off := k.EpochOfflineMs
		if !k.Online {
			since := st.EpochStartedAt.AsTime().UnixMilli()
			if k.OfflineSince != nil {
				since = max(since, k.OfflineSince.AsTime().UnixMilli())
			}
			off += uint64(max(end-since, 0))
		}
		online[id] = protocol.UptimeOne - mulDiv(min(off, epochMs), protocol.UptimeOne, epochMs)
	}
	var earners []earner
	sum := new(big.Int)
	for _, id := range ids {
		k := m.keepers[id]
		if k.EpochAssigned > 0 || online[id] < protocol.UptimeOne {
			s := epochUptime(k.EpochAssigned, k.EpochMissed, online[id], rp.UptimeGraceBps, rp.UptimeExponent)
			k.UptimePpm = uint32(ema(uint64(k.UptimePpm), s, rp.UptimeEmaAlphaBps))
			a.keepers[id] = true
		}
		// Only the elected earn (Celo pays elected validators): a
		// candidate's challenges measure its capacity, not its pay.
		if k.Active && k.EpochWorkUnits > 0 && k.UptimePpm > 0 && !k.Jailed && !k.Tombstoned && k.Stake >= sp.MinSelfBond {
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
		mult, commissionBps := m.rewardMultiplier(k), uint32(0)
		key := "k" + k.Id
		g := m.groups[k.GroupId]
		if k.GroupId != "" && g != nil {
			commissionBps, key = g.CommissionBps, "g"+g.Id
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

	// Capacity is measured on the keepers that were given work (rounds, or
	// candidates' challenges) and on elected keepers that were offline: an
	// absence is a measurement (it proved less work), while an epoch in
	// which a keeper online all along was assigned nothing (a quiet
	// network, no challenge for it) says nothing and leaves it as it was.
	for _, id := range ids {
		if k := m.keepers[id]; k.EpochAssigned > 0 || online[id] < protocol.UptimeOne {
			k.CapacityMilli = ema(k.CapacityMilli, mulDiv(k.EpochWorkUnits, protocol.MilliUnits, 1), sp.CapacityEmaAlphaBps)
			a.keepers[id] = true
			m.stakesDirty = true
		}
	}
	// Downtime jails (no slash), as missed rounds do: an elected keeper
	// offline for more than downtime_max_missed / downtime_window of the
	// epoch is jailed before the election, so it loses its seat.
	sl := m.params.Slashing
	for _, id := range ids {
		k := m.keepers[id]
		offPpm := protocol.UptimeOne - online[id]
		if k.Active && !k.Jailed && offPpm*uint64(sl.DowntimeWindow) > uint64(sl.DowntimeMaxMissed)*protocol.UptimeOne {
			until := a.now + millis(sl.DowntimeJail)
			k.Jailed, k.JailedUntil = true, tsMilli(until)
			a.keepers[id] = true
			m.stakesDirty = true
			a.emit(Jailed{KeeperID: id, Cause: CauseDowntime, Until: until})
		}
	}
	for _, id := range ids {
		k := m.keepers[id]
		if k.EpochWorkUnits != 0 || k.EpochAssigned != 0 || k.EpochMissed != 0 || k.EpochOfflineMs != 0 || k.OfflineSince != nil {
			k.EpochWorkUnits, k.EpochAssigned, k.EpochMissed = 0, 0, 0
			k.EpochOfflineMs, k.OfflineSince = 0, nil
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
// (D'Hondt; ties by tieHash of the seed, epoch and candidate id), each seat to its next member
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
	// D'Hondt gives a tie to the lower index: order the candidates by a
	// hash of the seed, the epoch and the candidate's id, so no kind of
	// candidate (group or lone keeper) and no id is favoured, and nobody
	// can grind a key that wins ties (the key order breaks a hash tie).
	tie := make(map[string][32]byte, len(running))
	for _, c := range running {
		tie[c.key] = tieHash(a.seed, m.staking.Epoch, c.id)
	}
	slices.SortFunc(running, func(x, y *candidate) int {
		tx, ty := tie[x.key], tie[y.key]
		if c := bytes.Compare(tx[:], ty[:]); c != 0 {
			return c
		}
		return strings.Compare(x.key, y.key)
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
	for _, k := range m.keepersByID() {
		if id := k.Id; k.Active != in[id] {
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

// TieDomain separates the election's tie order from other uses of the
// seed.
const TieDomain = "lightkeeper/election-tie/v1\x00"

// tieHash is SHA-256(TieDomain || seed || u64be(epoch) || id): the order
// in which D'Hondt breaks ties between equal quotients.
func tieHash(seed []byte, epoch uint64, id string) [32]byte {
	buf := make([]byte, 0, len(TieDomain)+len(seed)+8+len(id))
	buf = append(buf, TieDomain...)
	buf = append(buf, seed...)
	buf = binary.BigEndian.AppendUint64(buf, epoch)
	buf = append(buf, id...)
	return sha256.Sum256(buf)
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

// onlineChanged keeps the epoch's downtime of a keeper whose session
// opened or closed (SetKeeperOnline), or that registered, at the block's
// time: going offline (or registering offline) starts a period, coming
// back adds it (from the epoch's start at the earliest) to
// epoch_offline_ms. endEpoch closes a period still open.
func (a *applier) onlineChanged(k *lightkeeperv1.Keeper) {
	if !k.Online {
		k.OfflineSince = tsMilli(a.now)
		return
	}
	start := a.m.staking.EpochStartedAt.AsTime().UnixMilli()
	if k.OfflineSince != nil {
		start = max(start, k.OfflineSince.AsTime().UnixMilli())
	}
	if k.Active {
		k.EpochOfflineMs += uint64(max(a.now-start, 0))
	}
	k.OfflineSince = nil
}
