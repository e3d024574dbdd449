package pebbledb

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// The economy's records (docs/design.md §9): accounts, the global staking state,
// guarantees, groups, unbonding entries and epoch statements.

// PutAccount stores an account under its id.
func (b *Batch) PutAccount(a *lightkeeperv1.Account) error {
	if err := b.check(); err != nil {
		return err
	}
	if a == nil {
		return invalid("account")
	}
	id, err := parseID("account id", a.GetId())
	if err != nil {
		return err
	}
	return b.put(idKey(prefixAccount, id), a)
}

// PutStaking stores the global staking state.
func (b *Batch) PutStaking(s *lightkeeperv1.StakingState) error {
	if err := b.check(); err != nil {
		return err
	}
	if s == nil {
		return invalid("staking state")
	}
	return b.put([]byte{prefixStaking}, s)
}

// PutGuarantee stores a guarantee under (guarantor, target), or deletes it
// when its amount is 0.
func (b *Batch) PutGuarantee(g *lightkeeperv1.Guarantee) error {
	if err := b.check(); err != nil {
		return err
	}
	if g == nil {
		return invalid("guarantee")
	}
	guarantor, err := parseID("guarantor id", g.GetGuarantorId())
	if err != nil {
		return err
	}
	target, err := parseID("guarantee target id", g.GetTargetId())
	if err != nil {
		return err
	}
	key := guaranteeKey(guarantor, target)
	if g.GetAmount() == 0 {
		if err := b.b.Delete(key, nil); err != nil {
			return fmt.Errorf("pebbledb: batch delete guarantee: %w", err)
		}
		return nil
	}
	return b.put(key, g)
}

// PutGroup stores a group under its id.
func (b *Batch) PutGroup(g *lightkeeperv1.Group) error {
	if err := b.check(); err != nil {
		return err
	}
	if g == nil {
		return invalid("group")
	}
	id, err := parseID("group id", g.GetId())
	if err != nil {
		return err
	}
	return b.put(idKey(prefixGroup, id), g)
}

// PutUnbonding stores an unbonding entry under its id.
func (b *Batch) PutUnbonding(e *lightkeeperv1.UnbondingEntry) error {
	if err := b.check(); err != nil {
		return err
	}
	if e == nil {
		return invalid("unbonding entry")
	}
	return b.put(seqKey(prefixUnbonding, e.GetId()), e)
}

// DeleteUnbonding deletes an unbonding entry (paid out or cancelled).
func (b *Batch) DeleteUnbonding(id uint64) error {
	if err := b.check(); err != nil {
		return err
	}
	if err := b.b.Delete(seqKey(prefixUnbonding, id), nil); err != nil {
		return fmt.Errorf("pebbledb: batch delete unbonding entry: %w", err)
	}
	return nil
}

// PutEpoch stores a completed epoch's statement under its number.
func (b *Batch) PutEpoch(r *lightkeeperv1.EpochRecord) error {
	if err := b.check(); err != nil {
		return err
	}
	if r == nil {
		return invalid("epoch record")
	}
	return b.put(seqKey(prefixEpoch, r.GetEpoch()), r)
}

// Account returns the account with the given id.
func (s *Store) Account(id string) (*lightkeeperv1.Account, error) {
	a := new(lightkeeperv1.Account)
	if err := s.getByID(prefixAccount, "account", id, a); err != nil {
		return nil, err
	}
	return a, nil
}

// Accounts returns every account, sorted by id.
func (s *Store) Accounts() ([]*lightkeeperv1.Account, error) {
	return scanRecords(s, prefixAccount, func() *lightkeeperv1.Account { return new(lightkeeperv1.Account) })
}

// Staking returns the global staking state; ErrNotFound if none was stored.
func (s *Store) Staking() (*lightkeeperv1.StakingState, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	st := new(lightkeeperv1.StakingState)
	if err := get(s.db, []byte{prefixStaking}, st); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: staking state", ErrNotFound)
		}
		return nil, err
	}
	return st, nil
}

// Guarantees returns every guarantee, by guarantor then target.
func (s *Store) Guarantees() ([]*lightkeeperv1.Guarantee, error) {
	return scanRecords(s, prefixGuarantee, func() *lightkeeperv1.Guarantee { return new(lightkeeperv1.Guarantee) })
}

// Group returns the group with the given id.
func (s *Store) Group(id string) (*lightkeeperv1.Group, error) {
	g := new(lightkeeperv1.Group)
	if err := s.getByID(prefixGroup, "group", id, g); err != nil {
		return nil, err
	}
	return g, nil
}

// Groups returns every group, sorted by id.
func (s *Store) Groups() ([]*lightkeeperv1.Group, error) {
	return scanRecords(s, prefixGroup, func() *lightkeeperv1.Group { return new(lightkeeperv1.Group) })
}

// Unbonding returns every waiting unbonding entry, by id.
func (s *Store) Unbonding() ([]*lightkeeperv1.UnbondingEntry, error) {
	return scanRecords(s, prefixUnbonding, func() *lightkeeperv1.UnbondingEntry { return new(lightkeeperv1.UnbondingEntry) })
}

// Epoch returns the statement of a completed epoch.
func (s *Store) Epoch(epoch uint64) (*lightkeeperv1.EpochRecord, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	r := new(lightkeeperv1.EpochRecord)
	if err := get(s.db, seqKey(prefixEpoch, epoch), r); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: epoch %d", ErrNotFound, epoch)
		}
		return nil, err
	}
	return r, nil
}

// LastEpoch returns the statement of the latest completed epoch;
// ErrNotFound before the first epoch ends.
func (s *Store) LastEpoch() (*lightkeeperv1.EpochRecord, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	lo, hi := prefixBounds(prefixEpoch)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if !it.Last() {
		return nil, fmt.Errorf("%w: no epoch has ended", ErrNotFound)
	}
	val, err := it.ValueAndErr()
	if err != nil {
		return nil, err
	}
	r := new(lightkeeperv1.EpochRecord)
	if err := proto.Unmarshal(val, r); err != nil {
		return nil, corrupt(it.Key(), err)
	}
	return r, nil
}

// RoundHeights returns the submitted height of every round, by id, read
// from the keys of the listing index.
func (s *Store) RoundHeights() (map[string]uint64, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	lo, hi := prefixBounds(prefixRoundListing)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != listingKeyLen {
			_ = it.Close()
			return nil, fmt.Errorf("%w: listing key %x has length %d, want %d", ErrCorrupt, k, len(k), listingKeyLen)
		}
		rk, _ := listingRoundKey(k)
		id, _ := idFromKey(rk)
		out[id] = binary.BigEndian.Uint64(k[1 : 1+heightLen])
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	return out, nil
}
