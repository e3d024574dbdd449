package pebbledb

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// familySamples is one record of every ledger family. TestFamilyRoundTrip
// fails when a family has none, so a new family gets tested here.
func familySamples() map[*ledger.Family]proto.Message {
	return map[*ledger.Family]proto.Message{
		ledger.Meta:         sampleMeta(),
		ledger.Genesis:      sampleGenesis(),
		ledger.Block:        sampleBlock(5),
		ledger.Round:        sampleRound(id(3), 4, lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING),
		ledger.Keeper:       sampleKeeper(id(1), 1000),
		ledger.VerifyingKey: sampleVK(id(2)),
		ledger.Evidence:     sampleEvidence(4, id(1), id(3)),
		ledger.Account:      &lightkeeperv1.Account{Id: id(4), Balance: 12, Nonce: 3},
		ledger.Staking:      &lightkeeperv1.StakingState{Epoch: 2, NextUnbondingId: 9},
		ledger.Guarantee:    &lightkeeperv1.Guarantee{GuarantorId: id(4), TargetId: id(1), Amount: 50},
		ledger.Group:        &lightkeeperv1.Group{Id: id(5), Members: []string{id(1)}},
		ledger.Unbonding:    &lightkeeperv1.UnbondingEntry{Id: 7, OwnerId: id(4), TargetId: id(1), Amount: 5},
		ledger.Epoch:        &lightkeeperv1.EpochRecord{Epoch: 1, EndedHeight: 9, Fees: 3},
		ledger.Program:      &lightkeeperv1.Program{Id: id(6), RegisteredHeight: 2},
		ledger.ProgramModule: &lightkeeperv1.Program{Id: id(6), RegisteredHeight: 2,
			Module: []byte("\x00asm\x01\x00\x00\x00")},
		ledger.SpentNullifier: &lightkeeperv1.SpentNullifier{Nullifier: bytes.Repeat([]byte{1}, 32), Height: 5, Index: 1},
		ledger.Withdrawal:     &lightkeeperv1.SpentNullifier{Nullifier: bytes.Repeat([]byte{2}, 32), Height: 5, Index: 2},
		ledger.PoolLeaf:       &lightkeeperv1.PoolLeaf{Index: 3, Leaf: bytes.Repeat([]byte{3}, 32), Height: 5},
		ledger.EligibleLists: &lightkeeperv1.EligibleList{Hash: bytes.Repeat([]byte{4}, 32),
			Keepers: []*lightkeeperv1.WeightedKeeper{{KeeperId: id(1), Weight: 7}}},
		ledger.PendingReveal: &lightkeeperv1.PendingReveal{ClosedUnixMilli: 9,
			Round: sampleRound(id(8), 4, lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED)},
		ledger.ChallengerQuota: &lightkeeperv1.ChallengerQuota{Challenger: bytes.Repeat([]byte{5}, 32), Hour: 3, Reveals: 2},
	}
}

// TestFamilyRoundTrip writes one record of every family through the one
// generic path (Batch.Apply), reopens the store, and reads each back: by
// its key, and through Load as the family declares. It then deletes every
// record (and with it every index key) and checks nothing is left.
func TestFamilyRoundTrip(t *testing.T) {
	samples := familySamples()
	prefixes := map[byte]string{layoutKey[0]: "layout"}
	for _, f := range ledger.Families {
		if _, ok := samples[f]; !ok {
			t.Errorf("family %q has no sample record in familySamples", f.Name)
		}
		for _, p := range append([]byte{f.Prefix}, indexPrefixes(f)...) {
			if other, dup := prefixes[p]; dup {
				t.Errorf("prefix %q of %q is also %q's", p, f.Name, other)
			}
			prefixes[p] = f.Name
		}
	}
	dir := t.TempDir()
	for _, f := range ledger.Families {
		t.Run(f.Name, func(t *testing.T) {
			rec := samples[f]
			key, err := f.Key(rec)
			if err != nil {
				t.Fatalf("Key: %v", err)
			}
			s := openT(t, dir)
			commit(t, s, func(b *Batch) error { return b.Apply(ledger.Put(nil, f, rec)) })
			s.Close()

			s = openT(t, dir)
			got := f.New()
			if err := get(s.db, prefixed(f.Prefix, key), got); err != nil {
				t.Fatalf("read back: %v", err)
			}
			wantEqual(t, "record read back by key", got, rec)
			loaded, err := s.Load(ledger.Families)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkLoaded(t, loaded, f.Name, f.Load, key, rec)
			for _, ix := range f.Indexes {
				ik, in := ix.Key(rec)
				if !in {
					t.Fatalf("sample is not in index %q", ix.Name)
				}
				checkLoaded(t, loaded, ix.Name, ix.Load, ik, rec)
			}

			commit(t, s, func(b *Batch) error { return b.Apply(ledger.Del(nil, f, rec)) })
			s.Close()
			s = openT(t, dir)
			for _, p := range append([]byte{f.Prefix}, indexPrefixes(f)...) {
				if keys, err := keysOf(s.db, p); err != nil || len(keys) != 0 {
					t.Errorf("after delete, prefix %q holds %d keys (%v)", p, len(keys), err)
				}
			}
			s.Close()
		})
	}
}

