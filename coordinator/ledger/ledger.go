// Package ledger names the kinds of record the coordinator persists and
// carries one block's changes from the state machine to the store.
//
// A Family is one kind of record: a protobuf message type, the one-byte
// prefix of its keys in the store, the function that derives a record's
// key from its fields, and what part of it the state machine needs back
// when it restarts. A ChangeSet is the list of puts and deletes one block
// made, which the store writes in one atomic batch without knowing any
// family by name. Adding a kind of record is one entry in Families plus
// the code in the state machine that emits and restores it; the store
// and the service need no edit.
//
// The package is a leaf (standard library and protobuf types only) so
// that both the pure state machine and the store can import it.
package ledger

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Load says what the state machine needs of a family (or an index) when
// it restarts from the store.
type Load uint8

const (
	// LoadNone: history that handlers read on demand (blocks, epochs).
	LoadNone Load = iota
	// LoadRecords: every record is part of the machine's state.
	LoadRecords
	// LoadKeys: the machine needs only the keys (a set membership, such as
	// spent nullifiers or the ids of every round ever created).
	LoadKeys
)

// Family is one kind of persisted record.
type Family struct {
	// Name appears in error messages and is unique among families and
	// indexes.
	Name string
	// Prefix is the first byte of every key of the family in the store.
	Prefix byte
	// New returns an empty record of the family's message type.
	New func() proto.Message
	// Key returns the key of a record, without the prefix. It fails
	// (wrapping ErrInvalidID or ErrInvalidRecord) when a field the key is
	// built from is malformed.
	Key func(proto.Message) ([]byte, error)
	// Load is what a restart reads back of the family itself.
	Load Load
	// Indexes are secondary keys the store maintains with every put and
	// delete of the family.
	Indexes []*Index
}

// Index is a secondary key set of a family: for every record it holds at
// most one key (with an empty value) that points at the record.
type Index struct {
	Name   string
	Prefix byte
	// Key returns the index key of a record (without the prefix), and
	// false when the record is not in the index. The record's key has
	// been checked when Key runs.
	Key func(proto.Message) ([]byte, bool)
	// Target returns the family key an index key points at.
	Target func(indexKey []byte) ([]byte, bool)
	// Load: LoadRecords reads back the records the index points at,
	// LoadKeys the index keys.
	Load Load
}

// Change is one put or delete. Delete uses only the fields of Record
// that its key is built from.
type Change struct {
	Family *Family
	Record proto.Message
	Delete bool
}

// ChangeSet is what one block changed, in the order the store applies
// it: families in the order of Families, and within a family in the
// order the machine lists them (puts before deletes). A key put and
// deleted in the same set ends deleted.
type ChangeSet []Change

// Put appends a put of every record to cs.
func Put[T proto.Message](cs ChangeSet, f *Family, recs ...T) ChangeSet {
	for _, r := range recs {
		cs = append(cs, Change{Family: f, Record: r})
	}
	return cs
}

// Del appends a delete of every record's key to cs.
func Del[T proto.Message](cs ChangeSet, f *Family, recs ...T) ChangeSet {
	for _, r := range recs {
		cs = append(cs, Change{Family: f, Record: r, Delete: true})
	}
	return cs
}

// PutProgram appends the changes that store p: its metadata (Program,
// without module bytes) and, if p carries them, the whole record
// (ProgramModule).
func PutProgram(cs ChangeSet, p *lightkeeperv1.Program) ChangeSet {
	meta := proto.Clone(p).(*lightkeeperv1.Program)
	meta.Module = nil
	cs = Put(cs, Program, meta)
	if len(p.GetModule()) > 0 {
		cs = Put(cs, ProgramModule, p)
	}
	return cs
}

// PutSpentNullifier appends the changes that store a paid withdrawal:
// under its nullifier (SpentNullifier) and in ledger order (Withdrawal).
func PutSpentNullifier(cs ChangeSet, sn *lightkeeperv1.SpentNullifier) ChangeSet {
	return Put(Put(cs, SpentNullifier, sn), Withdrawal, sn)
}

// Snapshot is what a restart reads from the store: by family or index
// name, the records (LoadRecords) or the keys without prefix (LoadKeys),
// each in key order.
type Snapshot struct {
	Records map[string][]proto.Message
	Keys    map[string][][]byte
}

