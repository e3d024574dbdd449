package replica

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// startedChain is a replica with every keeper registered and the
// fixture's verifying key registered (block 1), and one round open on a
// valid proof (block 2).
func startedChain(t testing.TB, dir string) (*driver, *lightkeeperv1.Round) {
	t.Helper()
	f := mustFixture(t)
	d := newDriver(t, dir, testGenesis(genesisTime))
	var txs [][]byte
	for i := range testKeepers {
		txs = append(txs, enc(t, registerTx(i)))
	}
	d.block(append(txs, enc(t, vkTx(f)))...)
	res := d.block(enc(t, submitTx(t, f, 7, "round-1")))
	r, err := d.app.Round(string(res.TxResults[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	return d, r
}

func TestCheckTxRefusals(t *testing.T) {
	d, r := startedChain(t, t.TempDir())
	member := seats(t, r)[0]

	valid := enc(t, registerTx(0))
	withUnknown := protowire.AppendTag(bytes.Clone(valid), 99, protowire.VarintType)
	withUnknown = protowire.AppendVarint(withUnknown, 1)
	badReg := registerTx(1)
	badReg.GetRegisterKeeper().Signature = protocol.SignRegistration(keeperKey(1), "another-chain")
	forged := voteTx(r.GetId(), member, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)
	forged.GetCastVote().GetVote().Signature = bytes.Repeat([]byte{1}, 64)
	challenge := submitTx(t, mustFixture(t), 8, "challenge")
	challenge.GetSubmitRound().Challenge = &lightkeeperv1.ChallengeAnswer{}
	badSigned := protocol.SignedTransaction(&lightkeeperv1.SignedTx{Body: []byte{8, 1}, PublicKey: make([]byte, 32), Signature: make([]byte, 64)})
	unknownRound := voteTx(strings.Repeat("ab", 32), member, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)
	sealed := submitTx(t, mustFixture(t), 8, "sealed")
	sealed.GetSubmitRound().Seal = protocol.SignSeal(keeperKey(0), testChain, sealed.GetSubmitRound().GetRequest(), make([]byte, 32), false)
	reveal := &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RevealChallenge{RevealChallenge: &lightkeeperv1.RevealChallengeTx{
		RoundId: r.GetId(), Answer: &lightkeeperv1.ChallengeAnswer{}, Salt: make([]byte, 32)}}}
	garbageVK := vkTx(mustFixture(t))
	garbageVK.GetRegisterVerifyingKey().Key = []byte("not a key")

	for _, c := range []struct {
		name string
		tx   []byte
		code uint32
		log  string
	}{
		{"garbage", []byte{0xff, 0xff, 0xff}, CodeMalformed, "not a lightkeeper.v1.Transaction"},
		{"empty", nil, CodeMalformed, "no transaction kind"},
		{"unknown field", withUnknown, CodeMalformed, "unknown fields"},
		{"oversize", make([]byte, d.app.limits.maxTxBytes+1), CodeMalformed, "the limit is"},
		{"set_keeper_online", enc(t, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SetKeeperOnline{SetKeeperOnline: &lightkeeperv1.SetKeeperOnlineTx{KeeperId: keeperID(0), Online: false}}}), CodeNotAllowed, "set_keeper_online"},
		{"challenge answer", enc(t, challenge), CodeNotAllowed, "must not travel through the mempool"},
		{"seal without params.challenges", enc(t, sealed), CodeNotAllowed, "submit_round.seal"},
		{"reveal without params.challenges", enc(t, reveal), CodeNotAllowed, "reveal_challenge"},
		{"registration for another chain", enc(t, badReg), CodeBadSignature, "proof of possession"},
		{"forged vote", enc(t, forged), CodeBadSignature, "vote.signature"},
		{"vote on unknown round", enc(t, unknownRound), CodeRefused, "UNKNOWN_ROUND"},
		{"bad signed tx", enc(t, badSigned), CodeBadSignature, "signed.signature"},
		{"bad verifying key", enc(t, garbageVK), CodeRefused, "verifying"},
		{"valid vote", enc(t, voteTx(r.GetId(), member, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)), CodeOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := d.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: c.tx})
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != c.code || !strings.Contains(res.Log, c.log) {
				t.Fatalf("code %d log %q, want code %d and a log naming %q", res.Code, res.Log, c.code, c.log)
			}
		})
	}
}

