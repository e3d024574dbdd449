package state

import (
	"encoding/hex"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// The change set: how the machine's records reach the store and come back
// (docs/design.md §10). A kind of record is one ledger.Family; the
// machine lists its changes in Result.Changes (changeSet) and reads it
// back in FromLedger. The store writes and loads every family through
// one generic path and knows none by name.

// changeSet lists a Result's records as puts and deletes, families in the
// order of ledger.Families and, within one, in the Result's order.
func (r *Result) changeSet(genesis *lightkeeperv1.Genesis) ledger.ChangeSet {
	cs := ledger.Put(nil, ledger.Meta, r.Meta)
	if genesis != nil {
		cs = ledger.Put(cs, ledger.Genesis, genesis)
	}
	cs = ledger.Put(cs, ledger.Block, r.Block)
	cs = ledger.Put(cs, ledger.Round, r.Rounds...)
	cs = ledger.Put(cs, ledger.Keeper, r.Keepers...)
	cs = ledger.Put(cs, ledger.VerifyingKey, r.VerifyingKeys...)
	cs = ledger.Put(cs, ledger.Evidence, r.Evidence...)
	cs = ledger.Put(cs, ledger.Account, r.Accounts...)
	if r.Staking != nil {
		cs = ledger.Put(cs, ledger.Staking, r.Staking)
	}
	for _, g := range r.Guarantees {
		cs = append(cs, ledger.Change{Family: ledger.Guarantee, Record: g, Delete: g.GetAmount() == 0})
	}
	cs = ledger.Put(cs, ledger.Group, r.Groups...)
	cs = ledger.Put(cs, ledger.Unbonding, r.Unbonding...)
	for _, id := range r.UnbondingRemoved {
		cs = ledger.Del(cs, ledger.Unbonding, &lightkeeperv1.UnbondingEntry{Id: id})
	}
	cs = ledger.Put(cs, ledger.Epoch, r.Epochs...)
	var modules ledger.ChangeSet
	for _, p := range r.Programs {
		for _, c := range ledger.PutProgram(nil, p) {
			if c.Family == ledger.Program {
				cs = append(cs, c)
			} else {
				modules = append(modules, c)
			}
		}
	}
	cs = append(cs, modules...)
	cs = ledger.Put(cs, ledger.SpentNullifier, r.SpentNullifiers...)
	cs = ledger.Put(cs, ledger.Withdrawal, r.SpentNullifiers...)
	cs = ledger.Put(cs, ledger.PoolLeaf, r.PoolLeaves...)
	cs = ledger.Put(cs, ledger.EligibleLists, r.EligibleLists...)
	cs = ledger.Put(cs, ledger.PendingReveal, r.PendingReveals...)
	for _, id := range r.PendingRevealsRemoved {
		cs = ledger.Del(cs, ledger.PendingReveal, &lightkeeperv1.PendingReveal{Round: &lightkeeperv1.Round{Id: id}})
	}
	return ledger.Put(cs, ledger.ChallengerQuota, r.ChallengerQuotas...)
}

// RestoreLedger is FromLedger then Restore: the machine a store's records
// describe, with the snapshot it was restored from.
func RestoreLedger(l *ledger.Snapshot) (*Machine, Snapshot, error) {
	snap, err := FromLedger(l)
	if err != nil {
		return nil, Snapshot{}, fmt.Errorf("restore state: %w", err)
	}
	m, err := Restore(snap)
	if err != nil {
		return nil, Snapshot{}, fmt.Errorf("restore state: %w", err)
	}
	return m, snap, nil
}

// FromLedger builds the Snapshot that Restore takes from what the store
// loaded of ledger.Families. A record of the wrong type, or a malformed
// key, is ErrInvalidSnapshot naming its family.
func FromLedger(l *ledger.Snapshot) (Snapshot, error) {
	var s Snapshot
	if l == nil {
		return s, fmt.Errorf("%w: nothing loaded", ErrInvalidSnapshot)
	}
	metas, err := recordsOf[*lightkeeperv1.StateMeta](l, ledger.Meta.Name)
	if err != nil {
		return s, err
	}
	if len(metas) != 1 {
		return s, fmt.Errorf("%w: %d state metas, want 1", ErrInvalidSnapshot, len(metas))
	}
	s.Meta = metas[0]
	stakings, err := recordsOf[*lightkeeperv1.StakingState](l, ledger.Staking.Name)
	if err != nil {
		return s, err
	}
	if len(stakings) > 1 {
		return s, fmt.Errorf("%w: %d staking states, want 1", ErrInvalidSnapshot, len(stakings))
	}
	if len(stakings) == 1 {
		s.Staking = stakings[0]
	}
	if s.Keepers, err = recordsOf[*lightkeeperv1.Keeper](l, ledger.Keeper.Name); err != nil {
		return s, err
	}
	if s.OpenRounds, err = recordsOf[*lightkeeperv1.Round](l, ledger.OpenRounds.Name); err != nil {
		return s, err
	}
	if s.VerifyingKeys, err = recordsOf[*lightkeeperv1.VerifyingKey](l, ledger.VerifyingKey.Name); err != nil {
		return s, err
	}
	if s.Programs, err = recordsOf[*lightkeeperv1.Program](l, ledger.Program.Name); err != nil {
		return s, err
	}
	if s.Evidence, err = recordsOf[*lightkeeperv1.Evidence](l, ledger.Evidence.Name); err != nil {
		return s, err
	}
	if s.Accounts, err = recordsOf[*lightkeeperv1.Account](l, ledger.Account.Name); err != nil {
		return s, err
	}
	if s.Guarantees, err = recordsOf[*lightkeeperv1.Guarantee](l, ledger.Guarantee.Name); err != nil {
		return s, err
	}
	if s.Groups, err = recordsOf[*lightkeeperv1.Group](l, ledger.Group.Name); err != nil {
		return s, err
	}
	if s.Unbonding, err = recordsOf[*lightkeeperv1.UnbondingEntry](l, ledger.Unbonding.Name); err != nil {
		return s, err
	}
	// The listing index holds every round ever created, with the height
	// it was submitted at (the offence height of evidence about it).
	heights := make(map[string]uint64)
	for i, k := range l.Keys[ledger.RoundListing.Name] {
		h, id, ok := ledger.ParseListingKey(k)
		if !ok {
			return s, fmt.Errorf("%w: %s key %d: %d bytes", ErrInvalidSnapshot, ledger.RoundListing.Name, i, len(k))
		}
		s.RoundIDs = append(s.RoundIDs, id)
		heights[id] = h
	}
	slices.Sort(s.RoundIDs) // as Machine.Snapshot lists them
	for _, id := range s.RoundIDs {
		s.RoundHeights = append(s.RoundHeights, heights[id])
	}
	for i, k := range l.Keys[ledger.SpentNullifier.Name] {
		if len(k) != ledger.IDLen {
			return s, fmt.Errorf("%w: %s %d: %s is not %d bytes", ErrInvalidSnapshot, ledger.SpentNullifier.Name, i, hex.EncodeToString(k), ledger.IDLen)
		}
		s.SpentNullifiers = append(s.SpentNullifiers, k)
	}
	if s.PendingReveals, err = recordsOf[*lightkeeperv1.PendingReveal](l, ledger.PendingReveal.Name); err != nil {
		return s, err
	}
	if s.ChallengerQuotas, err = recordsOf[*lightkeeperv1.ChallengerQuota](l, ledger.ChallengerQuota.Name); err != nil {
		return s, err
	}
	for i, k := range l.Keys[ledger.EligibleLists.Name] {
		if len(k) != ledger.IDLen {
			return s, fmt.Errorf("%w: %s %d: %s is not %d bytes", ErrInvalidSnapshot, ledger.EligibleLists.Name, i, hex.EncodeToString(k), ledger.IDLen)
		}
		s.EligibleLists = append(s.EligibleLists, k)
	}
	return s, nil
}

func recordsOf[T proto.Message](l *ledger.Snapshot, name string) ([]T, error) {
	recs := l.Records[name]
	out := make([]T, 0, len(recs))
	for i, m := range recs {
		t, ok := m.(T)
		if !ok {
			return nil, fmt.Errorf("%w: %s %d is a %T", ErrInvalidSnapshot, name, i, m)
		}
		out = append(out, t)
	}
	return out, nil
}
