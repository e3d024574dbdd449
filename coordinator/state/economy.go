package state

import (
	"fmt"
	"slices"
	"strings"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// economy is the Guarantee Proof of Stake part of the machine's state
// (docs/design.md §2 and §9). Maps are only iterated to collect keys, which are
// then sorted.
type economy struct {
	accounts   map[string]*lightkeeperv1.Account
	guarantees map[string]*lightkeeperv1.Guarantee // guaranteeKey(guarantor, target)
	groups     map[string]*lightkeeperv1.Group
	unbonding  map[uint64]*lightkeeperv1.UnbondingEntry
	staking    *lightkeeperv1.StakingState

	// Derived indexes, rebuilt by Restore.
	guaranteeCount map[string]int // guarantor → targets
	unbondingCount map[string]int // owner → waiting entries

	// stakesDirty: a bond, guarantee, membership or jail changed since the
	// last recomputeStakes.
	stakesDirty bool
	cands       []*candidate
}

func newEconomy() economy {
	return economy{
		accounts:       make(map[string]*lightkeeperv1.Account),
		guarantees:     make(map[string]*lightkeeperv1.Guarantee),
		groups:         make(map[string]*lightkeeperv1.Group),
		unbonding:      make(map[uint64]*lightkeeperv1.UnbondingEntry),
		guaranteeCount: make(map[string]int),
		unbondingCount: make(map[string]int),
	}
}

// guaranteeKey is guarantor ‖ target: both are 64 hex digits, so key order
// is (guarantor, target) order.
func guaranteeKey(guarantor, target string) string { return guarantor + target }

// initGenesis sets up accounts and the economy's global state at genesis.
// Genesis keepers' stakes are their own bonds.
func (m *Machine) initGenesis(g *lightkeeperv1.Genesis, t int64) error {
	var supply uint64
	add := func(field string, v uint64) error {
		if v > protocol.MaxSupply || supply+v > protocol.MaxSupply {
			return fmt.Errorf("%w: %s: total supply would exceed %d", ErrInvalidGenesis, field, protocol.MaxSupply)
		}
		supply += v
		return nil
	}
	for i, k := range g.Keepers {
		if err := add(fmt.Sprintf("keepers[%d].stake", i), k.Stake); err != nil {
			return err
		}
		// The bootstrap allowance (docs/economics.md §3): genesis keepers
		// are presumed to have initial_capacity units; it is measured away
		// by the capacity EMA like any other capacity.
		m.keepers[k.KeeperId].CapacityMilli = m.params.Staking.InitialCapacity * protocol.MilliUnits
	}
	for i, b := range g.Balances {
		if !protocol.ValidID(b.GetAccountId()) {
			return fmt.Errorf("%w: balances[%d].account_id: want 64 lowercase hex digits, got %q", ErrInvalidGenesis, i, b.GetAccountId())
		}
		if _, dup := m.accounts[b.AccountId]; dup {
			return fmt.Errorf("%w: balances[%d].account_id: duplicate %s", ErrInvalidGenesis, i, b.AccountId)
		}
		if err := add(fmt.Sprintf("balances[%d].amount", i), b.Amount); err != nil {
			return err
		}
		m.accounts[b.AccountId] = &lightkeeperv1.Account{Id: b.AccountId, Balance: b.Amount}
	}
	m.staking = &lightkeeperv1.StakingState{
		Epoch:           0,
		EpochStartedAt:  tsMilli(t),
		GenesisTime:     tsMilli(t),
		GenesisSupply:   supply,
		NextUnbondingId: 1,
	}
	return nil
}

// newKeeper is a keeper record as a genesis or a registration creates it.
// Its capacity is 0: a keeper's stake limit follows proven work (Crust),
// which a newcomer earns by answering candidates' challenges. Only
// genesis keepers get staking.initial_capacity (initGenesis), the
// bootstrap allowance without which no committee could ever be drawn.
func newKeeper(id string, stake uint64, p *lightkeeperv1.ConsensusParams) *lightkeeperv1.Keeper {
	return &lightkeeperv1.Keeper{
		Id:                  id,
		Stake:               stake,
		Reputation:          p.ReputationInitial,
		RewardMultiplierBps: protocol.BPS,
	}
}

// restoreEconomy loads the economy from a snapshot and rebuilds the
// indexes, checking references.
func (m *Machine) restoreEconomy(s Snapshot, bad func(string, ...any) error) error {
	if s.Staking == nil {
		return bad("staking: missing")
	}
	m.staking = proto.Clone(s.Staking).(*lightkeeperv1.StakingState)
	if m.staking.GenesisTime == nil || m.staking.EpochStartedAt == nil {
		return bad("staking: missing genesis or epoch time")
	}
	for i, a := range s.Accounts {
		if !protocol.ValidID(a.GetId()) {
			return bad("accounts[%d].id: %q", i, a.GetId())
		}
		m.accounts[a.Id] = proto.Clone(a).(*lightkeeperv1.Account)
	}
	for i, g := range s.Guarantees {
		if !protocol.ValidID(g.GetGuarantorId()) || !protocol.ValidID(g.GetTargetId()) || g.GetAmount() == 0 {
			return bad("guarantees[%d]: %v", i, g)
		}
		key := guaranteeKey(g.GuarantorId, g.TargetId)
		if _, dup := m.guarantees[key]; dup {
			return bad("guarantees[%d]: duplicate", i)
		}
		m.guarantees[key] = proto.Clone(g).(*lightkeeperv1.Guarantee)
		m.guaranteeCount[g.GuarantorId]++
	}
	for i, g := range s.Groups {
		if !protocol.ValidID(g.GetId()) {
			return bad("groups[%d].id: %q", i, g.GetId())
		}
		for _, id := range g.Members {
			k, ok := m.keepers[id]
			if !ok || k.GroupId != g.Id {
				return bad("groups[%d]: member %q unknown or not pointing back", i, id)
			}
		}
		m.groups[g.Id] = proto.Clone(g).(*lightkeeperv1.Group)
	}
	for _, k := range m.keepers {
		if k.GroupId != "" {
			if g, ok := m.groups[k.GroupId]; !ok || !slices.Contains(g.Members, k.Id) {
				return bad("keeper %s: group %q does not list it", k.Id, k.GroupId)
			}
		}
	}
	for i, e := range s.Unbonding {
		if e.GetId() == 0 || e.GetId() >= m.staking.NextUnbondingId || !protocol.ValidID(e.GetOwnerId()) || !protocol.ValidID(e.GetTargetId()) || e.GetCompletesAt() == nil {
			return bad("unbonding[%d]: %v", i, e)
		}
		if _, dup := m.unbonding[e.Id]; dup {
			return bad("unbonding[%d]: duplicate id %d", i, e.Id)
		}
		m.unbonding[e.Id] = proto.Clone(e).(*lightkeeperv1.UnbondingEntry)
		m.unbondingCount[e.OwnerId]++
		m.indexUnbonding(e)
	}
	m.stakesDirty = true
	m.recomputeStakes(nil)
	return nil
}

// snapshotEconomy fills the economy part of a snapshot.
func (m *Machine) snapshotEconomy(s *Snapshot) {
	s.Staking = proto.Clone(m.staking).(*lightkeeperv1.StakingState)
	for _, id := range sortedKeys(m.accounts) {
		s.Accounts = append(s.Accounts, proto.Clone(m.accounts[id]).(*lightkeeperv1.Account))
	}
	for _, k := range sortedKeys(m.guarantees) {
		s.Guarantees = append(s.Guarantees, proto.Clone(m.guarantees[k]).(*lightkeeperv1.Guarantee))
	}
	for _, id := range sortedKeys(m.groups) {
		s.Groups = append(s.Groups, proto.Clone(m.groups[id]).(*lightkeeperv1.Group))
	}
	for _, id := range m.unbondingIDs() {
		s.Unbonding = append(s.Unbonding, proto.Clone(m.unbonding[id]).(*lightkeeperv1.UnbondingEntry))
	}
}

func (m *Machine) unbondingIDs() []uint64 {
	ids := make([]uint64, 0, len(m.unbonding))
	for id := range m.unbonding {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Account returns a copy of an account; an unknown id is an empty account
// (balance 0, nonce 0) and false.
func (m *Machine) Account(id string) (*lightkeeperv1.Account, bool) {
	a, ok := m.accounts[id]
	if !ok {
		return &lightkeeperv1.Account{Id: id}, false
	}
	return proto.Clone(a).(*lightkeeperv1.Account), true
}

// Accounts returns copies of every account, sorted by id.
func (m *Machine) Accounts() []*lightkeeperv1.Account {
	out := make([]*lightkeeperv1.Account, 0, len(m.accounts))
	for _, id := range sortedKeys(m.accounts) {
		out = append(out, proto.Clone(m.accounts[id]).(*lightkeeperv1.Account))
	}
	return out
}

// Staking returns a copy of the economy's global state.
func (m *Machine) Staking() *lightkeeperv1.StakingState {
	return proto.Clone(m.staking).(*lightkeeperv1.StakingState)
}

// Group returns a copy of a group.
func (m *Machine) Group(id string) (*lightkeeperv1.Group, bool) {
	g, ok := m.groups[id]
	if !ok {
		return nil, false
	}
	return proto.Clone(g).(*lightkeeperv1.Group), true
}

// Groups returns copies of every group, sorted by id.
func (m *Machine) Groups() []*lightkeeperv1.Group {
	out := make([]*lightkeeperv1.Group, 0, len(m.groups))
	for _, id := range sortedKeys(m.groups) {
		out = append(out, proto.Clone(m.groups[id]).(*lightkeeperv1.Group))
	}
	return out
}

// Guarantees returns copies of the guarantees given by guarantor (when not
// empty) and received by target (when not empty), sorted by (guarantor,
// target).
func (m *Machine) Guarantees(guarantor, target string) []*lightkeeperv1.Guarantee {
	var out []*lightkeeperv1.Guarantee
	for _, key := range sortedKeys(m.guarantees) {
		g := m.guarantees[key]
		if (guarantor == "" || g.GuarantorId == guarantor) && (target == "" || g.TargetId == target) {
			out = append(out, proto.Clone(g).(*lightkeeperv1.Guarantee))
		}
	}
	return out
}

// Unbonding returns copies of the waiting unbonding entries of owner (all
// when empty), sorted by id.
func (m *Machine) Unbonding(owner string) []*lightkeeperv1.UnbondingEntry {
	var out []*lightkeeperv1.UnbondingEntry
	for _, id := range m.unbondingIDs() {
		if e := m.unbonding[id]; owner == "" || e.OwnerId == owner {
			out = append(out, proto.Clone(e).(*lightkeeperv1.UnbondingEntry))
		}
	}
	return out
}

// GroupStake is a group's (or a lone keeper's) standing in the economy.
type GroupStake struct {
	// Backing: own bonds of the electable members plus guarantees to the
	// group and to those members.
	Backing uint64
	// Limit: the sum of the electable members' stake limits.
	Limit uint64
	// Effective: min(Limit, Backing).
	Effective uint64
	// VoteCap: (members + 1) × total backing / min(max_elected,
	// registered keepers) — guarantees that take the raw backing above it
	// are refused.
	VoteCap uint64
	// RawBacking counts every member's bond and every guarantee, electable
	// or not (what the vote cap is checked against).
	RawBacking uint64
}

// GroupStake returns the standing of a group id or a lone keeper id.
func (m *Machine) GroupStake(id string) (GroupStake, bool) {
	m.recomputeStakes(nil)
	var gs GroupStake
	key, ok := m.candidateKeyOf(id)
	if !ok {
		return gs, false
	}
	for _, c := range m.cands {
		if c.key == key {
			gs.Backing, gs.Limit, gs.Effective = c.backing, c.limit, c.effective
		}
	}
	gs.RawBacking, gs.VoteCap = m.voteCap(key)
	return gs, true
}

// TotalSupply returns the sum of every bucket: balances, own bonds,
// guarantees, unbonding entries, the fee pot and the community fund. The
// machine keeps it equal to genesis supply + minted (the simulation checks
// that after every block).
func (m *Machine) TotalSupply() uint64 {
	var sum uint64
	for _, a := range m.accounts {
		sum += a.Balance
	}
	for _, k := range m.keepers {
		sum += k.Stake
	}
	for _, g := range m.guarantees {
		sum += g.Amount
	}
	for _, e := range m.unbonding {
		sum += e.Amount
	}
	return sum + m.staking.FeePot + m.staking.CommunityFund + m.pool.balance
}

// EpochAt returns the epoch index of a time (unix ms) and when it starts.
func (m *Machine) EpochAt(unixMilli int64) (epoch uint64, start int64) {
	g := m.staking.GenesisTime.AsTime().UnixMilli()
	l := millis(m.params.Staking.EpochLength)
	if unixMilli <= g {
		return 0, g
	}
	e := (unixMilli - g) / l
	return uint64(e), g + e*l
}

// NextEpochAt returns when the next epoch begins (unix ms).
func (m *Machine) NextEpochAt() int64 {
	g := m.staking.GenesisTime.AsTime().UnixMilli()
	return g + int64(m.staking.Epoch+1)*millis(m.params.Staking.EpochLength)
}

// NextWakeup returns the earliest time at which an empty block would
// change the state: a round deadline, an unbonding entry completing, a
// keeper's chain session ending, or the next epoch. The service makes a block once its clock passes it.
func (m *Machine) NextWakeup() int64 {
	t := m.NextEpochAt()
	if d, ok := m.NextDeadline(); ok && d < t {
		t = d
	}
	if len(m.completions) > 0 && m.completions[0].at < t {
		t = m.completions[0].at
	}
	if len(m.sessionEnds) > 0 && m.sessionEnds[0].at < t {
		t = m.sessionEnds[0].at
	}
	return t
}

func tsOrNil(ms int64) *timestamppb.Timestamp {
	if ms == 0 {
		return nil
	}
	return tsMilli(ms)
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func joinShort(ids []string) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = shortID(id)
	}
	return strings.Join(s, " ")
}

// collectEconomy puts the economy's changed records into the Result.
func (a *applier) collectEconomy() {
	m, res := a.m, a.res
	for _, id := range sortedKeys(a.accounts) {
		res.Accounts = append(res.Accounts, proto.Clone(m.accounts[id]).(*lightkeeperv1.Account))
	}
	for _, key := range sortedKeys(a.guarantees) {
		if g, ok := m.guarantees[key]; ok {
			res.Guarantees = append(res.Guarantees, proto.Clone(g).(*lightkeeperv1.Guarantee))
		} else if g, ok := a.removedGuarantees[key]; ok {
			g.Amount = 0
			res.Guarantees = append(res.Guarantees, g)
		}
	}
	for _, id := range sortedKeys(a.groups) {
		res.Groups = append(res.Groups, proto.Clone(m.groups[id]).(*lightkeeperv1.Group))
	}
	var ids []uint64
	for id := range a.unbonding {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if e, ok := m.unbonding[id]; ok {
			res.Unbonding = append(res.Unbonding, proto.Clone(e).(*lightkeeperv1.UnbondingEntry))
		}
	}
	for id := range a.unbondingRemoved {
		res.UnbondingRemoved = append(res.UnbondingRemoved, id)
	}
	slices.Sort(res.UnbondingRemoved)
	res.Staking = m.Staking()
}
