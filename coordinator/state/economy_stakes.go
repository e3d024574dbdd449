package state

import (
	"fmt"
	"slices"
	"strings"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// candidate is what stands for election: an explicit group, or a keeper
// standing alone (a group of one).
type candidate struct {
	key   string // "g" + group id, or "k" + keeper id
	id    string
	group *lightkeeperv1.Group // nil for a lone keeper
	// Electable members, by stake limit descending then id: the order in
	// which D'Hondt seats them.
	members   []*lightkeeperv1.Keeper
	backing   uint64
	limit     uint64
	effective uint64
}

// electable: may stand for election and carry effective stake — not
// jailed, not tombstoned, own bond ≥ min_self_bond (the stake gate fails
// closed).
func (m *Machine) electable(k *lightkeeperv1.Keeper) bool {
	return !k.Jailed && !k.Tombstoned && k.Stake > 0 && k.Stake >= m.params.Staking.MinSelfBond
}

// candidateKeyOf names the candidate an id's backing counts for: a group
// id is its group; a keeper in a group counts for the group; otherwise a
// keeper stands alone.
func (m *Machine) candidateKeyOf(id string) (string, bool) {
	if _, ok := m.groups[id]; ok {
		return "g" + id, true
	}
	if k, ok := m.keepers[id]; ok {
		if k.GroupId != "" {
			return "g" + k.GroupId, true
		}
		return "k" + id, true
	}
	return "", false
}

// stageOneLimit is capacity × stake_per_unit (capacity in thousandths).
func (m *Machine) stageOneLimit(k *lightkeeperv1.Keeper) uint64 {
	return mulDiv(k.CapacityMilli, m.params.Staking.StakePerUnit, protocol.MilliUnits)
}

// directGuarantees sums the guarantees by target.
func (m *Machine) directGuarantees() map[string]uint64 {
	direct := make(map[string]uint64)
	for _, g := range m.guarantees {
		direct[g.TargetId] += g.Amount
	}
	return direct
}

// recomputeStakes recomputes every keeper's stake limit and effective
// stake when a bond, guarantee, capacity, membership or jail changed (a,
// when not nil, records the keepers whose records changed):
//
//   - Stage one (total demand D ≤ total limit T = Σ capacity_i ×
//     stake_per_unit over electable keepers): limit_i = capacity_i ×
//     stake_per_unit.
//   - Stage two (D > T): limit_i = ⌊D × capacity_i / Σ capacity⌋, each
//     keeper's capacity share of the total demand (Crust) — never below its
//     stage-one limit, which the truncated sum T could otherwise cause.
//   - A candidate's limit is the sum of its electable members' limits, its
//     effective stake E = min(limit, backing); each member carries
//     ⌊E × limit_i / limit⌋, so own and guaranteed stake are scaled down
//     pro rata when the limit binds.
//
// D is the sum of the candidates' backing — members' own bonds plus
// guarantees to the group and to its members — over the candidates with at
// least one electable member.
func (m *Machine) recomputeStakes(a *applier) {
	if !m.stakesDirty && m.cands != nil {
		return
	}
	m.stakesDirty = false
	direct := m.directGuarantees()
	ids := sortedKeys(m.keepers)
	limit := make(map[string]uint64, len(ids))
	var totalLimit, sumCap uint64
	for _, id := range ids {
		k := m.keepers[id]
		limit[id] = m.stageOneLimit(k)
		if m.electable(k) {
			totalLimit = addSat(totalLimit, limit[id])
			sumCap = addSat(sumCap, k.CapacityMilli)
		}
	}

	var cands []*candidate
	for _, gid := range sortedKeys(m.groups) {
		g := m.groups[gid]
		c := &candidate{key: "g" + gid, id: gid, group: g, backing: direct[gid]}
		for _, mid := range g.Members {
			k := m.keepers[mid]
			if !m.electable(k) {
				continue
			}
			c.members = append(c.members, k)
			c.backing += k.Stake
			if mid != gid {
				c.backing += direct[mid]
			}
		}
		cands = append(cands, c)
	}
	for _, id := range ids {
		k := m.keepers[id]
		if k.GroupId != "" || !m.electable(k) {
			continue
		}
		c := &candidate{key: "k" + id, id: id, members: []*lightkeeperv1.Keeper{k}, backing: k.Stake}
		if _, named := m.groups[id]; !named {
			c.backing += direct[id]
		}
		cands = append(cands, c)
	}
	var demand uint64
	for _, c := range cands {
		if len(c.members) > 0 { // a group without electable members carries nothing
			demand += c.backing // ≤ protocol.MaxSupply
		}
	}
	if demand > totalLimit {
		for _, id := range ids {
			if k := m.keepers[id]; m.electable(k) {
				// Never below the stage-one limit: truncation of the
				// stage-one sum must not make stage two smaller.
				limit[id] = max(limit[id], mulDiv(demand, k.CapacityMilli, sumCap))
			}
		}
	}

	effective := make(map[string]uint64, len(ids))
	for _, c := range cands {
		for _, k := range c.members {
			c.limit = addSat(c.limit, limit[k.Id])
		}
		c.effective = min(c.limit, c.backing)
		for _, k := range c.members {
			effective[k.Id] = mulDiv(c.effective, limit[k.Id], c.limit)
		}
		slices.SortFunc(c.members, func(x, y *lightkeeperv1.Keeper) int {
			if lx, ly := limit[x.Id], limit[y.Id]; lx != ly {
				if lx > ly {
					return -1
				}
				return 1
			}
			return strings.Compare(x.Id, y.Id)
		})
	}
	m.cands = cands

	for _, id := range ids {
		k := m.keepers[id]
		if k.StakeLimit != limit[id] || k.EffectiveStake != effective[id] || k.Guaranteed != direct[id] {
			k.StakeLimit, k.EffectiveStake, k.Guaranteed = limit[id], effective[id], direct[id]
			if a != nil {
				a.keepers[id] = true
			}
		}
	}
}

// voteCap returns a candidate's raw backing (every member's bond and every
// guarantee, electable or not) and Celo's per-group vote cap:
//
//	cap = ⌊(members + 1) × total_backing / min(max_elected, registered_keepers)⌋
//
// where total_backing is every bond and guarantee of the chain and a lone
// keeper counts as one member.
func (m *Machine) voteCap(key string) (raw, limit uint64) {
	return m.voteCapWith(key, 0)
}

// candidateKeyOfKeeper names the candidate a keeper's own bond counts for:
// its group, or itself standing alone (also when its id names a group it
// is not a member of).
func candidateKeyOfKeeper(k *lightkeeperv1.Keeper) string {
	if k.GroupId != "" {
		return "g" + k.GroupId
	}
	return "k" + k.Id
}

// checkVoteCap refuses to add extra to a candidate's backing when that
// would take it above the candidate's vote cap. Every path that adds
// backing calls it — guarantee, bond, cancel_unbond; group_join uses
// voteCapJoin — only reward compounding may pass the cap (as Celo's
// compounding votes do).
func (m *Machine) checkVoteCap(field, key string, extra uint64) error {
	if raw, cap := m.voteCapWith(key, extra); raw > cap {
		return fmt.Errorf("%w: %s: backing of %s would be %d, above its vote cap %d", ErrLimitReached, field, key[1:], raw, cap)
	}
	return nil
}

// voteCapJoin is the group's raw backing and vote cap as they would be
// after keeper joins it: its own bond and the guarantees to it come along,
// and the group counts one more member.
func (m *Machine) voteCapJoin(gkey, keeper string) (raw, limit uint64) {
	brought, _ := m.voteCap("k" + keeper) // its bond, and guarantees to it unless its id names a group
	raw, _ = m.voteCap(gkey)
	n := min(uint64(m.params.Staking.MaxElected), uint64(max(m.registeredKeepers(), 1)))
	members := uint64(len(m.groups[gkey[1:]].Members)) + 1
	return raw + brought, mulDiv(members+1, m.totalBacking(), n)
}

// totalBacking is every bond and guarantee of the chain.
func (m *Machine) totalBacking() uint64 {
	var total uint64
	for _, k := range m.keepers {
		total += k.Stake
	}
	for _, g := range m.guarantees {
		total += g.Amount
	}
	return total
}

func (m *Machine) registeredKeepers() int {
	n := 0
	for _, k := range m.keepers {
		if k.Registered {
			n++
		}
	}
	return n
}

// voteCapWith is voteCap as it would be after adding extra to the
// candidate's backing (and so to the total).
func (m *Machine) voteCapWith(key string, extra uint64) (raw, limit uint64) {
	direct := m.directGuarantees()
	var total uint64
	registered := 0
	for _, k := range m.keepers {
		total += k.Stake
		if k.Registered {
			registered++
		}
	}
	for _, g := range m.guarantees {
		total += g.Amount
	}
	members := uint64(1)
	id := key[1:]
	if key[0] == 'g' {
		g := m.groups[id]
		members = uint64(len(g.Members))
		raw = direct[id]
		for _, mid := range g.Members {
			raw += m.keepers[mid].Stake
			if mid != id {
				raw += direct[mid]
			}
		}
	} else {
		raw = m.keepers[id].Stake
		if _, named := m.groups[id]; !named {
			raw += direct[id]
		}
	}
	n := min(uint64(m.params.Staking.MaxElected), uint64(max(registered, 1)))
	return raw + extra, mulDiv(members+1, total+extra, n)
}
