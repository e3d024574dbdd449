package pebbledb

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
)

// The generic read layer: every typed getter of the store is one of
// these on a ledger family.

func notFound(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotFound, fmt.Sprintf(format, args...))
}

// record reads the record of f under key (without prefix); a missing one
// is ErrNotFound with the message what.
func record[T proto.Message](s *Store, f *ledger.Family, key []byte, what string, args ...any) (T, error) {
	var zero T
	if err := s.check(); err != nil {
		return zero, err
	}
	m, ok := f.New().(T)
	if !ok {
		return zero, fmt.Errorf("pebbledb: family %s holds %T records", f.Name, f.New())
	}
	if err := get(s.db, prefixed(f.Prefix, key), m); err != nil {
		if errors.Is(err, ErrNotFound) {
			return zero, notFound(what, args...)
		}
		return zero, err
	}
	return m, nil
}

// recordByID reads the record of an id-keyed family.
func recordByID[T proto.Message](s *Store, f *ledger.Family, what, id string) (T, error) {
	if err := s.check(); err != nil {
		var zero T
		return zero, err
	}
	raw, err := parseID(what, id)
	if err != nil {
		var zero T
		return zero, err
	}
	return record[T](s, f, raw[:], "%s %s", what, id)
}

// records returns every record of a family in key order.
func records[T proto.Message](s *Store, f *ledger.Family) ([]T, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []T
	err := scan(s.db, f.Prefix, func(key, val []byte) error {
		m, err := decode[T](f, key, val)
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func decode[T proto.Message](f *ledger.Family, key, val []byte) (T, error) {
	var zero T
	m, ok := f.New().(T)
	if !ok {
		return zero, fmt.Errorf("pebbledb: family %s holds %T records", f.Name, f.New())
	}
	if err := proto.Unmarshal(val, m); err != nil {
		return zero, corrupt(key, err)
	}
	return m, nil
}

// page returns up to limit records of a family from key from (without
// prefix; nil: the first) forwards, or backwards from the last when
// reverse. more reports whether records remain.
func page[T proto.Message](s *Store, f *ledger.Family, from []byte, limit int, reverse bool) (out []T, more bool, err error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	lo, hi := prefixBounds(f.Prefix)
	if from != nil {
		lo = prefixed(f.Prefix, from)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, false, err
	}
	defer func() {
		if cerr := it.Close(); err == nil && cerr != nil {
			out, more, err = nil, false, cerr
		}
	}()
	next := it.Next
	ok := it.First()
	if reverse {
		next, ok = it.Prev, it.Last()
	}
	for ; ok && len(out) < limit; ok = next() {
		val, err := it.ValueAndErr()
		if err != nil {
			return nil, false, err
		}
		m, err := decode[T](f, it.Key(), val)
		if err != nil {
			return nil, false, err
		}
		out = append(out, m)
	}
	return out, ok, it.Error()
}

// indexKeys returns the keys (without prefix) of an index, in order.
func (s *Store) indexKeys(ix *ledger.Index) ([][]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return keysOf(s.db, ix.Prefix)
}

func keysOf(r pebble.Reader, prefix byte) ([][]byte, error) {
	var out [][]byte
	err := scan(r, prefix, func(key, _ []byte) error {
		out = append(out, append([]byte(nil), key[1:]...))
		return nil
	})
	return out, err
}

// indexed returns the records an index points at, in index order, read
// from r (one snapshot, so the index and the records agree).
func indexed(r pebble.Reader, f *ledger.Family, ix *ledger.Index) ([]proto.Message, error) {
	var out []proto.Message
	err := scan(r, ix.Prefix, func(key, _ []byte) error {
		target, ok := ix.Target(key[1:])
		if !ok {
			return fmt.Errorf("%w: %s key %x has an invalid length %d", ErrCorrupt, ix.Name, key, len(key))
		}
		m := f.New()
		if err := get(r, prefixed(f.Prefix, target), m); err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("%w: %s entry %x points at a missing %s", ErrCorrupt, ix.Name, key, f.Name)
			}
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// Load reads, from one consistent snapshot, what the state machine needs
// at a restart of every family given (and of their indexes), as each
// declares in its Load field.
func (s *Store) Load(families []*ledger.Family) (*ledger.Snapshot, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	out := &ledger.Snapshot{Records: map[string][]proto.Message{}, Keys: map[string][][]byte{}}
	for _, f := range families {
		switch f.Load {
		case ledger.LoadRecords:
			var recs []proto.Message
			err := scan(snap, f.Prefix, func(key, val []byte) error {
				m := f.New()
				if err := proto.Unmarshal(val, m); err != nil {
					return corrupt(key, err)
				}
				recs = append(recs, m)
				return nil
			})
			if err != nil {
				return nil, err
			}
			out.Records[f.Name] = recs
		case ledger.LoadKeys:
			keys, err := keysOf(snap, f.Prefix)
			if err != nil {
				return nil, err
			}
			out.Keys[f.Name] = keys
		}
		for _, ix := range f.Indexes {
			switch ix.Load {
			case ledger.LoadRecords:
				recs, err := indexed(snap, f, ix)
				if err != nil {
					return nil, err
				}
				out.Records[ix.Name] = recs
			case ledger.LoadKeys:
				keys, err := keysOf(snap, ix.Prefix)
				if err != nil {
					return nil, err
				}
				out.Keys[ix.Name] = keys
			}
		}
	}
	return out, nil
}
