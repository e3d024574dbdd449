package state

// Indexes that keep the per-block work proportional to what is due rather
// than to everything that is open (issue #12): the keepers in id order,
// the open rounds by (deadline, id), the unbonding entries by (completion,
// id), the keepers' chain sessions by (expiry, id), and the weighted eligible list reused while no input of it changed.
// They are derived state: New, Restore and the mutations that add or
// remove records keep them in step, and the simulations check after every
// block that each equals a full scan (index_test.go).

import (
	"cmp"
	"slices"
	"strings"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// addKeeper puts a new keeper record in the map and in id order. Keepers
// are never removed.
func (m *Machine) addKeeper(k *lightkeeperv1.Keeper) {
	m.keepers[k.Id] = k
	i, _ := slices.BinarySearchFunc(m.keeperOrder, k.Id, func(x *lightkeeperv1.Keeper, id string) int {
		return strings.Compare(x.Id, id)
	})
	m.keeperOrder = slices.Insert(m.keeperOrder, i, k)
}

// keepersByID returns the live keeper records sorted by id; callers must
// not modify the slice.
func (m *Machine) keepersByID() []*lightkeeperv1.Keeper { return m.keeperOrder }

func byDeadline(a, b *openRound) int {
	if c := cmp.Compare(a.deadline, b.deadline); c != 0 {
		return c
	}
	return strings.Compare(a.r.Id, b.r.Id)
}

// indexDeadline adds an open round to the deadline index. Deadlines are
// block time + a fixed timeout, so the insertion point is at or near the
// end.
func (m *Machine) indexDeadline(o *openRound) {
	i, _ := slices.BinarySearchFunc(m.deadlines, o, byDeadline)
	m.deadlines = slices.Insert(m.deadlines, i, o)
}

// takeDue removes from the deadline index and returns, in (deadline, id)
// order, the open rounds whose deadline is at or before now.
func (m *Machine) takeDue(now int64) []*openRound {
	n, _ := slices.BinarySearchFunc(m.deadlines, now, func(o *openRound, t int64) int {
		if o.deadline <= t {
			return -1
		}
		return 1
	})
	due := slices.Clone(m.deadlines[:n])
	clear(m.deadlines[:n]) // the array outlives the slice: drop the references
	m.deadlines = m.deadlines[n:]
	return due
}

// unbondingDue is an unbonding entry in the completion index.
type unbondingDue struct {
	at int64 // completes_at, unix ms (fixed when the entry is created)
	id uint64
}

func byCompletion(a, b unbondingDue) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

func dueOf(e *lightkeeperv1.UnbondingEntry) unbondingDue {
	return unbondingDue{at: e.CompletesAt.AsTime().UnixMilli(), id: e.Id}
}

func (m *Machine) indexUnbonding(e *lightkeeperv1.UnbondingEntry) {
	d := dueOf(e)
	i, _ := slices.BinarySearchFunc(m.completions, d, byCompletion)
	m.completions = slices.Insert(m.completions, i, d)
}

func (m *Machine) unindexUnbonding(e *lightkeeperv1.UnbondingEntry) {
	if i, found := slices.BinarySearchFunc(m.completions, dueOf(e), byCompletion); found {
		m.completions = slices.Delete(m.completions, i, i+1)
	}
}

// dueUnbondingIDs returns the ids of the entries that complete at or
// before now, sorted by id (the order they are paid in).
func (m *Machine) dueUnbondingIDs(now int64) []uint64 {
	var ids []uint64
	for _, d := range m.completions {
		if d.at > now {
			break
		}
		ids = append(ids, d.id)
	}
	slices.Sort(ids)
	return ids
}

// eligibleList is the weighted eligible list as last computed, with the
// inputs it was computed from.
type eligibleList struct {
	keepers []*lightkeeperv1.Keeper // id, effective stake as Stake, reputation
	weights *protocol.EligibleList
}

// eligibleWeights returns protocol.Weights of the eligible keepers. The
// list is recomputed only when a keeper entered or left it or changed its
// effective stake or reputation since the last call — checked by one pass
// over the keepers, without allocating — so rounds opened while nothing
// changed share one list. Callers must not modify it.
func (m *Machine) eligibleWeights() (*protocol.EligibleList, error) {
	if c := m.eligibleCache; c != nil && m.eligibleUnchanged(c.keepers) {
		return c.weights, nil
	}
	keepers := m.eligible()
	list, err := protocol.NewEligibleList(protocol.Weights(keepers, m.params))
	if err != nil {
		return nil, err
	}
	m.eligibleCache = &eligibleList{keepers: keepers, weights: list}
	return list, nil
}

// isEligible is the filter of eligible().
func (m *Machine) isEligible(k *lightkeeperv1.Keeper) bool {
	return k.Active && k.Registered && k.Online && m.electable(k) && k.Reputation >= m.params.MinReputation && k.EffectiveStake > 0
}

func (m *Machine) eligibleUnchanged(cached []*lightkeeperv1.Keeper) bool {
	j := 0
	for _, k := range m.keeperOrder {
		if !m.isEligible(k) {
			continue
		}
		if j == len(cached) {
			return false
		}
		c := cached[j]
		if c.Id != k.Id || c.Stake != k.EffectiveStake || c.Reputation != k.Reputation {
			return false
		}
		j++
	}
	return j == len(cached)
}

// sessionDue is a keeper's chain session in the expiry index.
type sessionDue struct {
	at int64 // session_expires_at, unix ms
	id string
}

func bySessionEnd(a, b sessionDue) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// indexSession adds k's session expiry, if it has one, to the index.
func (m *Machine) indexSession(k *lightkeeperv1.Keeper) {
	if k.SessionExpiresAt == nil {
		return
	}
	d := sessionDue{at: k.SessionExpiresAt.AsTime().UnixMilli(), id: k.Id}
	i, _ := slices.BinarySearchFunc(m.sessionEnds, d, bySessionEnd)
	m.sessionEnds = slices.Insert(m.sessionEnds, i, d)
}

// unindexSession removes k's session expiry, as it stands, from the index.
func (m *Machine) unindexSession(k *lightkeeperv1.Keeper) {
	if k.SessionExpiresAt == nil {
		return
	}
	d := sessionDue{at: k.SessionExpiresAt.AsTime().UnixMilli(), id: k.Id}
	if i, found := slices.BinarySearchFunc(m.sessionEnds, d, bySessionEnd); found {
		m.sessionEnds = slices.Delete(m.sessionEnds, i, i+1)
	}
}

// takeSessionsDue removes from the index and returns, in (expiry, id)
// order, the keepers whose session ends at or before now.
func (m *Machine) takeSessionsDue(now int64) []string {
	var ids []string
	n := 0
	for _, d := range m.sessionEnds {
		if d.at > now {
			break
		}
		ids = append(ids, d.id)
		n++
	}
	m.sessionEnds = slices.Delete(m.sessionEnds, 0, n)
	return ids
}