func indexPrefixes(f *ledger.Family) []byte {
	var out []byte
	for _, ix := range f.Indexes {
		out = append(out, ix.Prefix)
	}
	return out
}

func checkLoaded(t *testing.T, l *ledger.Snapshot, name string, load ledger.Load, key []byte, rec proto.Message) {
	t.Helper()
	switch load {
	case ledger.LoadRecords:
		recs := l.Records[name]
		if len(recs) != 1 {
			t.Fatalf("Load: %d %s records, want 1", len(recs), name)
		}
		wantEqual(t, "record loaded for "+name, recs[0], rec)
	case ledger.LoadKeys:
		if keys := l.Keys[name]; len(keys) != 1 || !bytes.Equal(keys[0], key) {
			t.Fatalf("Load: %s keys %x, want [%x]", name, keys, key)
		}
	case ledger.LoadNone:
		if _, ok := l.Records[name]; ok {
			t.Errorf("Load read records of %s, which the machine does not need", name)
		}
		if _, ok := l.Keys[name]; ok {
			t.Errorf("Load read keys of %s, which the machine does not need", name)
		}
	}
}

// TestKeyTableIsLedger checks the store's key table is the ledger's
// families and their indexes, nothing else.
func TestKeyTableIsLedger(t *testing.T) {
	var want []byte
	for _, f := range ledger.Families {
		want = append(want, f.Prefix)
		want = append(want, indexPrefixes(f)...)
	}
	var got []byte
	for _, f := range families {
		got = append(got, f.prefix)
	}
	if !slices.Equal(got, want) {
		t.Errorf("key table prefixes %q, ledger %q", got, want)
	}
}

// TestApplyWritesNothingOnError: a change set with one bad record writes
// none of its changes, and the batch stays usable.
func TestApplyWritesNothingOnError(t *testing.T) {
	s := openT(t, t.TempDir())
	b := s.NewBatch()
	defer b.Close()
	cs := ledger.Put(nil, ledger.Keeper, sampleKeeper(id(1), 1))
	cs = ledger.Put(cs, ledger.Keeper, &lightkeeperv1.Keeper{Id: "ABC"})
	if err := b.Apply(cs); err == nil {
		t.Fatal("Apply accepted a keeper id that is not 64 lowercase hex digits")
	}
	if err := b.Apply(ledger.Put(nil, ledger.Meta, sampleMeta())); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if ks, err := s.Keepers(); err != nil || len(ks) != 0 {
		t.Errorf("Keepers after a refused change set = %d, %v; want none", len(ks), err)
	}
}

// TestEligibleListByHash: a list put through the change set is read back
// by its hash; a hash of another length is ErrInvalidID, an unknown one
// ErrNotFound.
func TestEligibleListByHash(t *testing.T) {
	s := openT(t, t.TempDir())
	rec := familySamples()[ledger.EligibleLists].(*lightkeeperv1.EligibleList)
	b := s.NewBatch()
	defer b.Close()
	if err := b.Apply(ledger.Put(nil, ledger.EligibleLists, rec)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.EligibleList(rec.Hash); err != nil || !proto.Equal(got, rec) {
		t.Fatalf("EligibleList = %v, %v; want %v", got, err, rec)
	}
	if _, err := s.EligibleList(rec.Hash[:31]); !errors.Is(err, ErrInvalidID) {
		t.Errorf("31-byte hash: %v, want ErrInvalidID", err)
	}
	if _, err := s.EligibleList(bytes.Repeat([]byte{9}, 32)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown hash: %v, want ErrNotFound", err)
	}
	bad := s.NewBatch()
	defer bad.Close()
	if err := bad.Apply(ledger.Put(nil, ledger.EligibleLists, &lightkeeperv1.EligibleList{Hash: []byte{1}})); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("1-byte hash put: %v, want ErrInvalidRecord", err)
	}
}
