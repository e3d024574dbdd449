package state

import (
	"math/bits"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// slash takes bps of a keeper's own bond, of every guarantee exposed to
// it, and of every unbonding entry that came from them and was created at
// or after offenceHeight (those tokens were at stake when the offence
// happened). A guarantee is exposed to the keepers whose rewards it shares
// (exposureTargets): a lone keeper's guarantees; for a group member, the
// guarantees to the group and to each of its members — Celo's "the same
// sum from the group's stake", the group having no stake but its
// guarantees. Other members' own bonds are not slashed. Each part is
// truncated separately. ReporterShare of the total goes to the reporter
// (if any), the rest to the community fund. The keeper's and its group's
// reward multipliers are halved, and the keeper is removed from its group
// (Celo). It returns the amount slashed.
func (a *applier) slash(k *lightkeeperv1.Keeper, bps uint32, offenceHeight uint64, cause, reporter string) uint64 {
	if bps == 0 {
		return 0
	}
	m := a.m
	total := mulBps(k.Stake, bps)
	k.Stake -= total
	exposed := m.exposureTargets(k)
	for _, key := range sortedKeys(m.guarantees) {
		g := m.guarantees[key]
		if !exposed[g.TargetId] {
			continue
		}
		if x := mulBps(g.Amount, bps); x > 0 {
			a.reduceGuarantee(key, g, x)
			total += x
		}
	}
	for _, id := range m.unbondingIDs() {
		e := m.unbonding[id]
		mine := e.SelfBond && e.TargetId == k.Id
		if (!mine && (e.SelfBond || !exposed[e.TargetId])) || e.CreatedHeight < offenceHeight {
			continue
		}
		if x := mulBps(e.Amount, bps); x > 0 {
			e.Amount -= x
			total += x
			a.unbonding[id] = true
			if e.Amount == 0 {
				a.removeEntry(e)
			}
		}
	}
	var share uint64
	if reporter != "" {
		share = mulBps(total, m.params.Slashing.SlashReporterShareBps)
		a.credit(reporter, share)
	}
	m.staking.CommunityFund += total - share
	m.staking.TotalSlashed += total
	k.SlashedTotal += total
	mult := a.halveMultiplier(k)
	a.keeperStakeChanged(k)
	a.emit(Slashed{KeeperID: k.Id, Cause: cause, Amount: total, Reporter: reporter, ReporterShare: share, Multiplier: mult})
	if g, ok := m.groups[k.GroupId]; ok && k.GroupId != "" {
		a.removeMember(g, k, "removed")
	}
	return total
}

// exposureTargets returns the ids whose guarantees a fault of k slashes:
// the guarantees that share the rewards of k's candidate. For a member of
// a group: the group and every member (guarantees to any of them back the
// group's seats and are paid from the group's net). For a lone keeper: the
// keeper, unless its id is also a group's (guarantees to that id back the
// group, which k is not part of).
func (m *Machine) exposureTargets(k *lightkeeperv1.Keeper) map[string]bool {
	out := map[string]bool{}
	if g, ok := m.groups[k.GroupId]; ok && k.GroupId != "" {
		out[g.Id] = true
		for _, id := range g.Members {
			out[id] = true
		}
		return out
	}
	if _, named := m.groups[k.Id]; !named {
		out[k.Id] = true
	}
	return out
}

// halveMultiplier halves the keeper's own reward multiplier and its
// group's, each set to return to 1 after the forgiveness period, and
// returns the multiplier the keeper is now paid at. The keeper's own
// multiplier is the penalty it carries out of the group (Celo ties it to
// the group of the last election; here it follows the keeper until it is
// forgiven, wherever it goes).
func (a *applier) halveMultiplier(k *lightkeeperv1.Keeper) uint32 {
	reset := tsMilli(a.now + millis(a.m.params.Slashing.ForgivenessPeriod))
	k.RewardMultiplierBps /= 2
	k.MultiplierResetAt = reset
	a.keepers[k.Id] = true
	if g, ok := a.m.groups[k.GroupId]; ok && k.GroupId != "" {
		g.RewardMultiplierBps /= 2
		g.MultiplierResetAt = reset
		a.groups[g.Id] = true
		return min(k.RewardMultiplierBps, g.RewardMultiplierBps)
	}
	return k.RewardMultiplierBps
}

// rewardMultiplier is what a keeper's share is paid at: the lower of its
// own multiplier and its group's.
func (m *Machine) rewardMultiplier(k *lightkeeperv1.Keeper) uint32 {
	if g, ok := m.groups[k.GroupId]; ok && k.GroupId != "" {
		return min(k.RewardMultiplierBps, g.RewardMultiplierBps)
	}
	return k.RewardMultiplierBps
}

// punishEquivocation slashes slash_equivocation_bps, jails and tombstones
// the keeper and removes it from its group (Celo), so the group must
// decide explicitly to take it back — which a tombstoned keeper cannot.
func (a *applier) punishEquivocation(k *lightkeeperv1.Keeper, offenceHeight uint64, reporter string) {
	a.slash(k, a.m.params.Slashing.SlashEquivocationBps, offenceHeight, CauseEquivocation, reporter)
	k.Jailed, k.Tombstoned, k.JailedUntil = true, true, nil
	a.keeperStakeChanged(k)
	if g, ok := a.m.groups[k.GroupId]; ok && k.GroupId != "" {
		a.removeMember(g, k, "removed")
	}
	a.emit(Jailed{KeeperID: k.Id, Cause: CauseEquivocation, Tombstoned: true})
}

// recordAssignment counts one closed assignment of a committee member for
// participation (uptime) and the downtime window: a ring of
// downtime_window bits, 1 for a missed round. A keeper with more than
// downtime_max_missed bits set is jailed for downtime_jail (no slash), and
// its window starts again.
func (a *applier) recordAssignment(k *lightkeeperv1.Keeper, missed bool) {
	sl := a.m.params.Slashing
	k.EpochAssigned++
	if missed {
		k.EpochMissed++
	}
	a.keepers[k.Id] = true
	w := sl.DowntimeWindow
	if n := int((w + 7) / 8); len(k.MissedWindow) != n {
		k.MissedWindow, k.WindowNext, k.WindowFilled = make([]byte, n), 0, 0
	}
	pos := k.WindowNext % w
	if missed {
		k.MissedWindow[pos/8] |= 1 << (pos % 8)
	} else {
		k.MissedWindow[pos/8] &^= 1 << (pos % 8)
	}
	k.WindowNext = (pos + 1) % w
	k.WindowFilled = min(k.WindowFilled+1, w)
	if !missed || k.Jailed {
		return
	}
	count := 0
	for _, b := range k.MissedWindow {
		count += bits.OnesCount8(b)
	}
	if count <= int(sl.DowntimeMaxMissed) {
		return
	}
	until := a.now + millis(sl.DowntimeJail)
	k.Jailed = true
	k.JailedUntil = tsMilli(until)
	clear(k.MissedWindow)
	k.WindowNext, k.WindowFilled = 0, 0
	a.m.stakesDirty = true
	a.emit(Jailed{KeeperID: k.Id, Cause: CauseDowntime, Until: until})
}
