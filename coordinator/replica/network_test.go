package replica

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// TestFourReplicas starts 4 CometBFT nodes in process on loopback (real
// p2p, real consensus), submits the registrations, a verifying key, a
// round on a real proof and its committee's votes through one replica's
// mempool, stops one replica while a second round is decided and restarts
// it, and checks that every replica decides both rounds identically and
// holds the same headers, hence the same app hash, at every height.
func TestFourReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 4 CometBFT nodes")
	}
	begin := time.Now()
	deadline := begin.Add(60 * time.Second)
	// Rounds stay open (DECIDED, taking late votes) far longer than the
	// test, so that each round's final record is the same everywhere.
	genesis := testGenesis(time.Now())
	genesis.Params.VerificationTimeout = durationpb.New(10 * time.Minute)
	configs, err := InitTestnet(TestnetOptions{
		Dir:            t.TempDir(),
		Replicas:       4,
		Genesis:        genesis,
		TimeoutPropose: 500 * time.Millisecond,
		TimeoutCommit:  100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*Node, len(configs))
	t.Cleanup(func() {
		for i, n := range nodes {
			if n == nil {
				continue
			}
			if err := n.Stop(); err != nil {
				t.Errorf("stop replica %d: %v", i, err)
			}
		}
	})
	start := func(i int) {
		t.Helper()
		n, err := NewNode(configs[i], nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = n
		if err := n.Start(); err != nil {
			t.Fatalf("start replica %d: %v", i, err)
		}
	}
	for i := range configs {
		start(i)
	}
	entry := nodes[0]
	broadcast := func(txs ...*lightkeeperv1.Transaction) {
		t.Helper()
		for _, tx := range txs {
			if err := entry.BroadcastTx(enc(t, tx)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// waitAll waits until cond holds on every running replica.
	waitAll := func(what string, cond func(*Node) bool) {
		t.Helper()
		for {
			ok := true
			for _, n := range nodes {
				ok = ok && (n == nil || cond(n))
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	f := mustFixture(t)
	for i := range testKeepers {
		broadcast(registerTx(i))
	}
	broadcast(vkTx(f))
	waitAll("every keeper registered and online", func(n *Node) bool {
		for i := range testKeepers {
			k, err := n.App.mustStore(t).Keeper(keeperID(i))
			if err != nil || !k.GetRegistered() || !k.GetOnline() {
				return false
			}
		}
		_, err := n.App.mustStore(t).VerifyingKey(vkID(f))
		return err == nil
	})

	// decide opens a round on a fresh proof and has its committee vote.
	decide := func(secret uint64) string {
		t.Helper()
		submit := submitTx(t, f, secret, fmt.Sprintf("four-replicas-%d", secret))
		broadcast(submit)
		roundID := protocol.RoundID(testChain, submit.GetSubmitRound().GetRequest())
		waitAll("the round opened", func(n *Node) bool {
			_, err := n.App.Round(roundID)
			return err == nil
		})
		round, err := entry.App.Round(roundID)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range seats(t, round) {
			broadcast(keeperVote(t, round, i, f.VerifyingKey))
		}
		waitAll("the round decided with every vote", func(n *Node) bool {
			r, err := n.App.Round(roundID)
			return err == nil && len(r.GetVotes()) == len(round.GetCommittee())
		})
		return roundID
	}
	rounds := []string{decide(42)}

	// One replica stops; the other three (30 of 40 voting power) go on
	// and decide another round. Restarted from its home, it replays and
	// catches up through CometBFT's handshake and block sync.
	if err := nodes[3].Stop(); err != nil {
		t.Fatal(err)
	}
	nodes[3] = nil
	rounds = append(rounds, decide(43))
	start(3)
	waitAll("the restarted replica caught up", func(n *Node) bool {
		r, err := n.App.Round(rounds[1])
		return err == nil && len(r.GetVotes()) == len(r.GetCommittee())
	})

	for _, id := range rounds {
		var want *lightkeeperv1.Round
		for i, n := range nodes {
			r, err := n.App.Round(id)
			if err != nil {
				t.Fatal(err)
			}
			if r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
				t.Errorf("replica %d: round %s outcome %v, want APPROVED", i, id, r.GetOutcome())
			}
			if want == nil {
				want = r
			} else if !proto.Equal(r, want) {
				t.Errorf("replica %d holds another record of round %s:\n%v\nreplica 0:\n%v", i, id, r, want)
			}
		}
	}
	// A header at height h+1 carries the app hash after block h, and every
	// replica checked it against its own application's: equal headers at
	// every height are equal app hashes at every height.
	top := nodes[0].Comet.BlockStore().Height()
	for _, n := range nodes[1:] {
		top = min(top, n.Comet.BlockStore().Height())
	}
	if top < 4 {
		t.Fatalf("only %d blocks", top)
	}
	for h := int64(1); h <= top; h++ {
		ref := nodes[0].Comet.BlockStore().LoadBlockMeta(h)
		for i, n := range nodes[1:] {
			m := n.Comet.BlockStore().LoadBlockMeta(h)
			if m == nil || !bytes.Equal(m.Header.AppHash, ref.Header.AppHash) || !bytes.Equal(m.BlockID.Hash, ref.BlockID.Hash) {
				t.Fatalf("height %d: replica %d header differs from replica 0's", h, i+1)
			}
		}
	}
	for i, n := range nodes {
		h, hash := n.App.Committed()
		if meta := n.Comet.BlockStore().LoadBlockMeta(int64(h) + 1); meta != nil && !bytes.Equal(meta.Header.AppHash, hash) {
			t.Errorf("replica %d: app hash %X after %d, the next header says %X", i, hash, h, meta.Header.AppHash)
		}
	}
	// CometBFT's own stores are on Pebble (PebbleDBProvider), not goleveldb.
	for _, name := range []string{"blockstore.pebble", "state.pebble"} {
		if _, err := os.Stat(filepath.Join(configs[0].DBDir(), name)); err != nil {
			t.Errorf("CometBFT store: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(configs[0].DBDir(), "blockstore.db")); err == nil {
		t.Error("a goleveldb block store exists beside the Pebble one")
	}
	t.Logf("%d blocks, %d rounds decided on 4 replicas, one restarted, in %s", top, len(rounds), time.Since(begin).Round(time.Millisecond))
}
