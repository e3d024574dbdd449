package pebbledb

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Batch collects writes that Commit applies atomically and durably.
// Nothing written to a Batch is visible to readers before Commit. A Batch
// is not safe for concurrent use, and the store expects one writer: do not
// commit two batches that touch the same rounds concurrently. A Put that
// returns an error has written nothing, and the Batch stays usable.
type Batch struct {
	s    *Store
	b    *pebble.Batch
	done bool
	// rounds holds the submitted_height of every round put in this batch,
	// so a second PutRound of the same round finds its listing entry.
	rounds map[[idLen]byte]uint64
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

// put marshals m and sets it under key.
func (b *Batch) put(key []byte, m proto.Message) error {
	val, err := marshalOptions.Marshal(m)
	if err != nil {
		return fmt.Errorf("pebbledb: marshal %s: %w", familyName(key), err)
	}
	if err := b.b.Set(key, val, nil); err != nil {
		return fmt.Errorf("pebbledb: batch set %s: %w", familyName(key), err)
	}
	return nil
}

func invalid(what string) error {
	return fmt.Errorf("%w: nil %s", ErrInvalidRecord, what)
}

// PutMeta stores the state meta. A committed PutMeta marks the store
// initialized.
func (b *Batch) PutMeta(m *lightkeeperv1.StateMeta) error {
	if err := b.check(); err != nil {
		return err
	}
	if m == nil {
		return invalid("state meta")
	}
	return b.put([]byte{prefixMeta}, m)
}

// PutGenesis stores the genesis.
func (b *Batch) PutGenesis(g *lightkeeperv1.Genesis) error {
	if err := b.check(); err != nil {
		return err
	}
	if g == nil {
		return invalid("genesis")
	}
	return b.put([]byte{prefixGenesis}, g)
}

// PutBlock stores a block under its header height.
func (b *Batch) PutBlock(blk *lightkeeperv1.Block) error {
	if err := b.check(); err != nil {
		return err
	}
	if blk == nil {
		return invalid("block")
	}
	if blk.GetHeader() == nil {
		return fmt.Errorf("%w: block without header", ErrInvalidRecord)
	}
	return b.put(blockKey(blk.GetHeader().GetHeight()), blk)
}

// PutRound stores a round and maintains its indexes: the open-rounds index
// holds the round unless its phase is CLOSED, and the listing index holds
// it under (submitted_height, id); if the stored round had another
// submitted_height its old listing entry is removed.
func (b *Batch) PutRound(r *lightkeeperv1.Round) error {
	if err := b.check(); err != nil {
		return err
	}
	if r == nil {
		return invalid("round")
	}
	id, err := parseID("round id", r.GetId())
	if err != nil {
		return err
	}
	val, err := marshalOptions.Marshal(r)
	if err != nil {
		return fmt.Errorf("pebbledb: marshal round: %w", err)
	}
	rk := idKey(prefixRound, id)
	prev, had, err := b.storedSubmittedHeight(id, rk)
	if err != nil {
		return err
	}
	h := r.GetSubmittedHeight()
	if had && prev != h {
		if err := b.b.Delete(listingKey(prev, id), nil); err != nil {
			return err
		}
	}
	if err := b.b.Set(rk, val, nil); err != nil {
		return err
	}
	if err := b.b.Set(listingKey(h, id), nil, nil); err != nil {
		return err
	}
	ok := idKey(prefixOpenRound, id)
	if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
		err = b.b.Delete(ok, nil)
	} else {
		err = b.b.Set(ok, nil, nil)
	}
	if err != nil {
		return err
	}
	if b.rounds == nil {
		b.rounds = make(map[[idLen]byte]uint64)
	}
	b.rounds[id] = h
	return nil
}

// storedSubmittedHeight returns the submitted_height of the round as this
// batch would leave it: from an earlier PutRound in the batch, else from
// the database.
func (b *Batch) storedSubmittedHeight(id [idLen]byte, rk []byte) (uint64, bool, error) {
	if h, ok := b.rounds[id]; ok {
		return h, true, nil
	}
	val, closer, err := b.s.db.Get(rk)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("pebbledb: read round: %w", err)
	}
	defer closer.Close()
	h, err := submittedHeight(val)
	if err != nil {
		return 0, false, corrupt(rk, err)
	}
	return h, true, nil
}

// submittedHeightField is Round.submitted_height's field number.
const submittedHeightField = 4

// submittedHeight reads Round.submitted_height from marshaled bytes
// without decoding the rest (votes can be large).
func submittedHeight(b []byte) (uint64, error) {
	var h uint64
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
		if num == submittedHeightField && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, protowire.ParseError(n)
			}
			h = v // the last occurrence wins, as in proto.Unmarshal
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, protowire.ParseError(n)
		}
		b = b[n:]
	}
	return h, nil
}

// PutKeeper stores a keeper under its id.
func (b *Batch) PutKeeper(k *lightkeeperv1.Keeper) error {
	if err := b.check(); err != nil {
		return err
	}
	if k == nil {
		return invalid("keeper")
	}
	id, err := parseID("keeper id", k.GetId())
	if err != nil {
		return err
	}
	return b.put(idKey(prefixKeeper, id), k)
}

// PutVerifyingKey stores a verifying key under its id.
func (b *Batch) PutVerifyingKey(vk *lightkeeperv1.VerifyingKey) error {
	if err := b.check(); err != nil {
		return err
	}
	if vk == nil {
		return invalid("verifying key")
	}
	id, err := parseID("verifying key id", vk.GetId())
	if err != nil {
		return err
	}
	return b.put(idKey(prefixVerifyingKey, id), vk)
}

// PutProgram stores a registered program: its metadata under "w" and,
// when p.Module is set, the whole record with the module bytes under "x"
// (so listing programs never reads modules).
func (b *Batch) PutProgram(p *lightkeeperv1.Program) error {
	if err := b.check(); err != nil {
		return err
	}
	if p == nil {
		return invalid("program")
	}
	id, err := parseID("program id", p.GetId())
	if err != nil {
		return err
	}
	meta := proto.Clone(p).(*lightkeeperv1.Program)
	meta.Module = nil
	if err := b.put(idKey(prefixProgram, id), meta); err != nil {
		return err
	}
	if len(p.GetModule()) == 0 {
		return nil
	}
	return b.put(idKey(prefixModule, id), p)
}

// PutEvidence stores equivocation evidence under (height, keeper id,
// round id).
func (b *Batch) PutEvidence(e *lightkeeperv1.Evidence) error {
	if err := b.check(); err != nil {
		return err
	}
	if e == nil {
		return invalid("evidence")
	}
	keeper, err := parseID("evidence keeper id", e.GetKeeperId())
	if err != nil {
		return err
	}
	round, err := parseID("evidence round id", e.GetRoundId())
	if err != nil {
		return err
	}
	return b.put(evidenceKey(e.GetHeight(), keeper, round), e)
}

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
	b.rounds = nil
	if b.b != nil {
		// Batch.Close only returns the batch to its pool.
		_ = b.b.Close()
		b.b = nil
	}
}
