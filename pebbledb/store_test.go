package pebbledb

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// --- fixtures --------------------------------------------------------------

// id returns a deterministic 64-hex id; ids of smaller n sort first.
func id(n int) string { return fmt.Sprintf("%064x", n) }

// hashID returns a deterministic id that does not sort with n.
func hashID(parts ...any) string {
	sum := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	return hex.EncodeToString(sum[:])
}

func openT(t testing.TB, dir string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(dir, append([]Option{WithLogger(nil)}, opts...)...)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func commit(t testing.TB, s *Store, fn func(b *Batch) error) {
	t.Helper()
	b := s.NewBatch()
	defer b.Close()
	if err := fn(b); err != nil {
		t.Fatalf("batch: %v", err)
	}
	if err := b.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func sampleMeta() *lightkeeperv1.StateMeta {
	return &lightkeeperv1.StateMeta{
		ChainId: "lightkeeper-test",
		Params: &lightkeeperv1.ConsensusParams{
			Threshold: 7, TotalValidators: 10, ComputeValidators: 3,
			VerificationTimeout: durationpb.New(30 * time.Second),
			ReputationInitial:   500, StakeWeightBps: 6000, ReputationWeightBps: 4000,
		},
		Head:         &lightkeeperv1.BlockHeader{Height: 3, Time: timestamppb.New(time.Unix(1700000000, 0))},
		HeadHash:     bytes.Repeat([]byte{0xaa}, 32),
		LastDecayDay: 19700,
	}
}

func sampleGenesis() *lightkeeperv1.Genesis {
	return &lightkeeperv1.Genesis{
		ChainId:     "lightkeeper-test",
		GenesisTime: timestamppb.New(time.Unix(1700000000, 0)),
		Keepers: []*lightkeeperv1.GenesisKeeper{
			{KeeperId: id(1), Stake: 1000}, {KeeperId: id(2), Stake: 2000},
		},
	}
}

func sampleBlock(height uint64) *lightkeeperv1.Block {
	return &lightkeeperv1.Block{
		Header: &lightkeeperv1.BlockHeader{
			Height:       height,
			Time:         timestamppb.New(time.Unix(1700000000+int64(height), 0)),
			PreviousHash: bytes.Repeat([]byte{byte(height)}, 32),
		},
		Hash: bytes.Repeat([]byte{byte(height + 1)}, 32),
		Transactions: []*lightkeeperv1.Transaction{{
			Kind: &lightkeeperv1.Transaction_SetKeeperOnline{
				SetKeeperOnline: &lightkeeperv1.SetKeeperOnlineTx{KeeperId: id(1), Online: true},
			},
		}},
	}
}

func sampleRound(rid string, height uint64, phase lightkeeperv1.RoundPhase) *lightkeeperv1.Round {
	committee := make([]string, 10)
	for i := range committee {
		committee[i] = hashID("keeper", i)
	}
	r := &lightkeeperv1.Round{
		Id:              rid,
		Kind:            lightkeeperv1.RoundKind_ROUND_KIND_PROOF,
		SubmittedHeight: height,
		SubmittedAt:     timestamppb.New(time.Unix(1700000000+int64(height), 0)),
		Seed:            bytes.Repeat([]byte{7}, 32),
		Committee:       committee,
		Threshold:       7,
		RejectThreshold: 4,
		Phase:           phase,
		Request: &lightkeeperv1.RoundRequest{
			Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
				Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254,
				VerifyingKeyId: id(99), Proof: bytes.Repeat([]byte{1}, 256),
			}},
		},
	}
	for i := 0; i < 7; i++ {
		r.Votes = append(r.Votes, &lightkeeperv1.Vote{
			RoundId: rid, KeeperId: committee[i], Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE,
			ResultHash: make([]byte, 32), Signature: bytes.Repeat([]byte{byte(i)}, 64),
		})
	}
	return r
}

func sampleKeeper(kid string, stake uint64) *lightkeeperv1.Keeper {
	return &lightkeeperv1.Keeper{Id: kid, Stake: stake, Reputation: 500, Registered: true, Online: true, RoundsAssigned: 3}
}

func sampleVK(vid string) *lightkeeperv1.VerifyingKey {
	return &lightkeeperv1.VerifyingKey{
		Id: vid, Scheme: lightkeeperv1.Scheme_SCHEME_PLONK, Curve: lightkeeperv1.Curve_CURVE_BLS12_381,
		Key: bytes.Repeat([]byte{9}, 100), NumPublicInputs: 2, RegisteredHeight: 1,
	}
}

