package replica

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/ledger"
	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/pebbledb"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

const (
	testChain   = "lightkeeper-replica-test"
	testKeepers = 10
)

// keeperKey is keeper i's deterministic key (seed u32be(i) ‖ 0… ‖ 0x52).
func keeperKey(i int) ed25519.PrivateKey {
	var seed [32]byte
	binary.BigEndian.PutUint32(seed[:4], uint32(i))
	seed[31] = 0x52
	return ed25519.NewKeyFromSeed(seed[:])
}

func keeperID(i int) string { return hex.EncodeToString(keeperKey(i).Public().(ed25519.PublicKey)) }

// testGenesis is a chain of testKeepers genesis keepers under the default
// parameters (10 seats, threshold 7), starting at t.
func testGenesis(t time.Time) *lightkeeperv1.Genesis {
	g := &lightkeeperv1.Genesis{ChainId: testChain, GenesisTime: timestamppb.New(t.Truncate(time.Millisecond)), Params: protocol.DefaultParams()}
	for i := range testKeepers {
		g.Keepers = append(g.Keepers, &lightkeeperv1.GenesisKeeper{KeeperId: keeperID(i), Stake: setup.DefaultStake})
	}
	return g
}

// fixture is a real Groth16/BN254 circuit with its keys (devtools/proofgen).
var fixture = sync.OnceValues(func() (*proofgen.Fixture, error) {
	return proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
})

func mustFixture(t testing.TB) *proofgen.Fixture {
	t.Helper()
	f, err := fixture()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func enc(t testing.TB, tx *lightkeeperv1.Transaction) []byte {
	t.Helper()
	b, err := encoded(tx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func registerTx(i int) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterKeeper{RegisterKeeper: &lightkeeperv1.RegisterKeeperTx{
		KeeperId: keeperID(i), Signature: protocol.SignRegistration(keeperKey(i), testChain),
	}}}
}

func vkTx(f *proofgen.Fixture) *lightkeeperv1.Transaction {
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RegisterVerifyingKey{RegisterVerifyingKey: &lightkeeperv1.RegisterVerifyingKeyTx{
		Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254, Key: f.VerifyingKey,
	}}}
}

func vkID(f *proofgen.Fixture) string {
	s := sha256.Sum256(f.VerifyingKey)
	return hex.EncodeToString(s[:])
}

// proofs holds one proof per secret: a Groth16 proof is randomized, and
// two replicas fed the "same" submission must see the same bytes.
var proofs sync.Map // uint64 → proofgen.Proof

// submitTx opens a round on a real proof of secret.
func submitTx(t testing.TB, f *proofgen.Fixture, secret uint64, nonce string) *lightkeeperv1.Transaction {
	t.Helper()
	cached, ok := proofs.Load(secret)
	if !ok {
		p, err := f.Prove(secret)
		if err != nil {
			t.Fatal(err)
		}
		cached, _ = proofs.LoadOrStore(secret, p)
	}
	p := cached.(proofgen.Proof)
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SubmitRound{SubmitRound: &lightkeeperv1.SubmitRoundTx{
		Request: &lightkeeperv1.RoundRequest{
			Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
				Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254,
				VerifyingKeyId: vkID(f), Proof: p.Proof, PublicInputs: p.PublicInputs,
			}},
			ClientNonce: nonce,
		},
	}}}
}

// keeperVote is what keeper i casts on a proof round after verifying the
// proof itself, as a keeper does.
func keeperVote(t testing.TB, r *lightkeeperv1.Round, i int, vk []byte) *lightkeeperv1.Transaction {
	t.Helper()
	pr := r.GetRequest().GetProof()
	v := verifier.VerifyProof(verifier.ProofJob{
		Scheme: verifier.Scheme(pr.GetScheme()), Curve: verifier.Curve(pr.GetCurve()),
		VerifyingKey: vk, Proof: pr.GetProof(), PublicInputs: pr.GetPublicInputs(),
	}, protocol.DefaultLimits())
	return voteTx(r.GetId(), i, lightkeeperv1.VoteKind(v.Vote))
}

