package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestGenesis(t *testing.T) {
	g := testGenesis(3, 100)
	g.Keepers[1].Stake = 0
	m, res, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	b := res.Block
	gb, _ := proto.MarshalOptions{Deterministic: true}.Marshal(g)
	txh := sha256.Sum256(gb)
	want := &lightkeeperv1.BlockHeader{
		Height:           0,
		Time:             g.GenesisTime,
		PreviousHash:     zeroHash,
		TransactionsHash: txh[:],
		ResultsHash:      zeroHash,
	}
	mustEqualProto(t, "genesis header", b.Header, want)
	if !bytes.Equal(b.Hash, protocol.BlockHash(want)) {
		t.Fatal("genesis hash is not protocol.BlockHash(header)")
	}
	if hd, hash := m.Head(); !proto.Equal(hd, want) || !bytes.Equal(hash, b.Hash) {
		t.Fatal("head is not the genesis block")
	}
	if res.Meta.LastDecayDay != testGenesisMs/MillisPerDay || res.Meta.ChainId != testChain || !proto.Equal(res.Meta.Params, protocol.DefaultParams()) {
		t.Fatalf("meta: %v", res.Meta)
	}
	if len(res.Keepers) != 3 {
		t.Fatalf("keepers: %d", len(res.Keepers))
	}
	for i, k := range res.Keepers {
		if i > 0 && res.Keepers[i-1].Id >= k.Id {
			t.Fatal("keepers not sorted")
		}
		wantStake := uint64(100)
		if k.Id == keeperID(1) {
			wantStake = 0
		}
		if k.Stake != wantStake || k.Reputation != 1000 || k.Registered || k.Online || k.Jailed {
			t.Fatalf("genesis keeper: %v", k)
		}
	}
	if len(res.Events) != 0 || len(res.Rounds) != 0 || len(b.Transactions) != 0 {
		t.Fatal("genesis has events, rounds or transactions")
	}
}

// TestGenesisTimeTruncated: the block hash has millisecond time, so the
// genesis header carries the genesis time truncated to the millisecond.
func TestGenesisTimeTruncated(t *testing.T) {
	g := testGenesis(1, 1)
	g.GenesisTime.Nanos = 123_456_789
	_, res, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Block.Header.Time; got.Seconds != g.GenesisTime.Seconds || got.Nanos != 123_000_000 {
		t.Fatalf("header time %v", got)
	}
}