func sampleEvidence(height uint64, keeper, round string) *lightkeeperv1.Evidence {
	return &lightkeeperv1.Evidence{
		KeeperId: keeper, RoundId: round, Height: height,
		First:  &lightkeeperv1.Vote{RoundId: round, KeeperId: keeper, Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE},
		Second: &lightkeeperv1.Vote{RoundId: round, KeeperId: keeper, Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT},
	}
}

func wantEqual(t testing.TB, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func roundIDs(rs []*lightkeeperv1.Round) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.GetId()
	}
	return out
}

// everything is one of each record type (several keepers, keys, evidence).
type everything struct {
	meta     *lightkeeperv1.StateMeta
	genesis  *lightkeeperv1.Genesis
	blocks   []*lightkeeperv1.Block
	rounds   []*lightkeeperv1.Round
	keepers  []*lightkeeperv1.Keeper // in put order (not sorted)
	vks      []*lightkeeperv1.VerifyingKey
	evidence []*lightkeeperv1.Evidence // in put order (not sorted)
}

func newEverything() everything {
	return everything{
		meta:    sampleMeta(),
		genesis: sampleGenesis(),
		blocks:  []*lightkeeperv1.Block{sampleBlock(0), sampleBlock(1), sampleBlock(256)},
		rounds: []*lightkeeperv1.Round{
			sampleRound(id(5), 1, lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING),
			sampleRound(id(6), 2, lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED),
		},
		keepers:  []*lightkeeperv1.Keeper{sampleKeeper(id(30), 3), sampleKeeper(id(10), 1), sampleKeeper(id(20), 2)},
		vks:      []*lightkeeperv1.VerifyingKey{sampleVK(id(0x200)), sampleVK(id(0x100))},
		evidence: []*lightkeeperv1.Evidence{sampleEvidence(9, id(1), id(5)), sampleEvidence(2, id(3), id(6)), sampleEvidence(2, id(1), id(6))},
	}
}

func (e everything) put(b *Batch) error {
	if err := b.PutMeta(e.meta); err != nil {
		return err
	}
	if err := b.PutGenesis(e.genesis); err != nil {
		return err
	}
	for _, x := range e.blocks {
		if err := b.PutBlock(x); err != nil {
			return err
		}
	}
	for _, x := range e.rounds {
		if err := b.PutRound(x); err != nil {
			return err
		}
	}
	for _, x := range e.keepers {
		if err := b.PutKeeper(x); err != nil {
			return err
		}
	}
	for _, x := range e.vks {
		if err := b.PutVerifyingKey(x); err != nil {
			return err
		}
	}
	for _, x := range e.evidence {
		if err := b.PutEvidence(x); err != nil {
			return err
		}
	}
	return nil
}

