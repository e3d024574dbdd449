package state

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	testChain = "lightkeeper-test"
	// 2026-01-01T00:00:00Z
	testGenesisMs = int64(1_767_225_600_000)
)

var (
	fakeVK     = testVK("groth16_bn254")
	fakeProof  = []byte("fake proof")
	fakeInputs = []byte(`["1","2"]`)
	zeroHash   = make([]byte, 32)
)

// keeperKey is the deterministic test key of keeper i: the ed25519 key
// whose seed is u32be(i) followed by zeros and a final 0x4b.
func keeperKey(i int) ed25519.PrivateKey {
	if i < len(cachedKeys()) {
		return cachedKeys()[i]
	}
	return newKeeperKey(i)
}

func newKeeperKey(i int) ed25519.PrivateKey {
	var seed [32]byte
	binary.BigEndian.PutUint32(seed[:4], uint32(i))
	seed[31] = 0x4b
	return ed25519.NewKeyFromSeed(seed[:])
}

var cachedKeys = sync.OnceValue(func() []ed25519.PrivateKey {
	keys := make([]ed25519.PrivateKey, 64)
	for i := range keys {
		keys[i] = newKeeperKey(i)
	}
	return keys
})

func keeperID(i int) string { return hex.EncodeToString(keeperKey(i).Public().(ed25519.PublicKey)) }

func testGenesis(n int, stake uint64) *lightkeeperv1.Genesis {
	g := &lightkeeperv1.Genesis{ChainId: testChain, GenesisTime: timestamppb.New(time.UnixMilli(testGenesisMs))}
	for i := 0; i < n; i++ {
		g.Keepers = append(g.Keepers, &lightkeeperv1.GenesisKeeper{KeeperId: keeperID(i), Stake: stake})
	}
	return g
}

func registerTx(chain string, i int) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterKeeper{RegisterKeeper: &lightkeeperv1.RegisterKeeperTx{
		KeeperId: keeperID(i), Signature: protocol.SignRegistration(keeperKey(i), chain),
	}}}
}

func onlineTx(i int, online bool) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SetKeeperOnline{SetKeeperOnline: &lightkeeperv1.SetKeeperOnlineTx{
		KeeperId: keeperID(i), Online: online,
	}}}
}

func vkTx(key []byte, scheme lightkeeperv1.Scheme, curve lightkeeperv1.Curve) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterVerifyingKey{RegisterVerifyingKey: &lightkeeperv1.RegisterVerifyingKeyTx{
		Scheme: scheme, Curve: curve, Key: key,
	}}}
}

// testVK returns a real verifying key of the fixture circuit (two public
// inputs) for scheme_curve, e.g. "groth16_bn254": testdata/vk holds one
// key per scheme and curve, made once with devtools/proofgen, because
// every setup draws fresh randomness and the tests' ids must not change.
func testVK(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "vk", name+".bin"))
	if err != nil {
		panic(err)
	}
	return b
}

func vkID(key []byte) string {
	s := sha256.Sum256(key)
	return hex.EncodeToString(s[:])
}

func proofRequest(vk string, nonce string) *lightkeeperv1.RoundRequest {
	return &lightkeeperv1.RoundRequest{
		Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
			Scheme:         lightkeeperv1.Scheme_SCHEME_GROTH16,
			Curve:          lightkeeperv1.Curve_CURVE_BN254,
			VerifyingKeyId: vk,
			Proof:          fakeProof,
			PublicInputs:   fakeInputs,
		}},
		ClientNonce: nonce,
	}
}

func submitTx(req *lightkeeperv1.RoundRequest) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundTx{Request: req}}}
}

func voteTxHash(chain, roundID string, i int, kind lightkeeperv1.VoteKind, hash [32]byte) *lightkeeperv1.Transaction {
	rid, ok := protocol.ParseID(roundID)
	if !ok {
		panic("bad round id " + roundID)
	}
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_CastVote{CastVote: &lightkeeperv1.CastVoteTx{Vote: &lightkeeperv1.Vote{
		RoundId:    roundID,
		KeeperId:   keeperID(i),
		Kind:       kind,
		ResultHash: hash[:],
		Signature:  protocol.SignVote(keeperKey(i), chain, rid, protocol.VoteKind(kind), hash),
	}}}}
}

func voteTx(roundID string, i int, kind lightkeeperv1.VoteKind) *lightkeeperv1.Transaction {
	return voteTxHash(testChain, roundID, i, kind, [32]byte{})
}

const (
	approve = lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
	reject  = lightkeeperv1.VoteKind_VOTE_KIND_REJECT
	abstain = lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN
)

// harness drives a machine with keepers 0..n-1 and a registered fake key.
type harness struct {
	t     testing.TB
	m     *Machine
	n     int
	index map[string]int // keeper id → index
	vk    string
	nonce int
}

