package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"

	"github.com/lightkeeper-net/lightkeeper/pebbledb"
)

// PebbleDBProvider opens CometBFT's own databases (block store, state,
// evidence, tx index) on Pebble: the same pebble/v2 the ledger uses,
// without the `pebbledb` build tag that cometbft-db v0.14's own Pebble
// backend needs (docs/design.md, "Replication on CometBFT"). Each
// database is <data dir>/<id>.pebble.
func PebbleDBProvider(log *slog.Logger) cmtcfg.DBProvider {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx *cmtcfg.DBContext) (dbm.DB, error) {
		dir := filepath.Join(ctx.Config.DBDir(), ctx.ID+".pebble")
		db, err := pebble.Open(dir, &pebble.Options{Logger: pebbledb.PebbleLogger(log.With("component", "cometbft-db", "db", ctx.ID))})
		if err != nil {
			return nil, fmt.Errorf("open CometBFT database %s: %w", ctx.ID, err)
		}
		return &cometDB{db: db}, nil
	}
}

// cometDB is cometbft-db's DB interface over Pebble. Its contract: keys
// are non-empty, values non-nil, a missing key reads as nil, returned
// slices belong to the caller.
//
// CometBFT v0.38 can read its block store after the node stopped and
// closed it (the consensus reactor's per-peer routines outlive Stop), and
// Pebble panics on a closed database. So Close waits for the calls in
// progress, and afterwards reads find nothing (those routines then end)
// while writes, iterators and batches fail with errClosed.
type cometDB struct {
	mu     sync.RWMutex
	db     *pebble.DB
	closed bool
}

var _ dbm.DB = (*cometDB)(nil)

var (
	errEmptyKey    = errors.New("cometbft db: key cannot be empty")
	errNilValue    = errors.New("cometbft db: value cannot be nil")
	errBatchClosed = errors.New("cometbft db: batch has been written or closed")
	errClosed      = errors.New("cometbft db: database closed")
)

// open runs f unless the database is closed, holding Close off meanwhile.
func (d *cometDB) open(f func() error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errClosed
	}
	return f()
}

func (d *cometDB) Get(key []byte) ([]byte, error) {
	if len(key) == 0 {
		return nil, errEmptyKey
	}
	var out []byte
	err := d.open(func() error {
		v, closer, err := d.db.Get(key)
		if errors.Is(err, pebble.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out = bytes.Clone(v)
		return closer.Close()
	})
	if errors.Is(err, errClosed) {
		return nil, nil
	}
	return out, err
}

func (d *cometDB) Has(key []byte) (bool, error) {
	v, err := d.Get(key)
	return v != nil, err
}

func (d *cometDB) set(key, value []byte, o *pebble.WriteOptions) error {
	if len(key) == 0 {
		return errEmptyKey
	}
	if value == nil {
		return errNilValue
	}
	return d.open(func() error { return d.db.Set(key, value, o) })
}

func (d *cometDB) del(key []byte, o *pebble.WriteOptions) error {
	if len(key) == 0 {
		return errEmptyKey
	}
	return d.open(func() error { return d.db.Delete(key, o) })
}

func (d *cometDB) Set(key, value []byte) error     { return d.set(key, value, pebble.NoSync) }
func (d *cometDB) SetSync(key, value []byte) error { return d.set(key, value, pebble.Sync) }
func (d *cometDB) Delete(key []byte) error         { return d.del(key, pebble.NoSync) }
func (d *cometDB) DeleteSync(key []byte) error     { return d.del(key, pebble.Sync) }

func (d *cometDB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.db.Close()
}

func (d *cometDB) NewBatch() dbm.Batch {
	b := &cometBatch{d: d}
	_ = d.open(func() error { b.b = d.db.NewBatch(); return nil })
	return b
}

func (d *cometDB) Stats() map[string]string {
	stats := map[string]string{}
	_ = d.open(func() error { stats["pebble"] = d.db.Metrics().String(); return nil })
	return stats
}

func (d *cometDB) Print() error {
	it, err := d.Iterator(nil, nil)
	if err != nil {
		return err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		fmt.Printf("[%X]:\t[%X]\n", it.Key(), it.Value())
	}
	return it.Error()
}

// Compact compacts [start, end); nil bounds mean the first and last key
// (Pebble wants a non-empty range).
func (d *cometDB) Compact(start, end []byte) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errClosed
	}
	if start == nil || end == nil {
		it, err := d.db.NewIter(nil)
		if err != nil {
			return err
		}
		if start == nil && it.First() {
			start = bytes.Clone(it.Key())
		}
		if end == nil && it.Last() {
			end = append(bytes.Clone(it.Key()), 0) // past the last key
		}
		if err := it.Close(); err != nil {
			return err
		}
		if start == nil || end == nil {
			return nil // empty database
		}
	}
	return d.db.Compact(context.Background(), start, end, true)
}

