package pebbledb

import (
	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// The economy's records (docs/design.md §9): accounts, the global staking state,
// guarantees, groups, unbonding entries and epoch statements.

// PutAccount stores an account under its id.
func (b *Batch) PutAccount(a *lightkeeperv1.Account) error { return b.put(ledger.Account, a) }

// PutStaking stores the global staking state.
func (b *Batch) PutStaking(s *lightkeeperv1.StakingState) error { return b.put(ledger.Staking, s) }

// PutGuarantee stores a guarantee under (guarantor, target), or deletes it
// when its amount is 0.
func (b *Batch) PutGuarantee(g *lightkeeperv1.Guarantee) error {
	return b.Apply(ledger.ChangeSet{{Family: ledger.Guarantee, Record: g, Delete: g != nil && g.GetAmount() == 0}})
}

// PutGroup stores a group under its id.
func (b *Batch) PutGroup(g *lightkeeperv1.Group) error { return b.put(ledger.Group, g) }

// PutUnbonding stores an unbonding entry under its id.
func (b *Batch) PutUnbonding(e *lightkeeperv1.UnbondingEntry) error {
	return b.put(ledger.Unbonding, e)
}

// DeleteUnbonding deletes an unbonding entry (paid out or cancelled).
func (b *Batch) DeleteUnbonding(id uint64) error {
	return b.Apply(ledger.Del(nil, ledger.Unbonding, &lightkeeperv1.UnbondingEntry{Id: id}))
}

// PutEpoch stores a completed epoch's statement under its number.
func (b *Batch) PutEpoch(r *lightkeeperv1.EpochRecord) error { return b.put(ledger.Epoch, r) }

// Account returns the account with the given id.
func (s *Store) Account(id string) (*lightkeeperv1.Account, error) {
	return recordByID[*lightkeeperv1.Account](s, ledger.Account, "account", id)
}

// Accounts returns every account, sorted by id.
func (s *Store) Accounts() ([]*lightkeeperv1.Account, error) {
	return records[*lightkeeperv1.Account](s, ledger.Account)
}

// Staking returns the global staking state; ErrNotFound if none was stored.
func (s *Store) Staking() (*lightkeeperv1.StakingState, error) {
	return record[*lightkeeperv1.StakingState](s, ledger.Staking, nil, "staking state")
}

// Guarantees returns every guarantee, by guarantor then target.
func (s *Store) Guarantees() ([]*lightkeeperv1.Guarantee, error) {
	return records[*lightkeeperv1.Guarantee](s, ledger.Guarantee)
}

// Group returns the group with the given id.
func (s *Store) Group(id string) (*lightkeeperv1.Group, error) {
	return recordByID[*lightkeeperv1.Group](s, ledger.Group, "group", id)
}

// Groups returns every group, sorted by id.
func (s *Store) Groups() ([]*lightkeeperv1.Group, error) {
	return records[*lightkeeperv1.Group](s, ledger.Group)
}

// Unbonding returns every waiting unbonding entry, by id.
func (s *Store) Unbonding() ([]*lightkeeperv1.UnbondingEntry, error) {
	return records[*lightkeeperv1.UnbondingEntry](s, ledger.Unbonding)
}

// Epoch returns the statement of a completed epoch.
func (s *Store) Epoch(epoch uint64) (*lightkeeperv1.EpochRecord, error) {
	return record[*lightkeeperv1.EpochRecord](s, ledger.Epoch, ledger.HeightKey(epoch), "epoch %d", epoch)
}

// LastEpoch returns the statement of the latest completed epoch;
// ErrNotFound before the first epoch ends.
func (s *Store) LastEpoch() (*lightkeeperv1.EpochRecord, error) {
	out, _, err := page[*lightkeeperv1.EpochRecord](s, ledger.Epoch, nil, 1, true)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, notFound("no epoch has ended")
	}
	return out[0], nil
}

// RoundHeights returns the submitted height of every round, by id, read
// from the keys of the listing index.
func (s *Store) RoundHeights() (map[string]uint64, error) {
	keys, err := s.indexKeys(ledger.RoundListing)
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64, len(keys))
	for _, k := range keys {
		h, id, _ := ledger.ParseListingKey(k)
		out[id] = h
	}
	return out, nil
}
