package pebbledb

import (
	"bytes"
	"errors"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

func TestSpentNullifiers(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	nf := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	recs := []*lightkeeperv1.SpentNullifier{
		{Nullifier: nf(3), RoundId: hashID("a"), Height: 5, Index: 0, Recipient: hashID("r"), Amount: 7},
		{Nullifier: nf(1), RoundId: hashID("b"), Height: 5, Index: 1, Recipient: hashID("r"), Amount: 8},
		{Nullifier: nf(2), RoundId: hashID("c"), Height: 9, Index: 0, Recipient: hashID("r"), Amount: 9},
	}
	commit(t, s, func(b *Batch) error {
		for _, r := range recs {
			if err := b.PutSpentNullifier(r); err != nil {
				return err
			}
		}
		return nil
	})
	b := s.NewBatch()
	if err := b.PutSpentNullifier(&lightkeeperv1.SpentNullifier{Nullifier: []byte{1}}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("short nullifier: %v", err)
	}
	b.Close()
	all, err := s.SpentNullifiers()
	if err != nil || len(all) != 3 || !bytes.Equal(all[0], nf(1)) || !bytes.Equal(all[2], nf(3)) {
		t.Fatalf("SpentNullifiers: %x %v", all, err)
	}
	if r, err := s.SpentNullifier(nf(2)); err != nil || r.Amount != 9 {
		t.Fatalf("SpentNullifier: %v %v", r, err)
	}
	if _, err := s.SpentNullifier(nf(4)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unspent: %v", err)
	}
	for _, tc := range []struct {
		h     uint64
		i     uint32
		limit int
		want  []uint64 // amounts
	}{
		{0, 0, 10, []uint64{7, 8, 9}},
		{5, 1, 10, []uint64{8, 9}},
		{5, 2, 10, []uint64{9}},
		{0, 0, 2, []uint64{7, 8}},
		{10, 0, 10, nil},
	} {
		got, err := s.Withdrawals(tc.h, tc.i, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var amounts []uint64
		for _, r := range got {
			amounts = append(amounts, r.Amount)
		}
		if len(amounts) != len(tc.want) || (len(amounts) > 0 && !equalU64(amounts, tc.want)) {
			t.Errorf("Withdrawals(%d, %d, %d) = %v, want %v", tc.h, tc.i, tc.limit, amounts, tc.want)
		}
	}
}

func equalU64(a, b []uint64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