func TestGenesisInvalid(t *testing.T) {
	for name, mut := range map[string]func(g *lightkeeperv1.Genesis){
		"nil time":     func(g *lightkeeperv1.Genesis) { g.GenesisTime = nil },
		"bad time":     func(g *lightkeeperv1.Genesis) { g.GenesisTime = &timestamppb.Timestamp{Nanos: -1} },
		"empty chain":  func(g *lightkeeperv1.Genesis) { g.ChainId = "" },
		"chain spaces": func(g *lightkeeperv1.Genesis) { g.ChainId = "a b" },
		"long chain": func(g *lightkeeperv1.Genesis) {
			g.ChainId = string(bytes.Repeat([]byte("a"), protocol.MaxChainIDLen+1))
		},
		"bad id": func(g *lightkeeperv1.Genesis) { g.Keepers[0].KeeperId = "abc" },
		"upper id": func(g *lightkeeperv1.Genesis) {
			g.Keepers[0].KeeperId = string(bytes.ToUpper([]byte(g.Keepers[0].KeeperId)))
		},
		"duplicate": func(g *lightkeeperv1.Genesis) { g.Keepers[1].KeeperId = g.Keepers[0].KeeperId },
	} {
		g := testGenesis(2, 1)
		mut(g)
		if _, _, err := New(g); !errors.Is(err, ErrInvalidGenesis) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, _, err := New(nil); !errors.Is(err, ErrInvalidGenesis) {
		t.Errorf("nil genesis: %v", err)
	}
}

// TestBlockHashVector pins the block hash format: any change to the
// preimage layout changes this constant.
func TestBlockHashVector(t *testing.T) {
	h := &lightkeeperv1.BlockHeader{
		Height:           7,
		Time:             timestamppb.New(time.UnixMilli(1_700_000_000_123)),
		PreviousHash:     bytes.Repeat([]byte{1}, 32),
		TransactionsHash: bytes.Repeat([]byte{2}, 32),
		ResultsHash:      bytes.Repeat([]byte{3}, 32),
	}
	var pre []byte
	pre = append(pre, "lightkeeper/block/v1\x00"...)
	pre = binary.BigEndian.AppendUint64(pre, 7)
	pre = binary.BigEndian.AppendUint64(pre, 1_700_000_000_123)
	pre = append(pre, h.PreviousHash...)
	pre = append(pre, h.TransactionsHash...)
	pre = append(pre, h.ResultsHash...)
	want := sha256.Sum256(pre)
	if !bytes.Equal(protocol.BlockHash(h), want[:]) {
		t.Fatal("protocol.BlockHash does not follow the documented preimage")
	}
	const pinned = "a8468675e8aacb7d"
	if got := hex.EncodeToString(protocol.BlockHash(h))[:16]; got != pinned {
		t.Logf("protocol.BlockHash vector %s (update the pinned constant if the format changed on purpose)", got)
		t.Fail()
	}
}

func TestRoundIDVector(t *testing.T) {
	req := proofRequest(vkID(fakeVK), "nonce-1")
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	var pre []byte
	pre = append(pre, "lightkeeper/round/v1\x00"...)
	pre = binary.BigEndian.AppendUint16(pre, uint16(len(testChain)))
	pre = append(pre, testChain...)
	pre = append(pre, b...)
	s := sha256.Sum256(pre)
	if got := protocol.RoundID(testChain, req); got != hex.EncodeToString(s[:]) {
		t.Fatalf("RoundID: got %s", got)
	}
	if protocol.RoundID(testChain, req) == protocol.RoundID(testChain+"x", req) {
		t.Fatal("round id does not depend on the chain")
	}
	if protocol.RoundID(testChain, req) == protocol.RoundID(testChain, proofRequest(vkID(fakeVK), "nonce-2")) {
		t.Fatal("round id does not depend on the nonce")
	}
	if !protocol.ValidID(protocol.RoundID(testChain, req)) {
		t.Fatal("round id is not a valid id")
	}
}

// TestHashChain checks block linkage and the transactions/results hashes.
func TestHashChain(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	r := h.submit()
	_, prev := h.m.Head()
	var certs, evid int
	for step, txs := range [][]*lightkeeperv1.Transaction{
		votes(r, h, approve, seatRange(0, 7)...),
		append(votes(r, h, approve, 7), voteTx(r.Id, h.seats(r)[7], reject)), // equivocation
		nil,
	} {
		hd, _ := h.m.Head()
		res := h.apply(time.Second, txs...)
		b := res.Block
		if b.Header.Height != hd.Height+1 || !bytes.Equal(b.Header.PreviousHash, prev) {
			t.Fatalf("step %d: block does not link to its parent", step)
		}
		if !bytes.Equal(b.Hash, protocol.BlockHash(b.Header)) {
			t.Fatalf("step %d: hash is not protocol.BlockHash(header)", step)
		}
		// transactions_hash = SHA-256(Σ SHA-256(det(tx)))
		var cat []byte
		for _, tx := range txs {
			bb, _ := proto.MarshalOptions{Deterministic: true}.Marshal(tx)
			s := sha256.Sum256(bb)
			cat = append(cat, s[:]...)
		}
		if s := sha256.Sum256(cat); !bytes.Equal(b.Header.TransactionsHash, s[:]) {
			t.Fatalf("step %d: transactions hash", step)
		}
		cat = nil
		for _, c := range b.Certificates {
			cat = append(cat, protocol.CertificateHash(c)...)
		}
		for _, e := range b.Evidence {
			bb, _ := proto.MarshalOptions{Deterministic: true}.Marshal(e)
			s := sha256.Sum256(bb)
			cat = append(cat, s[:]...)
		}
		if s := sha256.Sum256(cat); !bytes.Equal(b.Header.ResultsHash, s[:]) {
			t.Fatalf("step %d: results hash", step)
		}
		if len(b.Transactions) != len(txs) {
			t.Fatalf("step %d: block has %d transactions, want %d", step, len(b.Transactions), len(txs))
		}
		certs += len(b.Certificates)
		evid += len(b.Evidence)
		if hd2, hash := h.m.Head(); !proto.Equal(hd2, b.Header) || !bytes.Equal(hash, b.Hash) || !proto.Equal(res.Meta.Head, b.Header) {
			t.Fatalf("step %d: head/meta not the new block", step)
		}
		prev = b.Hash
	}
	if certs != 1 || evid != 1 {
		t.Fatalf("certificates %d, evidence %d; want 1 and 1", certs, evid)
	}
}

func TestTimeWentBackwards(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	h.submit()
	before := h.m.Snapshot()
	now := h.now()
	_, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: now - 1, Txs: []*lightkeeperv1.Transaction{onlineTx(0, false)}}))
	if !errors.Is(err, ErrTimeWentBackwards) {
		t.Fatalf("got %v", err)
	}
	// A block that cannot be encoded is refused as a whole as well.
	if _, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: now, Txs: []*lightkeeperv1.Transaction{onlineTx(0, false), nil}})); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("nil tx: got %v", err)
	}
	if _, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: MaxTimeUnixMilli + 1})); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("time out of range: got %v", err)
	}
	after := h.m.Snapshot()
	if !snapshotsEqual(before, after) {
		t.Fatal("state changed by a refused block")
	}
	// The same time as the head is fine.
	if _, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: now})); err != nil {
		t.Fatal(err)
	}
}