// check verifies that s holds exactly e.
func (e everything) check(t *testing.T, s *Store) {
	t.Helper()
	if ok, err := s.Initialized(); err != nil || !ok {
		t.Errorf("Initialized = %v, %v; want true", ok, err)
	}
	m, err := s.Meta()
	if err != nil {
		t.Fatalf("Meta: %v", err)
	}
	wantEqual(t, "meta", m, e.meta)
	g, err := s.Genesis()
	if err != nil {
		t.Fatalf("Genesis: %v", err)
	}
	wantEqual(t, "genesis", g, e.genesis)
	for _, want := range e.blocks {
		got, err := s.Block(want.GetHeader().GetHeight())
		if err != nil {
			t.Fatalf("Block(%d): %v", want.GetHeader().GetHeight(), err)
		}
		wantEqual(t, "block", got, want)
	}
	for _, want := range e.rounds {
		got, err := s.Round(want.GetId())
		if err != nil {
			t.Fatalf("Round: %v", err)
		}
		wantEqual(t, "round", got, want)
	}
	for _, want := range e.keepers {
		got, err := s.Keeper(want.GetId())
		if err != nil {
			t.Fatalf("Keeper: %v", err)
		}
		wantEqual(t, "keeper", got, want)
	}
	for _, want := range e.vks {
		got, err := s.VerifyingKey(want.GetId())
		if err != nil {
			t.Fatalf("VerifyingKey: %v", err)
		}
		wantEqual(t, "verifying key", got, want)
	}

	keepers, err := s.Keepers()
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range keepers {
		kids = append(kids, k.GetId())
	}
	if want := []string{id(10), id(20), id(30)}; !slices.Equal(kids, want) {
		t.Errorf("Keepers ids = %v, want %v (sorted)", kids, want)
	}
	vks, err := s.VerifyingKeys()
	if err != nil {
		t.Fatal(err)
	}
	if len(vks) != 2 || vks[0].GetId() != id(0x100) || vks[1].GetId() != id(0x200) {
		t.Errorf("VerifyingKeys = %v, want ids %s, %s", vks, id(0x100), id(0x200))
	}
	ev, err := s.Evidence()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 3 {
		t.Fatalf("Evidence: %d records, want 3", len(ev))
	}
	// Ordered by (height, keeper, round).
	wantEqual(t, "evidence[0]", ev[0], e.evidence[2])
	wantEqual(t, "evidence[1]", ev[1], e.evidence[1])
	wantEqual(t, "evidence[2]", ev[2], e.evidence[0])

	ids, err := s.RoundIDs()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{id(5), id(6)}; !slices.Equal(ids, want) {
		t.Errorf("RoundIDs = %v, want %v", ids, want)
	}
	open, err := s.OpenRounds()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := roundIDs(open), []string{id(5)}; !slices.Equal(got, want) {
		t.Errorf("OpenRounds = %v, want %v", got, want)
	}
	listed, next, err := s.ListRounds("", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := roundIDs(listed), []string{id(6), id(5)}; !slices.Equal(got, want) || next != "" {
		t.Errorf("ListRounds = %v, %q; want %v, \"\"", got, next, want)
	}
}

// checkEmpty verifies that no record is visible.
func checkEmpty(t *testing.T, s *Store, e everything) {
	t.Helper()
	if ok, err := s.Initialized(); err != nil || ok {
		t.Errorf("Initialized = %v, %v; want false", ok, err)
	}
	if _, err := s.Meta(); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("Meta err = %v, want ErrNotInitialized", err)
	}
	if _, err := s.Genesis(); !errors.Is(err, ErrNotFound) {
		t.Errorf("Genesis err = %v, want ErrNotFound", err)
	}
	for _, x := range e.blocks {
		if _, err := s.Block(x.GetHeader().GetHeight()); !errors.Is(err, ErrNotFound) {
			t.Errorf("Block err = %v, want ErrNotFound", err)
		}
	}
	for _, x := range e.rounds {
		if _, err := s.Round(x.GetId()); !errors.Is(err, ErrNotFound) {
			t.Errorf("Round err = %v, want ErrNotFound", err)
		}
	}
	for _, x := range e.keepers {
		if _, err := s.Keeper(x.GetId()); !errors.Is(err, ErrNotFound) {
			t.Errorf("Keeper err = %v, want ErrNotFound", err)
		}
	}
	for _, x := range e.vks {
		if _, err := s.VerifyingKey(x.GetId()); !errors.Is(err, ErrNotFound) {
			t.Errorf("VerifyingKey err = %v, want ErrNotFound", err)
		}
	}
	ks, err1 := s.Keepers()
	vs, err2 := s.VerifyingKeys()
	ev, err3 := s.Evidence()
	ids, err4 := s.RoundIDs()
	open, err5 := s.OpenRounds()
	listed, next, err6 := s.ListRounds("", 0)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		t.Fatal(err)
	}
	if len(ks)+len(vs)+len(ev)+len(ids)+len(open)+len(listed) != 0 || next != "" {
		t.Errorf("lists not empty: %d keepers, %d keys, %d evidence, %d round ids, %d open, %d listed, next %q",
			len(ks), len(vs), len(ev), len(ids), len(open), len(listed), next)
	}
}

// --- tests -------------------------------------------------------------------

func TestRoundTrip(t *testing.T) {
	s := openT(t, t.TempDir())
	e := newEverything()
	commit(t, s, e.put)
	e.check(t, s)
}

func TestBatchCloseWithoutCommitLeavesNothing(t *testing.T) {
	s := openT(t, t.TempDir())
	e := newEverything()
	b := s.NewBatch()
	if err := e.put(b); err != nil {
		t.Fatal(err)
	}
	checkEmpty(t, s, e) // not visible before Commit
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	checkEmpty(t, s, e)
	if err := b.PutKeeper(sampleKeeper(id(1), 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("PutKeeper after Close: %v, want ErrClosed", err)
	}
	if err := b.Commit(); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
	checkEmpty(t, s, e)
}

func TestBatchRecordsAppearTogether(t *testing.T) {
	s := openT(t, t.TempDir())
	e := newEverything()
	b := s.NewBatch()
	if err := e.put(b); err != nil {
		t.Fatal(err)
	}
	checkEmpty(t, s, e)
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	e.check(t, s)

	// The batch is unusable after Commit; Close is a no-op.
	if err := b.PutMeta(sampleMeta()); !errors.Is(err, ErrClosed) {
		t.Errorf("PutMeta after Commit: %v, want ErrClosed", err)
	}
	if err := b.Commit(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Commit: %v, want ErrClosed", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close after Commit: %v", err)
	}
}

