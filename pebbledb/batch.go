package pebbledb

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Batch collects writes that Commit applies atomically and durably.
// Nothing written to a Batch is visible to readers before Commit. A Batch
// is not safe for concurrent use, and the store expects one writer: do not
// commit two batches that touch the same records concurrently. An Apply
// (or Put) that returns an error has written nothing, and the Batch stays
// usable.
type Batch struct {
	s    *Store
	b    *pebble.Batch
	done bool
	// pending holds, by full key, the records of indexed families this
	// batch put (nil: deleted), so a second write of the same record in
	// the batch finds the index keys of the first.
	pending map[string]proto.Message
}

// NewBatch starts a batch. On a closed Store every method of the batch
// returns ErrClosed.
func (s *Store) NewBatch() *Batch {
	if s.closed.Load() {
		return &Batch{s: s, done: true}
	}
	return &Batch{s: s, b: s.db.NewBatch()}
}

var marshalOptions = proto.MarshalOptions{Deterministic: true}

func (b *Batch) check() error {
	if b.done {
		return fmt.Errorf("%w: batch already committed or closed", ErrClosed)
	}
	return b.s.check()
}

// op is one checked change: its full key and, for a put, its value.
type op struct {
	c   ledger.Change
	key []byte
	val []byte
}

// Apply writes a change set: every put and delete of any family, with the
// family's indexes kept in step (an index key of the record as stored
// before is deleted when the new record has another one, or none). Every
// key and value is checked before anything is written.
func (b *Batch) Apply(cs ledger.ChangeSet) error {
	if err := b.check(); err != nil {
		return err
	}
	ops := make([]op, len(cs))
	for i, c := range cs {
		o, err := prepare(c)
		if err != nil {
			return err
		}
		ops[i] = o
	}
	for _, o := range ops {
		if err := b.write(o); err != nil {
			return err
		}
	}
	return nil
}

func prepare(c ledger.Change) (op, error) {
	f := c.Family
	if f == nil {
		return op{}, fmt.Errorf("%w: change without a family", ErrInvalidRecord)
	}
	if c.Record == nil || !c.Record.ProtoReflect().IsValid() {
		return op{}, fmt.Errorf("%w: nil %s", ErrInvalidRecord, f.Name)
	}
	k, err := f.Key(c.Record)
	if err != nil {
		return op{}, storeErr(err)
	}
	o := op{c: c, key: prefixed(f.Prefix, k)}
	if !c.Delete {
		if o.val, err = marshalOptions.Marshal(c.Record); err != nil {
			return op{}, fmt.Errorf("pebbledb: marshal %s: %w", f.Name, err)
		}
	}
	return o, nil
}

func (b *Batch) write(o op) error {
	f := o.c.Family
	if len(f.Indexes) > 0 {
		if err := b.reindex(o); err != nil {
			return err
		}
	}
	var err error
	if o.c.Delete {
		err = b.b.Delete(o.key, nil)
	} else {
		err = b.b.Set(o.key, o.val, nil)
	}
	if err != nil {
		return fmt.Errorf("pebbledb: batch write %s: %w", f.Name, err)
	}
	return nil
}

// reindex updates the index keys of one record: it removes those of the
// record as stored (or as put earlier in this batch) that the new record
// does not have, and sets the new record's.
func (b *Batch) reindex(o op) error {
	prev, err := b.stored(o.c.Family, o.key)
	if err != nil {
		return err
	}
	for _, ix := range o.c.Family.Indexes {
		var newKey []byte
		in := false
		if !o.c.Delete {
			newKey, in = ix.Key(o.c.Record)
		}
		if prev != nil {
			if oldKey, had := ix.Key(prev); had && (!in || !bytes.Equal(oldKey, newKey)) {
				if err := b.b.Delete(prefixed(ix.Prefix, oldKey), nil); err != nil {
					return err
				}
			}
		}
		if in {
			if err := b.b.Set(prefixed(ix.Prefix, newKey), nil, nil); err != nil {
				return err
			}
		}
	}
	if b.pending == nil {
		b.pending = make(map[string]proto.Message)
	}
	if o.c.Delete {
		b.pending[string(o.key)] = nil
	} else {
		b.pending[string(o.key)] = proto.Clone(o.c.Record)
	}
	return nil
}

// stored returns the record under key as this batch would leave it, nil
// if there is none.
func (b *Batch) stored(f *ledger.Family, key []byte) (proto.Message, error) {
	if m, ok := b.pending[string(key)]; ok {
		return m, nil
	}
	m := f.New()
	if err := get(b.s.db, key, m); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return m, nil
}

// put writes one record of a family.
func (b *Batch) put(f *ledger.Family, m proto.Message) error {
	return b.Apply(ledger.ChangeSet{{Family: f, Record: m}})
}

// PutMeta stores the state meta. A committed PutMeta marks the store
// initialized.
func (b *Batch) PutMeta(m *lightkeeperv1.StateMeta) error { return b.put(ledger.Meta, m) }

// PutGenesis stores the genesis.
func (b *Batch) PutGenesis(g *lightkeeperv1.Genesis) error { return b.put(ledger.Genesis, g) }

// PutBlock stores a block under its header height.
func (b *Batch) PutBlock(blk *lightkeeperv1.Block) error { return b.put(ledger.Block, blk) }

// PutRound stores a round and maintains its indexes: the open-rounds index
// holds the round unless its phase is CLOSED, and the listing index holds
// it under (submitted_height, id); if the stored round had another
// submitted_height its old listing entry is removed.
func (b *Batch) PutRound(r *lightkeeperv1.Round) error { return b.put(ledger.Round, r) }

// PutKeeper stores a keeper under its id.
func (b *Batch) PutKeeper(k *lightkeeperv1.Keeper) error { return b.put(ledger.Keeper, k) }

// PutVerifyingKey stores a verifying key under its id.
func (b *Batch) PutVerifyingKey(vk *lightkeeperv1.VerifyingKey) error {
	return b.put(ledger.VerifyingKey, vk)
}

// PutProgram stores a registered program: its metadata (ledger.Program)
// and, when p.Module is set, the whole record with the module bytes
// (ledger.ProgramModule), so listing programs never reads modules.
func (b *Batch) PutProgram(p *lightkeeperv1.Program) error {
	if p == nil {
		return b.put(ledger.Program, p)
	}
	return b.Apply(ledger.PutProgram(nil, p))
}

// PutEvidence stores equivocation evidence under (height, keeper id,
// round id).
func (b *Batch) PutEvidence(e *lightkeeperv1.Evidence) error { return b.put(ledger.Evidence, e) }

// Commit applies every write of the batch in one atomic Pebble batch and
// syncs the write-ahead log before it returns. Afterwards the batch is
// unusable (Close is then a no-op), whether Commit succeeded or not.
func (b *Batch) Commit() error {
	if err := b.check(); err != nil {
		b.release()
		return err
	}
	err := b.b.Commit(pebble.Sync)
	b.release()
	if err != nil {
		return fmt.Errorf("pebbledb: commit: %w", err)
	}
	return nil
}

// Close discards the batch without committing. It returns nil, also after
// Commit or a previous Close, so `defer b.Close()` is always safe.
func (b *Batch) Close() error {
	b.release()
	return nil
}

func (b *Batch) release() {
	b.done = true
	b.pending = nil
	if b.b != nil {
		// Batch.Close only returns the batch to its pool.
		_ = b.b.Close()
		b.b = nil
	}
}