// TestBlockCycle: a round opened on a real proof is decided by its
// committee's votes, and a vote that cannot count still gets a result
// with the machine's reason.
func TestBlockCycle(t *testing.T) {
	d, r := startedChain(t, t.TempDir())
	for i := range testKeepers {
		k, err := d.app.mustStore(t).Keeper(keeperID(i))
		if err != nil {
			t.Fatal(err)
		}
		if !k.GetRegistered() || !k.GetOnline() {
			t.Fatalf("keeper %d: registered %t online %t, want both after its registration", i, k.GetRegistered(), k.GetOnline())
		}
	}
	if len(r.GetCommittee()) == 0 || r.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING {
		t.Fatalf("round: committee %d, phase %v", len(r.GetCommittee()), r.GetPhase())
	}
	f := mustFixture(t)
	var txs [][]byte
	for _, i := range seats(t, r) {
		txs = append(txs, enc(t, keeperVote(t, r, i, f.VerifyingKey)))
	}
	// A vote on a round that does not exist: the block takes it (it is
	// well formed), the machine refuses it.
	txs = append(txs, enc(t, voteTx(strings.Repeat("cd", 32), 0, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)))
	res := d.finalize(txs...)
	d.commit()
	last := res.TxResults[len(txs)-1]
	if last.Code != CodeFailed || !strings.Contains(last.Log, "unknown round") {
		t.Fatalf("vote on an unknown round: code %d log %q", last.Code, last.Log)
	}
	decided, err := d.app.Round(r.GetId())
	if err != nil {
		t.Fatal(err)
	}
	if decided.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
		t.Fatalf("round outcome %v, want APPROVED after %d approvals", decided.GetOutcome(), len(txs)-1)
	}
	if h, hash := d.app.Committed(); h != 3 || !bytes.Equal(hash, res.AppHash) {
		t.Fatalf("committed height %d hash %X, want 3 and FinalizeBlock's %X", h, hash, res.AppHash)
	}
}

