package tests

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/devtools/replicanet"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// TestReplicaChallengesRevealed: 4 replicas as separate processes, from a
// home lightkeeper testnet init's way (a challenger key per replica,
// params.challenges in the genesis), with their challenge schedulers on
// and 10 honest keepers. A replica opens sealed challenges, reveals them
// after their rounds close, every replica shows the round revealed and
// keepers judged by it, and all end at the same app hash; every round is
// sealed and no open round ever shows an answer.
func TestReplicaChallengesRevealed(t *testing.T) {
	n := startReplicas(t, replicanet.Options{
		Replicas: 4, Keepers: 10,
		// A challenge every 1–3 s of idle time, proofs only.
		APIConfig: map[string]string{"interval": "2", "rate": "0", "compute_share": "0", "cpu_budget": "1"},
	}, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rounds := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, n.URLs[0])
	var revealed *lightkeeperv1.Round
	for revealed == nil {
		if ctx.Err() != nil {
			t.Fatal("no challenge revealed within 4 minutes")
		}
		res, err := rounds.ListRounds(ctx, connect.NewRequest(&lightkeeperv1.ListRoundsRequest{PageSize: 1000}))
		if err != nil {
			t.Fatal(err)
		}
		for _, sum := range res.Msg.GetRounds() {
			got, err := rounds.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: sum.GetId()}))
			if err != nil {
				t.Fatal(err)
			}
			r := got.Msg.GetRound()
			if r.GetSeal() == nil {
				t.Fatalf("round %s carries no seal on a chain that seals every round", r.GetId())
			}
			closed := r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED
			if !closed && r.GetChallenge() != nil {
				t.Fatalf("round %s in phase %v shows its challenge answer", r.GetId(), r.GetPhase())
			}
			if closed && r.GetChallenge() != nil {
				revealed = r
				break
			}
		}
		time.Sleep(time.Second)
	}
	t.Logf("round %s revealed: answer %v, sealed by %x", revealed.GetId(), revealed.GetChallenge().GetKind(), revealed.GetSeal().GetChallenger()[:4])
	for i := range n.URLs {
		caughtUp(t, n, 0, i)
		rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, n.URLs[i])
		got, err := rc.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: revealed.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		if r := got.Msg.GetRound(); r.GetChallenge() == nil || r.GetChallenge().GetKind() != revealed.GetChallenge().GetKind() {
			t.Errorf("replica %d: round %s not revealed the same (%v)", i, revealed.GetId(), r.GetChallenge())
		}
		kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, n.URLs[i])
		ks, err := kc.ListKeepers(ctx, connect.NewRequest(&lightkeeperv1.ListKeepersRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		judged := 0
		for _, k := range ks.Msg.GetKeepers() {
			judged += int(k.GetChallengesPassed() + k.GetChallengeFailures())
		}
		if judged == 0 {
			t.Errorf("replica %d: no keeper's challenge counters moved", i)
		}
	}
	// The same app hash: the same keeper counters, rounds and pending
	// reveals everywhere.
	sameAppHash(t, n)
}