// Sentinel errors of key functions; the store's own sentinels wrap them.
var (
	ErrInvalidID     = errors.New("invalid id")
	ErrInvalidRecord = errors.New("invalid record")
)

// Key sizes.
const (
	IDLen     = 32 // a decoded id: SHA-256 digest or ed25519 public key
	HeightLen = 8  // a big-endian uint64
)

// ParseID decodes a 64-digit lowercase hex id. Upper-case digits are
// refused so that the id read back from a key is the string stored.
func ParseID(what, id string) ([IDLen]byte, error) {
	var out [IDLen]byte
	if len(id) != 2*IDLen {
		return out, fmt.Errorf("%w: %s %q: want %d lowercase hex digits, got %d characters", ErrInvalidID, what, id, 2*IDLen, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return out, fmt.Errorf("%w: %s %q: character %d (%q) is not a lowercase hex digit", ErrInvalidID, what, id, i, c)
		}
	}
	if _, err := hex.Decode(out[:], []byte(id)); err != nil {
		return out, fmt.Errorf("%w: %s %q: %v", ErrInvalidID, what, id, err)
	}
	return out, nil
}

// HeightKey is u64be(n): block heights, unbonding entry ids, epochs, leaf
// indexes.
func HeightKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// ListingKey is u64be(submitted_height) ‖ round id.
func ListingKey(height uint64, id [IDLen]byte) []byte {
	return append(HeightKey(height), id[:]...)
}

// ParseListingKey splits a round listing index key.
func ParseListingKey(k []byte) (height uint64, id string, ok bool) {
	if len(k) != HeightLen+IDLen {
		return 0, "", false
	}
	return binary.BigEndian.Uint64(k), hex.EncodeToString(k[HeightLen:]), true
}

// keyOf adapts a typed key function; a record of another type is an
// invalid record, never a panic.
func keyOf[T proto.Message](name string, key func(T) ([]byte, error)) func(proto.Message) ([]byte, error) {
	return func(m proto.Message) ([]byte, error) {
		t, ok := m.(T)
		if !ok || !m.ProtoReflect().IsValid() {
			return nil, fmt.Errorf("%w: %s: got %T", ErrInvalidRecord, name, m)
		}
		return key(t)
	}
}

func idKey(what string, id string) ([]byte, error) {
	b, err := ParseID(what, id)
	if err != nil {
		return nil, err
	}
	return b[:], nil
}

