package pebbledb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// appHashKey holds the replicated chain's last committed height and app
// hash (coordinator/replica): u64be(height) ‖ hash. It sits beside the
// layout key, outside every ledger family, because it is not a record the
// state machine restores but the proof of which block the records are at,
// and it must be written in the same batch as that block's changes so that
// a crash never leaves one without the other.
var appHashKey = []byte("\x00replica-apphash")

// PutAppHash records the replicated chain's height and app hash in the
// batch.
func (b *Batch) PutAppHash(height uint64, hash []byte) error {
	if err := b.check(); err != nil {
		return err
	}
	val := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(hash)), height)
	return b.b.Set(appHashKey, append(val, hash...), nil)
}

// AppHash returns the height and app hash of the last PutAppHash
// committed; ok is false when none was (a store written by the
// single-node coordinator, or a replica before its genesis).
func (s *Store) AppHash() (height uint64, hash []byte, ok bool, err error) {
	if err := s.check(); err != nil {
		return 0, nil, false, err
	}
	val, closer, err := s.db.Get(appHashKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, fmt.Errorf("pebbledb: read app hash: %w", err)
	}
	defer closer.Close()
	if len(val) < 8 {
		return 0, nil, false, fmt.Errorf("%w: app hash value is %d bytes, want at least 8", ErrCorrupt, len(val))
	}
	return binary.BigEndian.Uint64(val), bytes.Clone(val[8:]), true, nil
}
