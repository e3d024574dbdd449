package pebbledb

import (
	"encoding/binary"
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// The shielded pool's records (docs/withdrawals.md). The pool's tree and
// balance are part of StateMeta; spent nullifiers are stored one record
// each, twice: under the nullifier (the set the state machine restores)
// and under (height, index), the ledger order WatchWithdrawals streams.

// PutSpentNullifier stores a paid withdrawal under its nullifier and under
// its (height, index).
func (b *Batch) PutSpentNullifier(sn *lightkeeperv1.SpentNullifier) error {
	return b.Apply(ledger.PutSpentNullifier(nil, sn))
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
	if len(nullifier) != idLen {
		return nil, fmt.Errorf("%w: nullifier: %d bytes, want %d", ErrInvalidID, len(nullifier), idLen)
	}
	return record[*lightkeeperv1.SpentNullifier](s, ledger.SpentNullifier, nullifier, "spent nullifier %x", nullifier)
}

// Withdrawals returns up to limit paid withdrawals at or after (height,
// index), in ledger order.
func (s *Store) Withdrawals(height uint64, index uint32, limit int) ([]*lightkeeperv1.SpentNullifier, error) {
	from := binary.BigEndian.AppendUint32(ledger.HeightKey(height), index)
	out, _, err := page[*lightkeeperv1.SpentNullifier](s, ledger.Withdrawal, from, limit, false)
	return out, err
}

// PutPoolLeaf stores a leaf of the pool's tree under its index.
func (b *Batch) PutPoolLeaf(l *lightkeeperv1.PoolLeaf) error { return b.put(ledger.PoolLeaf, l) }

// PoolLeaves returns up to limit leaves from index from, in order.
func (s *Store) PoolLeaves(from uint64, limit int) ([]*lightkeeperv1.PoolLeaf, error) {
	out, _, err := page[*lightkeeperv1.PoolLeaf](s, ledger.PoolLeaf, ledger.HeightKey(from), limit, false)
	return out, err
}
