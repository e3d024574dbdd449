package tests

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/replicanet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// startReplicas starts 4 `lightkeeper node` processes and 10 keepers
// spread over them, and waits until every keeper is online.
func startReplicas(t *testing.T, o replicanet.Options) *replicanet.Net {
	t.Helper()
	o.Binary = binary
	o.Dir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := replicanet.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("replicanet close: %v", err)
		}
		if t.Failed() {
			for i := range n.URLs {
				t.Logf("replica %d log: %s.log", i, n.Home(i))
			}
		}
	})
	if err := n.WaitOnline(ctx, 0, len(n.Keys), time.Minute); err != nil {
		t.Fatal(err)
	}
	return n
}

func sameAppHash(t *testing.T, n *replicanet.Net) *lightkeeperv1.GetChainInfoResponse {
	t.Helper()
	info, err := n.SameAppHash(context.Background(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestReplicatedProofRounds: 4 replicas as separate processes and 10
// keepers, 3 of them Byzantine, spread over them. Every proof of every
// scheme and curve, submitted through replica 0, is decided right; the
// certificate of each round is byte for byte the same on every replica
// and verifies offline; every replica ends at the same app hash.
func TestReplicatedProofRounds(t *testing.T) {
	n := startReplicas(t, replicanet.Options{
		Replicas: 4, Keepers: 10,
		Byzantine: []byzantine.Strategy{byzantine.Random, byzantine.Random, byzantine.Random},
	})
	outs := runAll(t, n.URLs[0], allItems(t))
	checkOutcomes(t, outs)
	for i := range n.URLs {
		checkCertificates(t, n.URLs[i], outs)
	}
	ctx := context.Background()
	for _, o := range outs {
		if o.err != nil {
			continue
		}
		var first []byte
		for i := range n.URLs {
			rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, n.URLs[i])
			res, err := rc.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: o.round.GetId()}))
			if err != nil {
				t.Fatalf("%s: replica %d: %v", o.item.Name, i, err)
			}
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(res.Msg.GetCertificate())
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = b
			} else if !bytes.Equal(b, first) {
				t.Errorf("%s: replica %d's certificate differs from replica 0's", o.item.Name, i)
			}
		}
	}
	sameAppHash(t, n)
}

// TestReplicaKilledUnderLoad: while clients keep submitting proofs to
// the live replicas, one replica after another is killed with SIGKILL
// and restarted. Rounds keep being decided; every acknowledged round is
// decided exactly once in the ledger of every replica; each restarted
// replica catches up to the same app hash.
func TestReplicaKilledUnderLoad(t *testing.T) {
	n := startReplicas(t, replicanet.Options{Replicas: 4, Keepers: 10})
	var valid []workload.Item
	for _, it := range allItems(t) {
		if it.Want == workload.Approved {
			valid = append(valid, it)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var (
		mu     sync.Mutex
		acked  = map[string]string{} // round id -> item
		down   atomic.Int32          // replica being killed, -1 none
		seq    atomic.Int64
		failed atomic.Int64
	)
	down.Store(-1)
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s := seq.Add(1)
				r := int(s) % len(n.URLs)
				if int32(r) == down.Load() || !n.Running(r) {
					continue
				}
				it := valid[int(s)%len(valid)]
				sub := workload.NewSubmitter(http.DefaultClient, n.URLs[r])
				sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
				round, err := sub.Submit(sctx, it, fmt.Sprintf("kill-%d-%d", c, s))
				scancel()
				if err != nil {
					failed.Add(1) // not acknowledged: the replica may have died under it
					continue
				}
				mu.Lock()
				acked[round.GetId()] = it.Name
				mu.Unlock()
			}
		}()
	}
	for _, victim := range []int{1, 3} {
		time.Sleep(3 * time.Second)
		down.Store(int32(victim))
		if err := n.KillReplica(victim); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second) // rounds go on with three replicas
		if err := n.StartReplica(victim); err != nil {
			t.Fatal(err)
		}
		live, err := n.ChainInfo(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.WaitHeight(ctx, victim, live.GetReplicaHeight(), time.Minute); err != nil {
			t.Fatalf("restarted replica %d did not catch up: %v", victim, err)
		}
		down.Store(-1)
	}
	time.Sleep(2 * time.Second)
	cancel()
	wg.Wait()
	t.Logf("%d rounds acknowledged, %d submissions not acknowledged", len(acked), failed.Load())
	if len(acked) == 0 {
		t.Fatal("no round was acknowledged")
	}

	// Every acknowledged round is decided (APPROVED) on every replica.
	wctx, wcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer wcancel()
	for id, name := range acked {
		for i := range n.URLs {
			sub := workload.NewSubmitter(http.DefaultClient, n.URLs[i])
			r, err := sub.WaitDecided(wctx, id)
			if err != nil {
				t.Fatalf("%s (round %s) on replica %d: %v", name, id, i, err)
			}
			if r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
				t.Errorf("%s (round %s) on replica %d: %v", name, id, i, r.GetOutcome())
			}
		}
	}
	info := sameAppHash(t, n)

	// Each round's certificate is in exactly one block of each ledger.
	for i := range n.URLs {
		lc := n.Ledger(i)
		certs := map[string]int{}
		for h := uint64(1); h <= info.GetHeadHeight(); h++ {
			b, err := lc.GetBlock(wctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: h}))
			if err != nil {
				t.Fatalf("replica %d block %d: %v", i, h, err)
			}
			for _, c := range b.Msg.GetBlock().GetCertificates() {
				certs[c.GetRoundId()]++
			}
		}
		for id, name := range acked {
			if certs[id] != 1 {
				t.Errorf("replica %d: %s (round %s) has %d certificates in the ledger, want 1", i, name, id, certs[id])
			}
		}
		for id, c := range certs {
			if c != 1 {
				t.Errorf("replica %d: round %s decided %d times", i, id, c)
			}
		}
	}
}