func snapshotsEqual(a, b Snapshot) bool {
	eq := func(x, y []proto.Message) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !proto.Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	msgs := func(v any) []proto.Message {
		var out []proto.Message
		switch s := v.(type) {
		case []*lightkeeperv1.Keeper:
			for _, x := range s {
				out = append(out, x)
			}
		case []*lightkeeperv1.Round:
			for _, x := range s {
				out = append(out, x)
			}
		case []*lightkeeperv1.VerifyingKey:
			for _, x := range s {
				out = append(out, x)
			}
		case []*lightkeeperv1.Evidence:
			for _, x := range s {
				out = append(out, x)
			}
		case []*lightkeeperv1.Program:
			for _, x := range s {
				out = append(out, x)
			}
		case []*lightkeeperv1.PendingReveal:
			for _, x := range s {
				out = append(out, x)
			}
		case []*lightkeeperv1.ChallengerQuota:
			for _, x := range s {
				out = append(out, x)
			}
		}
		return out
	}
	if !proto.Equal(a.Meta, b.Meta) || len(a.RoundIDs) != len(b.RoundIDs) {
		return false
	}
	for i := range a.RoundIDs {
		if a.RoundIDs[i] != b.RoundIDs[i] {
			return false
		}
	}
	return eq(msgs(a.Keepers), msgs(b.Keepers)) && eq(msgs(a.OpenRounds), msgs(b.OpenRounds)) &&
		eq(msgs(a.VerifyingKeys), msgs(b.VerifyingKeys)) && eq(msgs(a.Evidence), msgs(b.Evidence)) &&
		eq(msgs(a.Programs), msgs(b.Programs)) &&
		eq(msgs(a.PendingReveals), msgs(b.PendingReveals)) && eq(msgs(a.ChallengerQuotas), msgs(b.ChallengerQuotas)) &&
		slices.EqualFunc(a.SpentNullifiers, b.SpentNullifiers, bytes.Equal) &&
		economyEqual(a, b)
}
