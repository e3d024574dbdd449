package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/coordinator/replica"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/replicanet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// startReplicas starts `lightkeeper node` processes and keepers spread
// over them, and waits until online keepers are online.
func startReplicas(t *testing.T, o replicanet.Options, online int) *replicanet.Net {
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
	if err := n.WaitOnline(ctx, 0, online, time.Minute); err != nil {
		t.Fatal(err)
	}
	return n
}

// caughtUp waits until replica i has committed what replica from has:
// a replica answers from its own committed blocks, which may trail
// another's by a block.
func caughtUp(t *testing.T, n *replicanet.Net, from, i int) {
	t.Helper()
	info, err := n.ChainInfo(context.Background(), from)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.WaitHeight(context.Background(), i, info.GetReplicaHeight(), time.Minute); err != nil {
		t.Fatal(err)
	}
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
	}, 10)
	outs := runAll(t, n.URLs[0], allItems(t))
	checkOutcomes(t, outs)
	for i := range n.URLs {
		caughtUp(t, n, 0, i)
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
	n := startReplicas(t, replicanet.Options{Replicas: 4, Keepers: 10}, 10)
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
		during = map[int][]string{}  // victim -> rounds submitted and acknowledged while it was down
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
				victim := down.Load()
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
				if victim >= 0 && down.Load() == victim {
					during[int(victim)] = append(during[int(victim)], round.GetId())
				}
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
		// Rounds go on with three replicas: wait for a few acknowledged
		// while this one is dead (slow while CometBFT times out the dead
		// validator's turns as proposer).
		var ids []string
		for wait := time.Now().Add(30 * time.Second); len(ids) < 4; {
			time.Sleep(500 * time.Millisecond)
			mu.Lock()
			ids = slices.Clone(during[victim])
			mu.Unlock()
			if time.Now().After(wait) {
				t.Fatalf("%d rounds acknowledged in 30 s while replica %d was down, want 4", len(ids), victim)
			}
		}
		// The keepers whose own replica is down go on voting through
		// another: before it comes back, each has a vote recorded in a
		// round submitted while it was dead. (The API shows a round's
		// votes once it closes, which it does when every member voted.)
		rounds := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, n.URLs[(victim+1)%len(n.URLs)])
		var missing []int
		for wait := time.Now().Add(20 * time.Second); ; time.Sleep(500 * time.Millisecond) {
			voted := map[string]bool{}
			for _, id := range ids {
				r, err := rounds.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: id}))
				if err != nil {
					t.Fatalf("round %s: %v", id, err)
				}
				for _, v := range r.Msg.GetRound().GetVotes() {
					voted[v.GetKeeperId()] = true
				}
			}
			missing = missing[:0]
			for i, key := range n.Keys {
				if i%len(n.URLs) == victim && !voted[setup.KeyID(key)] {
					missing = append(missing, i)
				}
			}
			if len(missing) == 0 || time.Now().After(wait) {
				break
			}
		}
		if len(missing) > 0 {
			t.Errorf("keepers %v (own replica %d) cast no vote in the %d rounds submitted while replica %d was down", missing, victim, len(ids), victim)
		}
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

// missingValidators reads cometbft_consensus_missing_validators from a
// replica's Prometheus endpoint.
func missingValidators(t *testing.T, n *replicanet.Net, i int) int {
	t.Helper()
	u, err := n.MetricsURL(i)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "cometbft_consensus_missing_validators{") {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				t.Fatalf("%s: %q", u, line)
			}
			return int(v)
		}
	}
	t.Fatalf("%s has no cometbft_consensus_missing_validators", u)
	return 0
}