func TestReopenSeesEverything(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, WithLogger(nil), WithCacheSize(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	e := newEverything()
	commit(t, s, e.put)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Keeper(id(10)); !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close: %v, want ErrClosed", err)
	}
	if err := s.NewBatch().PutMeta(sampleMeta()); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v, want ErrClosed", err)
	}
	e.check(t, openT(t, dir))
}

// TestCommitIsSynced crashes an in-memory file system right after Commit,
// keeping only synced data: the committed batch must survive, a batch
// written without sync must not (which shows the check can fail).
func TestCommitIsSynced(t *testing.T) {
	mem := vfs.NewCrashableMem()
	s := openT(t, "/data", withFS(mem))
	e := newEverything()
	commit(t, s, e.put)
	// An unsynced write after the commit, straight through Pebble.
	if err := s.db.Set(idKey(prefixKeeper, [idLen]byte{0xff}), []byte{}, pebble.NoSync); err != nil {
		t.Fatal(err)
	}

	crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	s2 := openT(t, "/data", withFS(crashed))
	e.check(t, s2)
	if _, err := s2.Keeper("ff" + strings.Repeat("0", 62)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unsynced write survived the crash (err = %v); the crash simulation does not drop unsynced data", err)
	}
}

func TestOpenIndexFollowsPhases(t *testing.T) {
	s := openT(t, t.TempDir())
	open := func() []string {
		t.Helper()
		rs, err := s.OpenRounds()
		if err != nil {
			t.Fatal(err)
		}
		return roundIDs(rs)
	}
	put := func(rid string, phase lightkeeperv1.RoundPhase) {
		t.Helper()
		commit(t, s, func(b *Batch) error { return b.PutRound(sampleRound(rid, 1, phase)) })
	}
	const (
		voting  = lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING
		decided = lightkeeperv1.RoundPhase_ROUND_PHASE_DECIDED
		closed  = lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED
	)
	put(id(3), voting)
	put(id(1), voting)
	put(id(2), closed) // created closed: never open
	if got, want := open(), []string{id(1), id(3)}; !slices.Equal(got, want) {
		t.Fatalf("open = %v, want %v", got, want)
	}
	put(id(1), decided) // decided rounds stay open for late votes
	if got, want := open(), []string{id(1), id(3)}; !slices.Equal(got, want) {
		t.Fatalf("after DECIDED: open = %v, want %v", got, want)
	}
	rs, _ := s.OpenRounds()
	if rs[0].GetPhase() != decided {
		t.Errorf("open round phase = %v, want the stored DECIDED", rs[0].GetPhase())
	}
	put(id(1), closed)
	if got, want := open(), []string{id(3)}; !slices.Equal(got, want) {
		t.Fatalf("after CLOSED: open = %v, want %v", got, want)
	}
	// Closing and opening in one batch: the last put wins.
	commit(t, s, func(b *Batch) error {
		if err := b.PutRound(sampleRound(id(3), 1, closed)); err != nil {
			return err
		}
		if err := b.PutRound(sampleRound(id(4), 1, voting)); err != nil {
			return err
		}
		return b.PutRound(sampleRound(id(4), 1, closed))
	})
	if got := open(); len(got) != 0 {
		t.Fatalf("all closed: open = %v, want none", got)
	}
	ids, err := s.RoundIDs()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{id(1), id(2), id(3), id(4)}; !slices.Equal(ids, want) {
		t.Errorf("RoundIDs = %v, want %v", ids, want)
	}
}

