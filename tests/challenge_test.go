package tests

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// TestLazyKeeperEndToEnd: a real coordinator issues random challenges
// (fresh proofs from its built-in circuits, valid and invalid) to six real
// keepers, five seats; keeper 5 approves without verifying. Nothing else
// is submitted. The lazy keeper fails challenges, loses reputation and
// bond, and drops out of the active set; the honest keepers' measured
// capacity and stake limits grow. The API never shows a challenge before
// its round closes, and shows it, with its answer, after.
func TestLazyKeeperEndToEnd(t *testing.T) {
	cfg := config.Default()
	params := protocol.DefaultParams()
	params.Threshold, params.TotalValidators = 4, 5
	params.VerificationTimeout = durationpb.New(3 * time.Second)
	params.Staking.MaxElected = 5
	params.Staking.EpochLength = durationpb.New(5 * time.Second)
	params.Staking.InitialCapacity = 1
	params.Staking.StakePerUnit = 1_000_000 // stage one: limit = capacity × stake_per_unit
	params.Slashing.SlashIncorrectBps = 3000
	cfg.Challenges = config.Challenges{Enabled: true, Rate: 0, Interval: 1, CPUBudget: 1, ComputeShare: 0}
	// Keeper 0 bonds least, so the genesis election leaves it out and
	// seats the lazy keeper: what the lazy keeper loses is a seat it had.
	d := startDevnet(t, devnet.Options{Keepers: 6, Byzantine: []byzantine.Strategy{byzantine.ApproveAll}, Config: &cfg, Params: params,
		Genesis: func(g *lightkeeperv1.Genesis, _ []ed25519.PrivateKey) { g.Keepers[0].Stake = 600_000 }})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	keepers := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	rounds := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	lazy := setup.KeyID(d.Keys[5])

	list := func() map[string]*lightkeeperv1.Keeper {
		t.Helper()
		res, err := keepers.ListKeepers(ctx, connect.NewRequest(&lightkeeperv1.ListKeepersRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*lightkeeperv1.Keeper{}
		for _, k := range res.Msg.GetKeepers() {
			out[k.GetId()] = k
		}
		return out
	}
	before := list()
	if !before[lazy].GetActive() || before[setup.KeyID(d.Keys[0])].GetActive() {
		t.Fatalf("genesis election: want the lazy keeper in the active set and keeper 0 out")
	}

	// What the test waits for. Capacity moves only when an epoch ends and
	// seats only at elections, so these become true over a few epochs, not
	// all at once: wait until one snapshot shows them all.
	unmet := func(after map[string]*lightkeeperv1.Keeper) []string {
		var out []string
		l0, l := before[lazy], after[lazy]
		if l.GetChallengeFailures() == 0 {
			out = append(out, "lazy keeper has no challenge failure")
		}
		if l.GetActive() {
			out = append(out, "lazy keeper is still in the active set")
		}
		if l.GetReputation() >= l0.GetReputation() || l.GetStake() >= l0.GetStake() {
			out = append(out, fmt.Sprintf("lazy keeper: reputation %d→%d, bond %d→%d: want both to fall",
				l0.GetReputation(), l.GetReputation(), l0.GetStake(), l.GetStake()))
		}
		for i := 0; i < 5; i++ {
			id := setup.KeyID(d.Keys[i])
			k0, k := before[id], after[id]
			if k.GetCapacityMilli() <= k0.GetCapacityMilli() || k.GetStakeLimit() <= k0.GetStakeLimit() {
				out = append(out, fmt.Sprintf("honest keeper %d: capacity %d→%d, stake limit %d→%d: want both to grow", i,
					k0.GetCapacityMilli(), k.GetCapacityMilli(), k0.GetStakeLimit(), k.GetStakeLimit()))
			}
			if !k.GetActive() {
				out = append(out, fmt.Sprintf("honest keeper %d is not in the active set", i))
			}
		}
		return out
	}

	// Meanwhile no round may show its answer before it closes, and no
	// honest keeper may ever fail a challenge.
	var after map[string]*lightkeeperv1.Keeper
	var revealed *lightkeeperv1.Round
	var missing []string
	seenClosed := map[string]bool{}
	for {
		if ctx.Err() != nil {
			t.Fatalf("after 3 minutes: %s", strings.Join(missing, "; "))
		}
		res, err := rounds.ListRounds(ctx, connect.NewRequest(&lightkeeperv1.ListRoundsRequest{PageSize: 1000}))
		if err != nil {
			t.Fatal(err)
		}
		// Listings are summaries; the full record (with a closed
		// challenge's answer) comes from GetRound.
		for _, sum := range res.Msg.GetRounds() {
			closed := sum.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED
			if closed && (revealed != nil || seenClosed[sum.GetId()]) {
				continue
			}
			seenClosed[sum.GetId()] = closed
			got, err := rounds.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: sum.GetId()}))
			if err != nil {
				t.Fatal(err)
			}
			r := got.Msg.GetRound()
			closed = r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED
			if !closed && r.GetChallenge() != nil {
				t.Fatalf("round %s in phase %v shows its challenge answer", r.GetId(), r.GetPhase())
			}
			if closed && r.GetChallenge() != nil && revealed == nil {
				revealed = r
			}
		}
		after = list()
		for i := 0; i < 5; i++ {
			if f := after[setup.KeyID(d.Keys[i])].GetChallengeFailures(); f != 0 {
				t.Fatalf("honest keeper %d failed %d challenges", i, f)
			}
		}
		if missing = unmet(after); revealed == nil {
			missing = append(missing, "no challenge revealed yet")
		}
		if len(missing) == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	l0, l := before[lazy], after[lazy]
	t.Logf("lazy: failures %d passed %d, reputation %d→%d, bond %d→%d, capacity %d→%d, active %v",
		l.GetChallengeFailures(), l.GetChallengesPassed(), l0.GetReputation(), l.GetReputation(), l0.GetStake(), l.GetStake(),
		l0.GetCapacityMilli(), l.GetCapacityMilli(), l.GetActive())
	for i := 0; i < 5; i++ {
		k0, k := before[setup.KeyID(d.Keys[i])], after[setup.KeyID(d.Keys[i])]
		t.Logf("honest %d: passed %d, capacity %d→%d, stake limit %d→%d, active %v", i, k.GetChallengesPassed(),
			k0.GetCapacityMilli(), k.GetCapacityMilli(), k0.GetStakeLimit(), k.GetStakeLimit(), k.GetActive())
	}

	// A closed challenge: the certificate carries the answer, and the
	// block that closed it lists it while the block that opened it records
	// a plain submission.
	cert, err := rounds.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: revealed.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	if cert.Msg.GetCertificate().GetChallenge().GetKind() != revealed.GetChallenge().GetKind() {
		t.Errorf("certificate of closed challenge %s: challenge %v, round says %v", revealed.GetId(), cert.Msg.GetCertificate().GetChallenge(), revealed.GetChallenge())
	}
	ledger := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	blk, err := ledger.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: revealed.GetSubmittedHeight()}))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tx := range blk.Msg.GetBlock().GetTransactions() {
		if sr := tx.GetSubmitRound(); sr != nil {
			if sr.GetChallenge() != nil {
				t.Errorf("block %d records a challenge answer in its transactions", revealed.GetSubmittedHeight())
			}
			found = true
		}
	}
	if !found {
		t.Errorf("block %d, where challenge %s was submitted, has no submission", revealed.GetSubmittedHeight(), revealed.GetId())
	}
}