// The families, in the order of the store's key table.
var (
	Meta = &Family{Name: "meta", Prefix: 'm', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.StateMeta) },
		Key: keyOf("meta", func(*lightkeeperv1.StateMeta) ([]byte, error) { return nil, nil })}
	Genesis = &Family{Name: "genesis", Prefix: 'g',
		New: func() proto.Message { return new(lightkeeperv1.Genesis) },
		Key: keyOf("genesis", func(*lightkeeperv1.Genesis) ([]byte, error) { return nil, nil })}
	Block = &Family{Name: "block", Prefix: 'b',
		New: func() proto.Message { return new(lightkeeperv1.Block) },
		Key: keyOf("block", func(b *lightkeeperv1.Block) ([]byte, error) {
			if b.GetHeader() == nil {
				return nil, fmt.Errorf("%w: block without header", ErrInvalidRecord)
			}
			return HeightKey(b.Header.Height), nil
		})}
	// OpenRounds indexes the rounds whose phase is not CLOSED: the ones the
	// machine holds in memory.
	OpenRounds = &Index{Name: "open-round index", Prefix: 'o', Load: LoadRecords,
		Key: func(m proto.Message) ([]byte, bool) {
			r := m.(*lightkeeperv1.Round)
			if r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
				return nil, false
			}
			id, _ := ParseID("round id", r.GetId())
			return id[:], true
		},
		Target: func(k []byte) ([]byte, bool) { return k, len(k) == IDLen }}
	// RoundListing orders every round by (submitted_height, id) for
	// ListRounds; its keys give a restart every round id and the height it
	// was submitted at.
	RoundListing = &Index{Name: "round listing index", Prefix: 'l', Load: LoadKeys,
		Key: func(m proto.Message) ([]byte, bool) {
			r := m.(*lightkeeperv1.Round)
			id, _ := ParseID("round id", r.GetId())
			return ListingKey(r.GetSubmittedHeight(), id), true
		},
		Target: func(k []byte) ([]byte, bool) {
			if len(k) != HeightLen+IDLen {
				return nil, false
			}
			return k[HeightLen:], true
		}}
	Round = &Family{Name: "round", Prefix: 'r',
		New:     func() proto.Message { return new(lightkeeperv1.Round) },
		Key:     keyOf("round", func(r *lightkeeperv1.Round) ([]byte, error) { return idKey("round id", r.GetId()) }),
		Indexes: []*Index{OpenRounds, RoundListing}}
	Keeper = &Family{Name: "keeper", Prefix: 'k', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.Keeper) },
		Key: keyOf("keeper", func(k *lightkeeperv1.Keeper) ([]byte, error) { return idKey("keeper id", k.GetId()) })}
	VerifyingKey = &Family{Name: "verifying key", Prefix: 'v', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.VerifyingKey) },
		Key: keyOf("verifying key", func(vk *lightkeeperv1.VerifyingKey) ([]byte, error) {
			return idKey("verifying key id", vk.GetId())
		})}
	Evidence = &Family{Name: "evidence", Prefix: 'e', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.Evidence) },
		Key: keyOf("evidence", func(e *lightkeeperv1.Evidence) ([]byte, error) {
			keeper, err := ParseID("evidence keeper id", e.GetKeeperId())
			if err != nil {
				return nil, err
			}
			round, err := ParseID("evidence round id", e.GetRoundId())
			if err != nil {
				return nil, err
			}
			return append(append(HeightKey(e.GetHeight()), keeper[:]...), round[:]...), nil
		})}
	Account = &Family{Name: "account", Prefix: 'a', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.Account) },
		Key: keyOf("account", func(a *lightkeeperv1.Account) ([]byte, error) { return idKey("account id", a.GetId()) })}
	Staking = &Family{Name: "staking state", Prefix: 's', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.StakingState) },
		Key: keyOf("staking state", func(*lightkeeperv1.StakingState) ([]byte, error) { return nil, nil })}
	Guarantee = &Family{Name: "guarantee", Prefix: 'q', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.Guarantee) },
		Key: keyOf("guarantee", func(g *lightkeeperv1.Guarantee) ([]byte, error) {
			guarantor, err := ParseID("guarantor id", g.GetGuarantorId())
			if err != nil {
				return nil, err
			}
			target, err := ParseID("guarantee target id", g.GetTargetId())
			if err != nil {
				return nil, err
			}
			return append(guarantor[:], target[:]...), nil
		})}
	Group = &Family{Name: "group", Prefix: 'p', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.Group) },
		Key: keyOf("group", func(g *lightkeeperv1.Group) ([]byte, error) { return idKey("group id", g.GetId()) })}
	Unbonding = &Family{Name: "unbonding entry", Prefix: 'u', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.UnbondingEntry) },
		Key: keyOf("unbonding entry", func(e *lightkeeperv1.UnbondingEntry) ([]byte, error) { return HeightKey(e.GetId()), nil })}
	Epoch = &Family{Name: "epoch record", Prefix: 'h',
		New: func() proto.Message { return new(lightkeeperv1.EpochRecord) },
		Key: keyOf("epoch record", func(r *lightkeeperv1.EpochRecord) ([]byte, error) { return HeightKey(r.GetEpoch()), nil })}
	// Program holds a program's metadata without its module bytes, so that
	// listing and restoring programs never reads modules.
	Program = &Family{Name: "program", Prefix: 'w', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.Program) },
		Key: keyOf("program", func(p *lightkeeperv1.Program) ([]byte, error) { return idKey("program id", p.GetId()) })}
	// ProgramModule holds the whole program, module bytes included.
	ProgramModule = &Family{Name: "program module", Prefix: 'x',
		New: func() proto.Message { return new(lightkeeperv1.Program) },
		Key: keyOf("program module", func(p *lightkeeperv1.Program) ([]byte, error) { return idKey("program id", p.GetId()) })}
	// SpentNullifier is the set of spent nullifiers the machine restores.
	SpentNullifier = &Family{Name: "spent nullifier", Prefix: 'n', Load: LoadKeys,
		New: func() proto.Message { return new(lightkeeperv1.SpentNullifier) },
		Key: keyOf("spent nullifier", func(sn *lightkeeperv1.SpentNullifier) ([]byte, error) {
			if len(sn.GetNullifier()) != IDLen {
				return nil, fmt.Errorf("%w: spent nullifier: %d bytes, want %d", ErrInvalidRecord, len(sn.GetNullifier()), IDLen)
			}
			return sn.Nullifier, nil
		})}
	// Withdrawal holds the same records in ledger order (height, index),
	// the order WatchWithdrawals streams.
	Withdrawal = &Family{Name: "withdrawal", Prefix: 'y',
		New: func() proto.Message { return new(lightkeeperv1.SpentNullifier) },
		Key: keyOf("withdrawal", func(sn *lightkeeperv1.SpentNullifier) ([]byte, error) {
			return binary.BigEndian.AppendUint32(HeightKey(sn.GetHeight()), sn.GetIndex()), nil
		})}
	PoolLeaf = &Family{Name: "pool leaf", Prefix: 'z',
		New: func() proto.Message { return new(lightkeeperv1.PoolLeaf) },
		Key: keyOf("pool leaf", func(l *lightkeeperv1.PoolLeaf) ([]byte, error) {
			if len(l.GetLeaf()) != IDLen {
				return nil, fmt.Errorf("%w: pool leaf: %d bytes, want %d", ErrInvalidRecord, len(l.GetLeaf()), IDLen)
			}
			return HeightKey(l.GetIndex()), nil
		})}
	// EligibleLists holds every weighted eligible list a round was drawn
	// from, once, under its hash (protocol.EligibleListHash): rounds and
	// certificates carry the hash, the API fills the list from here. History
	// like certificates, never deleted. A restart reads back the keys: the
	// machine must know which lists are stored so that it puts a list the
	// first time a round uses it and never again, the same change set on
	// every replica whether or not it restarted (the replica's app hash
	// covers the change set).
	EligibleLists = &Family{Name: "eligible list", Prefix: 'c', Load: LoadKeys,
		New: func() proto.Message { return new(lightkeeperv1.EligibleList) },
		Key: keyOf("eligible list", func(l *lightkeeperv1.EligibleList) ([]byte, error) {
			if len(l.GetHash()) != IDLen {
				return nil, fmt.Errorf("%w: eligible list hash: %d bytes, want %d", ErrInvalidRecord, len(l.GetHash()), IDLen)
			}
			return l.Hash, nil
		})}
)

