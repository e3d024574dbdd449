package pebbledb

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// The shielded pool's records (docs/withdrawals.md). The pool's tree and
// balance are part of StateMeta; spent nullifiers are stored one record
// each, twice: under the nullifier (the set the state machine restores)
// and under (height, index), the ledger order WatchWithdrawals streams.

const withdrawalKeyLen = 1 + heightLen + 4

func withdrawalKey(height uint64, index uint32) []byte {
	k := appendHeight(append(make([]byte, 0, withdrawalKeyLen), prefixWithdrawal), height)
	return binary.BigEndian.AppendUint32(k, index)
}

// PutSpentNullifier stores a paid withdrawal under its nullifier and under
// its (height, index).
func (b *Batch) PutSpentNullifier(sn *lightkeeperv1.SpentNullifier) error {
	if err := b.check(); err != nil {
		return err
	}
	if sn == nil {
		return invalid("spent nullifier")
	}
	if len(sn.GetNullifier()) != idLen {
		return fmt.Errorf("%w: spent nullifier: %d bytes, want %d", ErrInvalidRecord, len(sn.GetNullifier()), idLen)
	}
	if err := b.put(idKey(prefixNullifier, [idLen]byte(sn.Nullifier)), sn); err != nil {
		return err
	}
	return b.put(withdrawalKey(sn.GetHeight(), sn.GetIndex()), sn)
}

// SpentNullifiers returns every spent nullifier (32 bytes each), sorted.
func (s *Store) SpentNullifiers() ([][]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var out [][]byte
	err := scan(s.db, prefixNullifier, func(key, _ []byte) error {
		if len(key) != idKeyLen {
			return corrupt(key, fmt.Errorf("key length %d", len(key)))
		}
		out = append(out, append([]byte(nil), key[1:]...))
		return nil
	})
	return out, err
}

// SpentNullifier returns the record of a nullifier (ErrNotFound if it is
// unspent).
func (s *Store) SpentNullifier(nullifier []byte) (*lightkeeperv1.SpentNullifier, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if len(nullifier) != idLen {
		return nil, fmt.Errorf("%w: nullifier: %d bytes, want %d", ErrInvalidID, len(nullifier), idLen)
	}
	sn := new(lightkeeperv1.SpentNullifier)
	if err := get(s.db, idKey(prefixNullifier, [idLen]byte(nullifier)), sn); err != nil {
		return nil, err
	}
	return sn, nil
}

// Withdrawals returns up to limit paid withdrawals at or after (height,
// index), in ledger order.
func (s *Store) Withdrawals(height uint64, index uint32, limit int) ([]*lightkeeperv1.SpentNullifier, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	_, hi := prefixBounds(prefixWithdrawal)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: withdrawalKey(height, index), UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*lightkeeperv1.SpentNullifier
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		sn := new(lightkeeperv1.SpentNullifier)
		if err := proto.Unmarshal(val, sn); err != nil {
			return nil, corrupt(it.Key(), err)
		}
		out = append(out, sn)
	}
	return out, it.Error()
}

// PutPoolLeaf stores a leaf of the pool's tree under its index.
func (b *Batch) PutPoolLeaf(l *lightkeeperv1.PoolLeaf) error {
	if err := b.check(); err != nil {
		return err
	}
	if l == nil {
		return invalid("pool leaf")
	}
	if len(l.GetLeaf()) != idLen {
		return fmt.Errorf("%w: pool leaf: %d bytes, want %d", ErrInvalidRecord, len(l.GetLeaf()), idLen)
	}
	return b.put(seqKey(prefixPoolLeaf, l.GetIndex()), l)
}

// PoolLeaves returns up to limit leaves from index from, in order.
func (s *Store) PoolLeaves(from uint64, limit int) ([]*lightkeeperv1.PoolLeaf, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	_, hi := prefixBounds(prefixPoolLeaf)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: seqKey(prefixPoolLeaf, from), UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*lightkeeperv1.PoolLeaf
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		val, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		l := new(lightkeeperv1.PoolLeaf)
		if err := proto.Unmarshal(val, l); err != nil {
			return nil, corrupt(it.Key(), err)
		}
		out = append(out, l)
	}
	return out, it.Error()
}