// waitMissing waits until replica i's metrics show a validator missing
// from the last block's signatures.
func waitMissing(t *testing.T, n *replicanet.Net, i int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for missingValidators(t, n, i) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("replica %d's metrics show no missing validator after a minute", i)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestFaultyReplica: one replica of four misbehaves — its application
// reports another app hash, or it falls silent (SIGSTOP). Every proof is
// still decided right through the honest three, which agree on every
// record; the fault shows in the faulty replica's log and in the honest
// replicas' consensus metrics (a validator missing from the signatures).
func TestFaultyReplica(t *testing.T) {
	its := allItems(t)
	t.Run("wrong-app-hash", func(t *testing.T) {
		n := startReplicas(t, replicanet.Options{Replicas: 4, Keepers: 10,
			Env: map[int][]string{3: {replica.FaultEnv + "=" + string(replica.FaultWrongAppHash)}}}, 8)
		outs := runAll(t, n.URLs[0], its)
		checkOutcomes(t, outs)
		caughtUp(t, n, 0, 1)
		checkCertificates(t, n.URLs[1], outs)
		// CometBFT on the faulty replica refuses the honest majority's
		// block (its header names the other app hash) and halts its
		// consensus; the process stays, serving its last state.
		var logText []byte
		for deadline := time.Now().Add(time.Minute); ; {
			var err error
			if logText, err = os.ReadFile(n.Home(3) + ".log"); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(logText), "CONSENSUS FAILURE") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the faulty replica's consensus did not halt within a minute; its log:\n%s", tail(string(logText), 3000))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !strings.Contains(string(logText), "TEST FAULT") || !strings.Contains(string(logText), "wrong Block.Header.AppHash") {
			t.Errorf("the faulty replica's log does not name the fault and the app hash mismatch:\n%s", tail(string(logText), 3000))
		}
		faulty, err := n.ChainInfo(context.Background(), 3)
		if err != nil {
			t.Fatal(err)
		}
		honest, err := n.ChainInfo(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if faulty.GetReplicaHeight() >= honest.GetReplicaHeight() || bytes.Equal(faulty.GetAppHash(), honest.GetAppHash()) {
			t.Errorf("faulty replica at height %d (app hash %X), honest at %d (%X): want it stuck behind", faulty.GetReplicaHeight(), faulty.GetAppHash(), honest.GetReplicaHeight(), honest.GetAppHash())
		}
		checkHalted(t, n, 3)
		waitMissing(t, n, 0)
		if _, err := n.SameAppHash(context.Background(), time.Minute, 0, 1, 2); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("silent", func(t *testing.T) {
		n := startReplicas(t, replicanet.Options{Replicas: 4, Keepers: 10}, 10)
		if err := n.PauseReplica(3); err != nil {
			t.Fatal(err)
		}
		outs := runAll(t, n.URLs[0], its)
		checkOutcomes(t, outs)
		waitMissing(t, n, 1)
		if err := n.ResumeReplica(3); err != nil {
			t.Fatal(err)
		}
		live, err := n.ChainInfo(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.WaitHeight(context.Background(), 3, live.GetReplicaHeight(), time.Minute); err != nil {
			t.Fatal(err)
		}
		sameAppHash(t, n)
	})
}

// checkHalted checks that replica halted says its consensus halted — in
// GetChainInfo, gRPC health and its metrics — and the others do not, and
// that the keepers that started on it moved to another replica.
func checkHalted(t *testing.T, n *replicanet.Net, halted int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i, u := range n.URLs {
		info, err := n.ChainInfo(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if info.GetConsensusHalted() != (i == halted) {
			t.Errorf("replica %d: GetChainInfo consensus_halted %v (reason %q)", i, info.GetConsensusHalted(), info.GetHaltReason())
		}
		if i == halted && !strings.Contains(info.GetHaltReason(), "AppHash") {
			t.Errorf("replica %d: halt reason %q does not name the app hash", i, info.GetHaltReason())
		}
		want := grpchealth.StatusServing
		if i == halted {
			want = grpchealth.StatusNotServing
		}
		for _, svc := range []string{"", lightkeeperv1connect.KeeperServiceName, lightkeeperv1connect.RoundServiceName} {
			res, err := grpchealth.NewClient(http.DefaultClient, u).Check(ctx, &grpchealth.CheckRequest{Service: svc})
			if err != nil || res.Status != want {
				t.Errorf("replica %d: health of %q: %v, %v; want %v", i, svc, res, err, want)
			}
		}
		res, err := http.Get(u + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		gauge := fmt.Sprintf("\nlightkeeper_consensus_halted %d\n", map[bool]int{true: 1}[i == halted])
		if !strings.Contains(string(b), gauge) {
			t.Errorf("replica %d: metrics lack %q", i, strings.TrimSpace(gauge))
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var stuck []int
		for j, k := range n.Keepers {
			if st := k.Stats(); st.Coordinator == n.URLs[halted] {
				stuck = append(stuck, j)
			}
		}
		if len(stuck) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("keepers %v still use the halted replica %d", stuck, halted)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