// Sealed challenges (chains with params.challenges; the single-node
// chain never writes them).
var (
	// PendingReveal holds each closed sealed round whose reveal window is
	// open, the round as it closed: put at the close, put again by its
	// reveal, deleted when the window ends. A copy, so that the machine
	// restores what it judges a reveal by without reading closed rounds.
	PendingReveal = &Family{Name: "pending reveal", Prefix: 'i', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.PendingReveal) },
		Key: keyOf("pending reveal", func(p *lightkeeperv1.PendingReveal) ([]byte, error) {
			return idKey("pending reveal round id", p.GetRound().GetId())
		})}
	// ChallengerQuota holds each challenger's reveals in its latest hour.
	ChallengerQuota = &Family{Name: "challenger quota", Prefix: 'j', Load: LoadRecords,
		New: func() proto.Message { return new(lightkeeperv1.ChallengerQuota) },
		Key: keyOf("challenger quota", func(q *lightkeeperv1.ChallengerQuota) ([]byte, error) {
			if len(q.GetChallenger()) != IDLen {
				return nil, fmt.Errorf("%w: challenger quota: challenger is %d bytes, want %d", ErrInvalidRecord, len(q.GetChallenger()), IDLen)
			}
			return q.Challenger, nil
		})}
)

// Families is every family, in the order a ChangeSet lists them.
var Families = []*Family{
	Meta, Genesis, Block, Round, Keeper, VerifyingKey, Evidence,
	Account, Staking, Guarantee, Group, Unbonding, Epoch,
	Program, ProgramModule, SpentNullifier, Withdrawal, PoolLeaf,
	EligibleLists, PendingReveal, ChallengerQuota,
}