// TestRestartReplays: a replica stopped after Commit restarts at the same
// height and app hash; one stopped between FinalizeBlock and Commit (what
// kill -9 leaves) restarts at the previous block, and replaying the lost
// block gives the app hash it had computed, the same as a replica that
// never stopped.
func TestRestartReplays(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	a, r := startedChain(t, dirA)
	b, _ := startedChain(t, dirB)
	if ha, _ := a.app.Committed(); ha != 2 {
		t.Fatalf("height %d, want 2", ha)
	}
	f := mustFixture(t)
	vote := enc(t, keeperVote(t, r, seats(t, r)[0], f.VerifyingKey))

	// A: finalize block 3, crash before Commit.
	lost := a.finalize(vote)
	if err := a.app.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := Open(dirA, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reopened.Close() })
	info, err := reopened.Info(context.Background(), &abci.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	_, hashB2 := b.app.Committed()
	if info.LastBlockHeight != 2 || !bytes.Equal(info.LastBlockAppHash, hashB2) {
		t.Fatalf("after the crash: Info height %d hash %X, want 2 and %X", info.LastBlockHeight, info.LastBlockAppHash, hashB2)
	}
	a.app = reopened
	replayed := a.finalize(vote)
	a.commit()
	if !bytes.Equal(replayed.AppHash, lost.AppHash) {
		t.Fatalf("replayed block 3: app hash %X, before the crash %X", replayed.AppHash, lost.AppHash)
	}
	ref := b.block(vote)
	if !bytes.Equal(ref.AppHash, replayed.AppHash) {
		t.Fatalf("block 3: replica that restarted %X, replica that did not %X", replayed.AppHash, ref.AppHash)
	}

	// A clean restart after Commit.
	if err := a.app.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(dirA, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	if h, hash := again.Committed(); h != 3 || !bytes.Equal(hash, ref.AppHash) {
		t.Fatalf("clean restart: height %d hash %X, want 3 and %X", h, hash, ref.AppHash)
	}
}

func TestProposals(t *testing.T) {
	d, r := startedChain(t, t.TempDir())
	ctx := context.Background()
	good := enc(t, voteTx(r.GetId(), seats(t, r)[0], lightkeeperv1.VoteKind_VOTE_KIND_APPROVE))
	online := enc(t, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_SetKeeperOnline{SetKeeperOnline: &lightkeeperv1.SetKeeperOnlineTx{KeeperId: keeperID(0)}}})
	tooMany := make([][]byte, MaxBlockTxs+1)
	for i := range tooMany {
		tooMany[i] = good
	}
	for _, c := range []struct {
		name string
		txs  [][]byte
		want abci.ResponseProcessProposal_ProposalStatus
	}{
		{"valid", [][]byte{good}, abci.ResponseProcessProposal_ACCEPT},
		{"empty", nil, abci.ResponseProcessProposal_ACCEPT},
		{"undecodable", [][]byte{good, {0xff}}, abci.ResponseProcessProposal_REJECT},
		{"system transaction", [][]byte{online}, abci.ResponseProcessProposal_REJECT},
		{"oversize", [][]byte{make([]byte, d.app.limits.maxTxBytes+1)}, abci.ResponseProcessProposal_REJECT},
		{"too many", tooMany, abci.ResponseProcessProposal_REJECT},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := d.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Txs: c.txs, Height: 3})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != c.want {
				t.Fatalf("status %v, want %v", res.Status, c.want)
			}
		})
	}

	// PrepareProposal leaves out what ProcessProposal would refuse and
	// keeps within the byte budget and the count limit.
	prep, err := d.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{Txs: [][]byte{good, {0xff}, online, good}, MaxTxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(prep.Txs) != 2 {
		t.Fatalf("PrepareProposal kept %d transactions, want the 2 valid ones", len(prep.Txs))
	}
	prep, err = d.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{Txs: [][]byte{good, good}, MaxTxBytes: int64(len(good)) + 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(prep.Txs) != 1 {
		t.Fatalf("PrepareProposal kept %d transactions under a one-transaction budget", len(prep.Txs))
	}
	prep, err = d.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{Txs: tooMany, MaxTxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(prep.Txs) != MaxBlockTxs {
		t.Fatalf("PrepareProposal kept %d transactions, the limit is %d", len(prep.Txs), MaxBlockTxs)
	}
}

// TestAppHash: the hash commits to every record's key, bytes and delete
// flag, and not to the order in which the machine listed them.
func TestAppHash(t *testing.T) {
	d, _ := startedChain(t, t.TempDir())
	_, prev := d.app.Committed()
	// A real block's changes: balances, keepers, staking, the block.
	f := mustFixture(t)
	var res *state.Result
	var err error
	d.app.withMachine(func(m *state.Machine) {
		res, err = m.ApplyBlock(state.BlockInput{
			TimeUnixMilli: d.time.Add(time.Second).UnixMilli(),
			Txs:           []*lightkeeperv1.Transaction{submitTx(t, f, 9, "hash")},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	cs := res.Changes
	base, err := AppHash(3, prev, cs)
	if err != nil {
		t.Fatal(err)
	}
	reversed := append(cs[:0:0], cs...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	if h, _ := AppHash(3, prev, reversed); !bytes.Equal(h, base) {
		t.Fatal("the app hash depends on the order of the change set")
	}
	families := map[string]bool{}
	for i, c := range cs {
		families[c.Family.Name] = true
		changed := append(cs[:0:0], cs...)
		// One more field in the record: its bytes change, its key does not.
		rec := proto.Clone(c.Record)
		rec.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 1000, protowire.VarintType), 1))
		changed[i].Record = rec
		if h, _ := AppHash(3, prev, changed); bytes.Equal(h, base) {
			t.Fatalf("changing a %s record leaves the app hash unchanged", c.Family.Name)
		}
		deleted := append(cs[:0:0], cs...)
		deleted[i].Delete = !deleted[i].Delete
		if h, _ := AppHash(3, prev, deleted); bytes.Equal(h, base) {
			t.Fatalf("deleting a %s record leaves the app hash unchanged", c.Family.Name)
		}
	}
	for _, name := range []string{"meta", "block", "round", "staking state"} {
		if !families[name] {
			t.Errorf("the block's change set has no %s record (families: %v)", name, families)
		}
	}
	if h, _ := AppHash(3, bytes.Repeat([]byte{1}, 32), cs); bytes.Equal(h, base) {
		t.Fatal("the app hash does not depend on the previous one")
	}
}