func TestListRoundsPagination(t *testing.T) {
	s := openT(t, t.TempDir())
	// Heights 1..4; several ids per height; put in a scrambled order over
	// two batches.
	type rk struct {
		h uint64
		n int
	}
	all := []rk{{2, 7}, {1, 3}, {4, 1}, {2, 2}, {3, 9}, {1, 8}, {4, 5}, {2, 4}, {3, 1}, {1, 1}}
	commit(t, s, func(b *Batch) error {
		for _, r := range all[:5] {
			if err := b.PutRound(sampleRound(id(r.n+100*int(r.h)), r.h, lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING)); err != nil {
				return err
			}
		}
		return nil
	})
	commit(t, s, func(b *Batch) error {
		for _, r := range all[5:] {
			if err := b.PutRound(sampleRound(id(r.n+100*int(r.h)), r.h, lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED)); err != nil {
				return err
			}
		}
		return nil
	})
	// Newest first: height descending, then id descending.
	want := []string{id(405), id(401), id(309), id(301), id(207), id(204), id(202), id(108), id(103), id(101)}
	wantPages := [][]string{want[0:3], want[3:6], want[6:9], want[9:10]}

	var token string
	for i, wp := range wantPages {
		rs, next, err := s.ListRounds(token, 3)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if got := roundIDs(rs); !slices.Equal(got, wp) {
			t.Fatalf("page %d = %v, want %v", i, got, wp)
		}
		last := i == len(wantPages)-1
		if (next == "") != last {
			t.Fatalf("page %d: next = %q, want empty only on the last page", i, next)
		}
		for _, r := range rs {
			if want, _ := s.Round(r.GetId()); !proto.Equal(r, want) {
				t.Errorf("listed round %s differs from Round()", r.GetId())
			}
		}
		token = next
	}

	// An exact multiple of the page size ends with an empty token, not an
	// empty extra page.
	rs, next, err := s.ListRounds("", len(want))
	if err != nil || next != "" || !slices.Equal(roundIDs(rs), want) {
		t.Errorf("ListRounds(all) = %v, %q, %v; want all, \"\"", roundIDs(rs), next, err)
	}
	// limit <= 0 uses the default.
	if rs, _, err := s.ListRounds("", 0); err != nil || len(rs) != len(want) {
		t.Errorf("ListRounds(limit 0) = %d rounds, %v", len(rs), err)
	}

	// A round submitted after page 1 was read does not shift page 2.
	_, next1, err := s.ListRounds("", 3)
	if err != nil {
		t.Fatal(err)
	}
	commit(t, s, func(b *Batch) error {
		return b.PutRound(sampleRound(id(999), 5, lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING))
	})
	rs, _, err = s.ListRounds(next1, 3)
	if err != nil || !slices.Equal(roundIDs(rs), want[3:6]) {
		t.Errorf("page 2 after insert = %v, %v; want %v", roundIDs(rs), err, want[3:6])
	}

	// Moving a round to another submitted_height moves its listing entry.
	commit(t, s, func(b *Batch) error {
		return b.PutRound(sampleRound(id(101), 6, lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED))
	})
	rs, _, err = s.ListRounds("", 100)
	if err != nil {
		t.Fatal(err)
	}
	wantMoved := append([]string{id(101), id(999)}, want[:9]...)
	if got := roundIDs(rs); !slices.Equal(got, wantMoved) {
		t.Errorf("after move = %v, want %v", got, wantMoved)
	}
	// Twice in one batch, with a different height each time.
	commit(t, s, func(b *Batch) error {
		if err := b.PutRound(sampleRound(id(103), 7, lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED)); err != nil {
			return err
		}
		return b.PutRound(sampleRound(id(103), 0, lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED))
	})
	rs, _, err = s.ListRounds("", 100)
	if err != nil {
		t.Fatal(err)
	}
	wantMoved = append([]string{id(101), id(999)}, want[:7]...)
	wantMoved = append(wantMoved, id(108), id(103))
	if got := roundIDs(rs); !slices.Equal(got, wantMoved) {
		t.Errorf("after double move = %v, want %v", got, wantMoved)
	}
}