func voteTx(roundID string, i int, kind lightkeeperv1.VoteKind) *lightkeeperv1.Transaction {
	rid, _ := protocol.ParseID(roundID)
	var zero [32]byte
	return &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_CastVote{CastVote: &lightkeeperv1.CastVoteTx{Vote: &lightkeeperv1.Vote{
		RoundId: roundID, KeeperId: keeperID(i), Kind: kind, ResultHash: zero[:],
		Signature: protocol.SignVote(keeperKey(i), testChain, rid, protocol.VoteKind(kind), zero),
	}}}}
}

// seat returns the keeper index of each committee member.
func seats(t testing.TB, r *lightkeeperv1.Round) []int {
	t.Helper()
	index := map[string]int{}
	for i := range testKeepers {
		index[keeperID(i)] = i
	}
	var out []int
	for _, id := range r.GetCommittee() {
		i, ok := index[id]
		if !ok {
			t.Fatalf("committee member %s is not a test keeper", id)
		}
		out = append(out, i)
	}
	return out
}

// driver plays CometBFT towards one App: each block goes through
// PrepareProposal, ProcessProposal, FinalizeBlock and Commit, one second
// after the previous one.
type driver struct {
	t      testing.TB
	app    *App
	height int64
	time   time.Time
}

func newDriver(t testing.TB, dir string, g *lightkeeperv1.Genesis) *driver {
	t.Helper()
	a, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, app: a, time: g.GetGenesisTime().AsTime()}
	appState, err := protojson.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.InitChain(context.Background(), &abci.RequestInitChain{
		Time: d.time, ChainId: g.GetChainId(), InitialHeight: 1, AppStateBytes: appState,
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

// finalize runs PrepareProposal, ProcessProposal and FinalizeBlock of the
// next block (without Commit); it fails the test if the block is refused.
func (d *driver) finalize(txs ...[]byte) *abci.ResponseFinalizeBlock {
	d.t.Helper()
	ctx := context.Background()
	prep, err := d.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{Txs: txs, MaxTxBytes: 64 << 20, Height: d.height + 1})
	if err != nil {
		d.t.Fatal(err)
	}
	if len(prep.Txs) != len(txs) {
		d.t.Fatalf("PrepareProposal kept %d of %d transactions", len(prep.Txs), len(txs))
	}
	proc, err := d.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Txs: prep.Txs, Height: d.height + 1})
	if err != nil || proc.Status != abci.ResponseProcessProposal_ACCEPT {
		d.t.Fatalf("ProcessProposal: %v, %v", proc.GetStatus(), err)
	}
	res, err := d.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Txs: prep.Txs, Height: d.height + 1, Time: d.time.Add(time.Second)})
	if err != nil {
		d.t.Fatal(err)
	}
	return res
}

func (d *driver) commit() {
	d.t.Helper()
	if _, err := d.app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		d.t.Fatal(err)
	}
	d.height++
	d.time = d.time.Add(time.Second)
}

// block runs one whole block and requires every transaction to succeed.
func (d *driver) block(txs ...[]byte) *abci.ResponseFinalizeBlock {
	d.t.Helper()
	res := d.finalize(txs...)
	for i, r := range res.TxResults {
		if r.Code != CodeOK {
			d.t.Fatalf("block %d tx %d: code %d: %s", d.height+1, i, r.Code, r.Log)
		}
	}
	d.commit()
	return res
}

// mustStore is the app's store (the chain must exist).
func (a *App) mustStore(t testing.TB) *pebbledb.Store {
	t.Helper()
	s, err := a.store()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// machine runs f on the app's machine, bypassing the service's lock:
// only for tests that drive the app from one goroutine.
func (a *App) withMachine(f func(m *state.Machine)) { a.Service().CheckMachine(f) }

// persist writes a change set and an app hash as Commit does, outside
// the service (a benchmark of the write alone).
func (a *App) persist(t testing.TB, height uint64, cs ledger.ChangeSet, hash []byte) {
	t.Helper()
	b := a.mustStore(t).NewBatch()
	if err := b.Apply(cs); err != nil {
		b.Close()
		t.Fatal(err)
	}
	if err := b.PutAppHash(height, hash); err != nil {
		b.Close()
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}