// newHarness makes genesis with n keepers of the given stake, then one block
// registering all of them, setting them online and registering fakeVK.
func newHarness(t testing.TB, n int, stake uint64, params *lightkeeperv1.ConsensusParams) *harness {
	t.Helper()
	m, _, err := New(withParams(testGenesis(n, stake), params))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, m: m, n: n, index: map[string]int{}, vk: vkID(fakeVK)}
	for i := 0; i < n+50; i++ {
		h.index[keeperID(i)] = i
	}
	var txs []*lightkeeperv1.Transaction
	for i := 0; i < n; i++ {
		txs = append(txs, registerTx(testChain, i), onlineTx(i, true))
	}
	txs = append(txs, vkTx(fakeVK, lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BN254))
	h.ok(h.apply(0, txs...))
	return h
}

func (h *harness) now() int64 { hd, _ := h.m.Head(); return hd.Time.AsTime().UnixMilli() }

// storedLists is every eligible list a test's machine stored
// (Result.EligibleLists), by hash. Lists are content-addressed, so one
// registry serves every test, in parallel too.
var storedLists sync.Map // [32]byte → []*lightkeeperv1.WeightedKeeper

// noted records the eligible lists of a block's result (what the store
// would keep) and passes the result on.
func noted(res *Result, err error) (*Result, error) {
	if res != nil {
		for _, l := range res.EligibleLists {
			storedLists.Store([32]byte(l.Hash), l.Keepers)
		}
	}
	return res, err
}

// eligibleOf returns the list stored under hash, or nil.
func eligibleOf(hash []byte) []*lightkeeperv1.WeightedKeeper {
	if len(hash) != 32 {
		return nil
	}
	l, ok := storedLists.Load([32]byte(hash))
	if !ok {
		return nil
	}
	return cloneWeights(l.([]*lightkeeperv1.WeightedKeeper))
}

// served returns a copy of c as the API serves it: with the eligible list
// its eligible_hash names.
func served(c *lightkeeperv1.Certificate) *lightkeeperv1.Certificate {
	c = proto.Clone(c).(*lightkeeperv1.Certificate)
	c.Eligible = eligibleOf(c.EligibleHash)
	return c
}

// apply applies a block dt after the head.
func (h *harness) apply(dt time.Duration, txs ...*lightkeeperv1.Transaction) *Result {
	h.t.Helper()
	res, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: h.now() + dt.Milliseconds(), Txs: txs}))
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

// ok fails the test if any transaction of res failed.
func (h *harness) ok(res *Result) *Result {
	h.t.Helper()
	for i, r := range res.TxResults {
		if r.Err != nil {
			h.t.Fatalf("tx %d: %v", i, r.Err)
		}
	}
	return res
}

// submit opens a round with a fresh nonce and returns it.
func (h *harness) submit() *lightkeeperv1.Round {
	h.t.Helper()
	h.nonce++
	res := h.ok(h.apply(0, submitTx(proofRequest(h.vk, fmt.Sprint("n", h.nonce)))))
	return res.TxResults[0].Round
}

// seats returns the keeper indexes of a round's committee by seat.
func (h *harness) seats(r *lightkeeperv1.Round) []int {
	out := make([]int, len(r.Committee))
	for i, id := range r.Committee {
		out[i] = h.index[id]
	}
	return out
}

// nonMember returns a keeper index not in r's committee (or -1).
func (h *harness) nonMember(r *lightkeeperv1.Round) int {
	for i := 0; i < h.n; i++ {
		if !slices.Contains(r.Committee, keeperID(i)) {
			return i
		}
	}
	return -1
}

// votes builds votes of the given kind from the members at seats.
func votes(r *lightkeeperv1.Round, h *harness, kind lightkeeperv1.VoteKind, seats ...int) []*lightkeeperv1.Transaction {
	var txs []*lightkeeperv1.Transaction
	for _, s := range seats {
		txs = append(txs, voteTx(r.Id, h.index[r.Committee[s]], kind))
	}
	return txs
}

func seatRange(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func (h *harness) keeper(i int) *lightkeeperv1.Keeper {
	k, ok := h.m.Keeper(keeperID(i))
	if !ok {
		h.t.Fatalf("keeper %d unknown", i)
	}
	return k
}

// mutate rebuilds the machine from a modified snapshot.
func (h *harness) mutate(f func(s *Snapshot)) {
	h.t.Helper()
	s := h.m.Snapshot()
	f(&s)
	m, err := Restore(s)
	if err != nil {
		h.t.Fatal(err)
	}
	h.m = m
}

func setKeeper(s *Snapshot, id string, f func(k *lightkeeperv1.Keeper)) {
	for _, k := range s.Keepers {
		if k.Id == id {
			f(k)
		}
	}
}

func eventsOf[T Event](res *Result) []T {
	var out []T
	for _, e := range res.Events {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

func mustEqualProto(t testing.TB, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Fatalf("%s:\ngot  %v\nwant %v", what, got, want)
	}
}

// withParams returns g carrying params (nil: the defaults).
func withParams(g *lightkeeperv1.Genesis, params *lightkeeperv1.ConsensusParams) *lightkeeperv1.Genesis {
	g.Params = params
	return g
}