func TestListRoundsMalformedToken(t *testing.T) {
	s := openT(t, t.TempDir())
	commit(t, s, func(b *Batch) error {
		for i := range 3 {
			if err := b.PutRound(sampleRound(id(i), uint64(i), lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING)); err != nil {
				return err
			}
		}
		return nil
	})
	_, good, err := s.ListRounds("", 1)
	if err != nil || good == "" {
		t.Fatalf("ListRounds: %q, %v", good, err)
	}
	blockTok := pageTokenEncoding.EncodeToString(blockKey(1))
	wrongPrefix := pageTokenEncoding.EncodeToString(append([]byte{prefixRound}, make([]byte, listingKeyLen-1)...))
	for _, tok := range []string{
		"!!!",
		"not-base64*",
		good + "A",            // one key byte too many (or bad length)
		good[:len(good)-2],    // truncated
		good + "==",           // padding is not part of the encoding
		strings.ToUpper(good), // a different key
		blockTok,              // a valid key of another family
		wrongPrefix,           // right length, wrong prefix
		pageTokenEncoding.EncodeToString([]byte{prefixRoundListing}),
	} {
		rs, next, err := s.ListRounds(tok, 2)
		if tok == strings.ToUpper(good) && err == nil {
			continue // may happen to decode to a listing-shaped key
		}
		if !errors.Is(err, ErrInvalidPageToken) {
			t.Errorf("ListRounds(%q) = %d rounds, %q, %v; want ErrInvalidPageToken", tok, len(rs), next, err)
		}
	}
}

func TestLayoutVersionMismatch(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Overwrite the version key with raw Pebble.
	db, err := pebble.Open(dir, &pebble.Options{Logger: slogLogger{slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatal(err)
	}
	v, closer, err := db.Get([]byte("\x00layout"))
	if err != nil {
		t.Fatalf("layout key not written at the documented key: %v", err)
	}
	if got := binary.BigEndian.Uint64(v); got != LayoutVersion || len(v) != 8 {
		t.Errorf("stored layout = %x, want u64be(%d)", v, LayoutVersion)
	}
	closer.Close()
	if err := db.Set([]byte("\x00layout"), binary.BigEndian.AppendUint64(nil, 0), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = Open(dir, WithLogger(nil))
	if !errors.Is(err, ErrLayoutVersion) {
		t.Fatalf("Open = %v, want ErrLayoutVersion", err)
	}
	msg := err.Error()
	for _, want := range []string{"layout version 0", "reads version 1", dir, "migrate or use a new data directory"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	// The failed Open released the lock.
	db, err = pebble.Open(dir, &pebble.Options{Logger: slogLogger{slog.New(slog.DiscardHandler)}})
	if err != nil {
		t.Fatalf("directory still locked after failed Open: %v", err)
	}
	// A value that is not 8 bytes is corruption, not a version.
	if err := db.Set([]byte("\x00layout"), []byte{1}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(dir, WithLogger(nil)); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "layout") {
		t.Errorf("Open with 1-byte layout value = %v, want ErrCorrupt naming the layout", err)
	}
}

func TestOpenRefusesNonStore(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(path, []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path, WithLogger(nil))
		if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("Open(file) = %v, want ErrNotStore ... not a directory", err)
		}
	})
	t.Run("foreign files", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir, WithLogger(nil))
		if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "notes.txt") {
			t.Errorf("Open(dir with notes.txt) = %v, want ErrNotStore naming the file", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "LOCK")); err == nil {
			t.Errorf("refused Open left a LOCK file behind")
		}
	})
	t.Run("pebble without layout key", func(t *testing.T) {
		dir := t.TempDir()
		db, err := pebble.Open(dir, &pebble.Options{Logger: slogLogger{slog.New(slog.DiscardHandler)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Set([]byte("somebody else's key"), []byte("v"), pebble.Sync); err != nil {
			t.Fatal(err)
		}
		db.Close()
		_, err = Open(dir, WithLogger(nil))
		if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "layout version key") {
			t.Errorf("Open(foreign pebble db) = %v, want ErrNotStore", err)
		}
	})
	t.Run("empty pebble", func(t *testing.T) {
		// A Pebble database with no keys (e.g. a crash right after it was
		// created) is adopted as fresh.
		dir := t.TempDir()
		db, err := pebble.Open(dir, &pebble.Options{Logger: slogLogger{slog.New(slog.DiscardHandler)}})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		openT(t, dir)
	})
	t.Run("nested new directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		openT(t, dir)
	})
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	_, err := Open(dir, WithLogger(nil))
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Open = %v, want ErrLocked naming the directory", err)
	}
	// The first store is unaffected.
	commit(t, s, func(b *Batch) error { return b.PutKeeper(sampleKeeper(id(1), 1)) })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openT(t, dir)
	if _, err := s2.Keeper(id(1)); err != nil {
		t.Fatal(err)
	}
}