func (d *cometDB) Iterator(start, end []byte) (dbm.Iterator, error) {
	return d.iterator(start, end, false)
}

func (d *cometDB) ReverseIterator(start, end []byte) (dbm.Iterator, error) {
	return d.iterator(start, end, true)
}

func (d *cometDB) iterator(start, end []byte, reverse bool) (dbm.Iterator, error) {
	if (start != nil && len(start) == 0) || (end != nil && len(end) == 0) {
		return nil, errEmptyKey
	}
	var it *pebble.Iterator
	if err := d.open(func() (err error) {
		it, err = d.db.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
		return err
	}); err != nil {
		return nil, err
	}
	if reverse {
		it.Last()
	} else {
		it.First()
	}
	return &cometIterator{it: it, start: start, end: end, reverse: reverse}, nil
}

// cometIterator walks [start, end) forward or backward; the bounds are
// Pebble's, so every position it reaches is in the domain.
type cometIterator struct {
	it         *pebble.Iterator
	start, end []byte
	reverse    bool
	err        error
}

func (i *cometIterator) Domain() ([]byte, []byte) { return i.start, i.end }
func (i *cometIterator) Valid() bool              { return i.err == nil && i.it.Valid() }

func (i *cometIterator) Next() {
	if !i.Valid() {
		panic("cometbft db: Next on an invalid iterator") // the interface's contract
	}
	if i.reverse {
		i.it.Prev()
	} else {
		i.it.Next()
	}
}

func (i *cometIterator) Key() []byte {
	if !i.Valid() {
		panic("cometbft db: Key on an invalid iterator")
	}
	return bytes.Clone(i.it.Key())
}

func (i *cometIterator) Value() []byte {
	if !i.Valid() {
		panic("cometbft db: Value on an invalid iterator")
	}
	v, err := i.it.ValueAndErr()
	if err != nil {
		i.err = err
		return nil
	}
	return bytes.Clone(v)
}

func (i *cometIterator) Error() error {
	if i.err != nil {
		return i.err
	}
	return i.it.Error()
}

func (i *cometIterator) Close() error { return i.it.Close() }

type cometBatch struct {
	d *cometDB
	b *pebble.Batch // nil once written or closed
}

func (b *cometBatch) Set(key, value []byte) error {
	switch {
	case len(key) == 0:
		return errEmptyKey
	case value == nil:
		return errNilValue
	case b.b == nil:
		return errBatchClosed
	}
	return b.b.Set(key, value, nil)
}

func (b *cometBatch) Delete(key []byte) error {
	switch {
	case len(key) == 0:
		return errEmptyKey
	case b.b == nil:
		return errBatchClosed
	}
	return b.b.Delete(key, nil)
}

func (b *cometBatch) write(o *pebble.WriteOptions) error {
	if b.b == nil {
		return errBatchClosed
	}
	if err := b.d.open(func() error { return b.b.Commit(o) }); err != nil {
		return err
	}
	return b.Close()
}

func (b *cometBatch) Write() error     { return b.write(pebble.NoSync) }
func (b *cometBatch) WriteSync() error { return b.write(pebble.Sync) }

func (b *cometBatch) Close() error {
	if b.b == nil {
		return nil
	}
	err := b.b.Close()
	b.b = nil
	return err
}
