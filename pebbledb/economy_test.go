package pebbledb

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

func TestEconomyRecords(t *testing.T) {
	s := openT(t, t.TempDir())
	b := s.NewBatch()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	acct := &lightkeeperv1.Account{Id: id(1), Balance: 5, Nonce: 2}
	g1 := &lightkeeperv1.Guarantee{GuarantorId: id(1), TargetId: id(2), Amount: 10}
	g2 := &lightkeeperv1.Guarantee{GuarantorId: id(1), TargetId: id(3), Amount: 20}
	grp := &lightkeeperv1.Group{Id: id(4), Members: []string{id(2)}, CommissionBps: 100}
	st := &lightkeeperv1.StakingState{Epoch: 3, CommunityFund: 9}
	must(b.PutAccount(acct))
	must(b.PutGuarantee(g1))
	must(b.PutGuarantee(g2))
	must(b.PutGroup(grp))
	must(b.PutStaking(st))
	must(b.PutUnbonding(&lightkeeperv1.UnbondingEntry{Id: 1, OwnerId: id(1), TargetId: id(2), Amount: 3}))
	must(b.PutUnbonding(&lightkeeperv1.UnbondingEntry{Id: 2, OwnerId: id(1), TargetId: id(2), Amount: 4}))
	must(b.PutEpoch(&lightkeeperv1.EpochRecord{Epoch: 1, Minted: 7}))
	must(b.PutEpoch(&lightkeeperv1.EpochRecord{Epoch: 2, Minted: 8}))
	must(b.Commit())

	if a, err := s.Account(id(1)); err != nil || !proto.Equal(a, acct) {
		t.Fatalf("Account = %v, %v", a, err)
	}
	if _, err := s.Account(id(9)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing account: %v", err)
	}
	if got, err := s.Staking(); err != nil || !proto.Equal(got, st) {
		t.Fatalf("Staking = %v, %v", got, err)
	}
	if g, err := s.Group(id(4)); err != nil || !proto.Equal(g, grp) {
		t.Fatalf("Group = %v, %v", g, err)
	}
	if r, err := s.LastEpoch(); err != nil || r.Epoch != 2 {
		t.Fatalf("LastEpoch = %v, %v", r, err)
	}
	if r, err := s.Epoch(1); err != nil || r.Minted != 7 {
		t.Fatalf("Epoch(1) = %v, %v", r, err)
	}

	// A zero guarantee and a deleted entry disappear.
	b = s.NewBatch()
	must(b.PutGuarantee(&lightkeeperv1.Guarantee{GuarantorId: id(1), TargetId: id(2)}))
	must(b.DeleteUnbonding(1))
	must(b.Commit())
	gs, err := s.Guarantees()
	if err != nil || len(gs) != 1 || !proto.Equal(gs[0], g2) {
		t.Fatalf("Guarantees = %v, %v", gs, err)
	}
	us, err := s.Unbonding()
	if err != nil || len(us) != 1 || us[0].Id != 2 {
		t.Fatalf("Unbonding = %v, %v", us, err)
	}
	if err := s.NewBatch().PutAccount(&lightkeeperv1.Account{Id: "x"}); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("bad account id: %v", err)
	}
}

func TestRoundHeights(t *testing.T) {
	s := openT(t, t.TempDir())
	b := s.NewBatch()
	for i, h := range []uint64{5, 9} {
		if err := b.PutRound(&lightkeeperv1.Round{Id: id(i + 1), SubmittedHeight: h, Phase: lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := s.RoundHeights()
	if err != nil || len(got) != 2 || got[id(1)] != 5 || got[id(2)] != 9 {
		t.Fatalf("RoundHeights = %v, %v", got, err)
	}
}