// TestOpenLockedByOtherProcess holds the store open in a child process.
func TestOpenLockedByOtherProcess(t *testing.T) {
	if dir := os.Getenv("PEBBLEDB_HOLD_DIR"); dir != "" {
		s, err := Open(dir, WithLogger(nil))
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
		s.Close()
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestOpenLockedByOtherProcess$")
	cmd.Env = append(os.Environ(), "PEBBLEDB_HOLD_DIR="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("child: %q", line)
	}
	_, err = Open(dir, WithLogger(nil))
	stdin.Close()
	if werr := cmd.Wait(); werr != nil {
		t.Errorf("child: %v", werr)
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while another process holds the store = %v, want ErrLocked", err)
	}
	openT(t, dir) // released once the child exits
}

func TestNotFoundAndInvalidIDs(t *testing.T) {
	s := openT(t, t.TempDir())
	commit(t, s, func(b *Batch) error { return b.PutBlock(sampleBlock(1)) })
	missing := id(42)
	for what, err := range map[string]error{
		"Block":        second(s.Block(2)),
		"Round":        second(s.Round(missing)),
		"Keeper":       second(s.Keeper(missing)),
		"VerifyingKey": second(s.VerifyingKey(missing)),
		"Genesis":      second(s.Genesis()),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s(missing) = %v, want ErrNotFound", what, err)
		}
	}
	if _, err := s.Meta(); !errors.Is(err, ErrNotInitialized) {
		t.Errorf("Meta before PutMeta = %v, want ErrNotInitialized", err)
	}
	if ok, err := s.Initialized(); ok || err != nil {
		t.Errorf("Initialized = %v, %v; want false", ok, err)
	}

	bad := []string{"", "abc", strings.ToUpper(id(0xabc)), strings.Repeat("g", 64), id(1) + "00", " " + id(1)[1:]}
	for _, b := range bad {
		if _, err := s.Round(b); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Round(%q) = %v, want ErrInvalidID", b, err)
		}
		if _, err := s.Keeper(b); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Keeper(%q) = %v, want ErrInvalidID", b, err)
		}
		if _, err := s.VerifyingKey(b); !errors.Is(err, ErrInvalidID) {
			t.Errorf("VerifyingKey(%q) = %v, want ErrInvalidID", b, err)
		}
	}
	b := s.NewBatch()
	defer b.Close()
	putErrs := map[string]error{
		"round":           b.PutRound(sampleRound("ABC", 1, 1)),
		"keeper":          b.PutKeeper(sampleKeeper(strings.ToUpper(id(0xabc)), 1)),
		"vk":              b.PutVerifyingKey(sampleVK("")),
		"evidence keeper": b.PutEvidence(sampleEvidence(1, "x", id(1))),
		"evidence round":  b.PutEvidence(sampleEvidence(1, id(1), id(1)[1:])),
	}
	for what, err := range putErrs {
		if !errors.Is(err, ErrInvalidID) {
			t.Errorf("Put %s with a bad id = %v, want ErrInvalidID", what, err)
		}
	}
	for what, err := range map[string]error{
		"meta":     b.PutMeta(nil),
		"genesis":  b.PutGenesis(nil),
		"block":    b.PutBlock(nil),
		"headless": b.PutBlock(&lightkeeperv1.Block{}),
		"round":    b.PutRound(nil),
		"keeper":   b.PutKeeper(nil),
		"vk":       b.PutVerifyingKey(nil),
		"evidence": b.PutEvidence(nil),
	} {
		if !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("Put %s = %v, want ErrInvalidRecord", what, err)
		}
	}
	// The failed puts wrote nothing and the batch is still usable.
	if err := b.PutKeeper(sampleKeeper(id(1), 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	ids, _ := s.RoundIDs()
	ks, _ := s.Keepers()
	if len(ids) != 0 || len(ks) != 1 {
		t.Errorf("after failed puts: %d rounds, %d keepers; want 0, 1", len(ids), len(ks))
	}
}

func second[T any](_ T, err error) error { return err }

func TestCorruptValues(t *testing.T) {
	s := openT(t, t.TempDir())
	commit(t, s, func(b *Batch) error {
		if err := b.PutRound(sampleRound(id(1), 1, lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING)); err != nil {
			return err
		}
		return b.PutKeeper(sampleKeeper(id(2), 1))
	})
	garbage := []byte{0xff, 0xff, 0xff} // truncated varint tag
	if err := s.db.Set(idKey(prefixKeeper, [idLen]byte(mustHex(id(2)))), garbage, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Set(idKey(prefixRound, [idLen]byte(mustHex(id(1)))), garbage, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	check := func(what, family string, err error) {
		t.Helper()
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), family) {
			t.Errorf("%s = %v, want ErrCorrupt naming %q", what, err, family)
		}
	}
	check("Keeper", "keeper", second(s.Keeper(id(2))))
	check("Keepers", "keeper", second(s.Keepers()))
	check("Round", "round", second(s.Round(id(1))))
	check("OpenRounds", "round", second(s.OpenRounds()))
	_, _, err := s.ListRounds("", 10)
	check("ListRounds", "round", err)
	// PutRound reads the stored submitted_height and finds the corruption.
	b := s.NewBatch()
	defer b.Close()
	check("PutRound over garbage", "round", b.PutRound(sampleRound(id(1), 1, 1)))

	// An index entry without its record.
	s = openT(t, t.TempDir())
	if err := s.db.Set(idKey(prefixOpenRound, [idLen]byte(mustHex(id(3)))), nil, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	check("OpenRounds with dangling index", "open-round index", second(s.OpenRounds()))
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// TestConcurrentReaders runs readers against one writer; run with -race.
func TestConcurrentReaders(t *testing.T) {
	s := openT(t, t.TempDir())
	commit(t, s, func(b *Batch) error { return b.PutMeta(sampleMeta()) })
	const writes = 30
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errc := make(chan error, 8)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rs, _, err := s.ListRounds("", 5)
				if err == nil {
					// Each batch writes round h and keeper h together.
					for _, r := range rs {
						if _, kerr := s.Keeper(r.GetId()); kerr != nil {
							err = fmt.Errorf("round %s visible without its keeper: %w", r.GetId(), kerr)
						}
					}
				}
				if err == nil {
					_, err = s.OpenRounds()
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for h := 1; h <= writes; h++ {
		commit(t, s, func(b *Batch) error {
			if err := b.PutRound(sampleRound(id(h), uint64(h), lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING)); err != nil {
				return err
			}
			return b.PutKeeper(sampleKeeper(id(h), uint64(h)))
		})
	}
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	ids, _ := s.RoundIDs()
	if len(ids) != writes {
		t.Errorf("%d rounds, want %d", len(ids), writes)
	}
}

func TestWithLoggerRoutesPebble(t *testing.T) {
	var buf bytes.Buffer
	l := slogLogger{slog.New(slog.NewTextHandler(&buf, nil))}
	l.Infof("hello %d", 1)
	l.Errorf("bad %s", "thing")
	if out := buf.String(); !strings.Contains(out, "level=INFO msg=\"hello 1\"") || !strings.Contains(out, "level=ERROR msg=\"bad thing\"") {
		t.Errorf("log output %q", out)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("Fatalf did not panic")
		}
	}()
	l.Fatalf("boom")
}

// TestKeyLayoutDocumented checks that every key family appears in the
// tables of doc.go and docs/storage.md, and that they list no other.
func TestKeyLayoutDocumented(t *testing.T) {
	md, err := os.ReadFile("docs/storage.md")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	prefixes := []string{`"\x00layout"`}
	for _, f := range families {
		prefixes = append(prefixes, fmt.Sprintf("%q", string(f.prefix)))
	}
	var mdRows, docRows []string
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "| `\"") {
			mdRows = append(mdRows, strings.Trim(strings.Fields(line)[1], "`"))
		}
	}
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "//\t\"") {
			docRows = append(docRows, strings.Fields(strings.TrimPrefix(line, "//\t"))[0])
		}
	}
	if !slices.Equal(mdRows, prefixes) {
		t.Errorf("docs/storage.md table prefixes = %v, want %v", mdRows, prefixes)
	}
	if !slices.Equal(docRows, prefixes) {
		t.Errorf("doc.go table prefixes = %v, want %v", docRows, prefixes)
	}
	if string(layoutKey) != "\x00layout" {
		t.Errorf("layoutKey = %q, documented as \"\\x00layout\"", layoutKey)
	}
	// Key shapes as documented.
	rid := [idLen]byte(mustHex(id(7)))
	if k := blockKey(0x0102); !bytes.Equal(k, []byte{'b', 0, 0, 0, 0, 0, 0, 1, 2}) {
		t.Errorf("blockKey = %x", k)
	}
	if k := listingKey(1, rid); len(k) != 41 || k[0] != 'l' || k[8] != 1 || !bytes.Equal(k[9:], rid[:]) {
		t.Errorf("listingKey = %x", k)
	}
	if k := evidenceKey(1, rid, rid); len(k) != 73 || k[0] != 'e' || k[8] != 1 {
		t.Errorf("evidenceKey = %x", k)
	}
}
