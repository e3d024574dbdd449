package replica

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	abci "github.com/cometbft/cometbft/abci/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// TestSealedChallengeOnReplicas: on 4 in-process replicas of a chain with
// params.challenges, a client round submitted through replica 0's API is
// sealed by replica 0 (a commitment to nothing), a challenge opened by
// replica 1 is sealed with a commitment to its answer; both are decided
// by the same votes; after the challenge's round closes replica 1
// reveals it, and every replica judges it the same (equal round records,
// keeper counters and app hashes at every height). No transaction any
// replica's CheckTx saw carries an answer in the clear, and the reveal
// reaches CheckTx only once its round is closed.
func TestSealedChallengeOnReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 4 CometBFT nodes")
	}
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	genesis := testGenesis(time.Now())
	// Rounds close a few seconds after they open, within the test.
	genesis.Params.VerificationTimeout = durationpb.New(4 * time.Second)
	keys := make([]ed25519.PrivateKey, 4)
	var pubs [][]byte
	for i := range keys {
		keys[i] = setup.NewKey()
		pubs = append(pubs, keys[i].Public().(ed25519.PublicKey))
	}
	genesis.Params.Challenges = protocol.DefaultChallengeRules(pubs)
	configs, err := InitTestnet(TestnetOptions{
		Dir: t.TempDir(), Replicas: 4, Genesis: genesis, ChallengerKeys: keys,
		TimeoutPropose: 500 * time.Millisecond, TimeoutCommit: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}

	// What every replica's CheckTx saw.
	var mu sync.Mutex
	var violations []string
	reveals := 0
	seen := map[string]bool{} // reveal bytes CheckTx saw already
	hook := func(tx []byte, m *state.Machine) {
		var x lightkeeperv1.Transaction
		if proto.Unmarshal(tx, &x) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if x.GetSubmitRound().GetChallenge() != nil {
			violations = append(violations, "a submit_round with its answer in the clear reached CheckTx")
		}
		if rc := x.GetRevealChallenge(); rc != nil {
			// The first CheckTx of a reveal is the revealing replica's own,
			// after it committed the closing block; a replica a block
			// behind may see it next, gossiped, with the round still open
			// (and refuses it).
			reveals++
			if !seen[string(tx)] {
				seen[string(tx)] = true
				if _, open := m.OpenRound(rc.GetRoundId()); open || !m.KnownRound(rc.GetRoundId()) {
					violations = append(violations, "a reveal reached CheckTx before its round closed")
				}
			}
		}
	}

	nodes := make([]*Node, len(configs))
	serveCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	t.Cleanup(func() {
		stopServing()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		for i, n := range nodes {
			if err := n.Stop(); err != nil {
				t.Errorf("stop replica %d: %v", i, err)
			}
		}
	})
	var url string
	for i, cfg := range configs {
		api, err := LoadAPIConfig(cfg.RootDir)
		if err != nil {
			t.Fatal(err)
		}
		// The scheduler's circuits take long to set up; the challenge is
		// opened by hand below (OpenSealedChallenge, what it calls).
		api.Challenges.Enabled = false
		n, err := NewNodeWith(cfg, NodeOptions{API: &api})
		if err != nil {
			t.Fatal(err)
		}
		n.App.onCheckTx = hook
		if err := n.Start(); err != nil {
			t.Fatalf("start replica %d: %v", i, err)
		}
		nodes[i] = n
		if i == 0 {
			ln, err := net.Listen("tcp", api.Network.Listen)
			if err != nil {
				t.Fatal(err)
			}
			go func() { served <- n.Serve(serveCtx, ln) }()
			url = "http://" + api.Network.Listen
		}
	}
	waitAll := func(what string, cond func(*Node) bool) {
		t.Helper()
		for {
			ok := true
			for _, n := range nodes {
				ok = ok && cond(n)
			}
			if ok {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	f := mustFixture(t)
	for i := range testKeepers {
		if err := nodes[0].BroadcastTx(enc(t, registerTx(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := nodes[0].BroadcastTx(enc(t, vkTx(f))); err != nil {
		t.Fatal(err)
	}
	waitAll("keepers and key registered", func(n *Node) bool {
		_, err := n.App.mustStore(t).VerifyingKey(vkID(f))
		k, kerr := n.App.mustStore(t).Keeper(keeperID(testKeepers - 1))
		return err == nil && kerr == nil && k.GetOnline()
	})

	// An unsealed round cannot enter a block of this chain.
	if err := nodes[2].BroadcastTx(enc(t, submitTx(t, f, 90, "unsealed"))); err == nil {
		t.Fatal("an unsealed submit_round passed CheckTx on a chain that seals every round")
	}

	// A client's round through replica 0's API: sealed there.
	rounds := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, url)
	clientReq := submitTx(t, f, 91, "client").GetSubmitRound().GetRequest()
	cres, err := rounds.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: clientReq}))
	if err != nil {
		t.Fatalf("client round through replica 0: %v", err)
	}
	client := cres.Msg.GetRound()
	if !bytes.Equal(client.GetSeal().GetChallenger(), pubs[0]) {
		t.Fatalf("client round sealed by %x, want replica 0's key %x", client.GetSeal().GetChallenger(), pubs[0])
	}

	// A challenge opened by replica 1: a valid proof, answer APPROVE.
	chReq := submitTx(t, f, 92, "challenge").GetSubmitRound().GetRequest()
	answer := &lightkeeperv1.ChallengeAnswer{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, ResultHash: make([]byte, 32)}
	res, err := nodes[1].App.Service().OpenSealedChallenge(ctx, chReq, answer)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		t.Fatalf("open sealed challenge on replica 1: %v", err)
	}
	challenge := res.Round
	if !bytes.Equal(challenge.GetSeal().GetChallenger(), pubs[1]) || challenge.GetChallenge() != nil {
		t.Fatalf("challenge round: seal by %x, answer %v; want replica 1's seal and no answer", challenge.GetSeal().GetChallenger(), challenge.GetChallenge())
	}
	// Votes go through every replica: wait until each holds both rounds
	// (CheckTx refuses a vote on a round its replica does not know yet).
	waitAll("both rounds on every replica", func(n *Node) bool {
		_, err1 := n.App.Round(client.GetId())
		_, err2 := n.App.Round(challenge.GetId())
		return err1 == nil && err2 == nil
	})
	for _, r := range []*lightkeeperv1.Round{client, challenge} {
		for _, i := range seats(t, r) {
			if err := nodes[i%4].BroadcastTx(enc(t, keeperVote(t, r, i, f.VerifyingKey))); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitAll("the challenge revealed on every replica", func(n *Node) bool {
		r, err := n.App.Round(challenge.GetId())
		return err == nil && r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED && r.GetChallenge() != nil
	})
	waitAll("the client round closed", func(n *Node) bool {
		r, err := n.App.Round(client.GetId())
		return err == nil && r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED
	})
	// Let each replica commit the same height before comparing.
	time.Sleep(time.Second)

	for _, id := range []string{client.GetId(), challenge.GetId()} {
		want, err := nodes[0].App.Round(id)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range nodes[1:] {
			r, err := n.App.Round(id)
			if err != nil || !proto.Equal(r, want) {
				t.Errorf("replica %d holds another record of round %s (%v)", i+1, id, err)
			}
		}
	}
	if c, _ := nodes[0].App.Round(client.GetId()); c.GetChallenge() != nil {
		t.Error("the client round was revealed as a challenge")
	}
	passed := 0
	for i := range testKeepers {
		want, err := nodes[0].App.mustStore(t).Keeper(keeperID(i))
		if err != nil {
			t.Fatal(err)
		}
		passed += int(want.GetChallengesPassed())
		if want.GetChallengeFailures() != 0 {
			t.Errorf("keeper %d failed a challenge it answered right", i)
		}
		for j, n := range nodes[1:] {
			k, err := n.App.mustStore(t).Keeper(keeperID(i))
			if err != nil || !proto.Equal(k, want) {
				t.Errorf("replica %d holds another record of keeper %d", j+1, i)
			}
		}
	}
	if passed != len(challenge.GetCommittee()) {
		t.Errorf("%d challenges passed over all keepers, want one per committee member (%d)", passed, len(challenge.GetCommittee()))
	}
	top := nodes[0].Comet.BlockStore().Height()
	for _, n := range nodes[1:] {
		top = min(top, n.Comet.BlockStore().Height())
	}
	for h := int64(1); h <= top; h++ {
		ref := nodes[0].Comet.BlockStore().LoadBlockMeta(h)
		for i, n := range nodes[1:] {
			m := n.Comet.BlockStore().LoadBlockMeta(h)
			if m == nil || !bytes.Equal(m.Header.AppHash, ref.Header.AppHash) {
				t.Fatalf("height %d: replica %d's app hash differs from replica 0's", h, i+1)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, v := range violations {
		t.Error(v)
	}
	if reveals == 0 {
		t.Error("no reveal reached any CheckTx")
	}
	t.Logf("%d blocks, challenge revealed on 4 replicas (%d reveal CheckTx calls) in %s", top, reveals, time.Since(begin).Round(time.Millisecond))
}

// TestSealAdmission: CheckTx on a chain with params.challenges refuses an
// unsealed round, a seal by a key not listed, a forged seal and an answer
// in the clear, and admits a listed challenger's seal; a reveal of a round
// that is still open is refused.
func TestSealAdmission(t *testing.T) {
	key := setup.NewKey()
	g := testGenesis(genesisTime)
	g.Params.Challenges = protocol.DefaultChallengeRules([][]byte{key.Public().(ed25519.PublicKey)})
	d := newDriver(t, t.TempDir(), g)
	f := mustFixture(t)
	var txs [][]byte
	for i := range testKeepers {
		txs = append(txs, enc(t, registerTx(i)))
	}
	d.block(append(txs, enc(t, vkTx(f)))...)

	seal := func(k ed25519.PrivateKey, nonce string) *lightkeeperv1.Transaction {
		tx := submitTx(t, f, 7, nonce)
		sr := tx.GetSubmitRound()
		sr.Seal = protocol.SignSeal(k, testChain, sr.GetRequest(), make([]byte, 32), false)
		return tx
	}
	forged := seal(key, "forged")
	forged.GetSubmitRound().GetSeal().Signature[0] ^= 1
	clear := seal(key, "clear")
	clear.GetSubmitRound().Challenge = &lightkeeperv1.ChallengeAnswer{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, ResultHash: make([]byte, 32)}
	good := seal(key, "good")
	res := d.block(enc(t, good))
	if r := res.TxResults[0]; r.Code != CodeOK {
		t.Fatalf("a listed challenger's sealed round: code %d log %q", r.Code, r.Log)
	}
	open := string(res.TxResults[0].Data)
	reveal := &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RevealChallenge{RevealChallenge: &lightkeeperv1.RevealChallengeTx{
		RoundId: open, Answer: &lightkeeperv1.ChallengeAnswer{}, Salt: make([]byte, 32)}}}
	for _, c := range []struct {
		name string
		tx   *lightkeeperv1.Transaction
		code uint32
		log  string
	}{
		{"unsealed", submitTx(t, f, 7, "unsealed"), CodeNotAllowed, "submit_round.seal: missing"},
		{"unlisted", seal(setup.NewKey(), "unlisted"), CodeNotAllowed, "not in params.challenges.challengers"},
		{"forged", forged, CodeBadSignature, "submit_round.seal.signature"},
		{"answer in the clear", clear, CodeNotAllowed, "must not travel through the mempool"},
		{"reveal of an open round", reveal, CodeRefused, "not a closed sealed round"},
		{"listed challenger", seal(key, "listed"), CodeOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := d.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: enc(t, c.tx)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != c.code || !strings.Contains(res.Log, c.log) {
				t.Fatalf("code %d log %q, want code %d and a log naming %q", res.Code, res.Log, c.code, c.log)
			}
		})
	}
}
