//go:build edge

package tests

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// TestEdgeWorkerBN254 runs the BN254-only build (make edge-worker-bn254:
// tags lightkeeper_nocompute and lightkeeper_nobls12381, plus
// lightkeeper_noplonk with GROTH16_ONLY=1) in workerd. Its status page
// must list what it verifies; it must vote right on every proof it
// verifies, in decided rounds whose certificates carry its vote, and
// abstain (UNSUPPORTED) on a valid proof of every pair it leaves out.
// Seven keepers, committees of all seven, as in TestEdgeWorkerProofsOnly.
func TestEdgeWorkerBN254(t *testing.T) {
	dir := requireEnvDir(t, "LIGHTKEEPER_EDGE_WORKER_BN254", "test-edge")
	d := startDevnet(t, devnet.Options{Keepers: jsNativeKeepers, ExtraGenesisKeepers: 1})
	key := d.Keys[jsNativeKeepers]
	id := setup.KeyID(key)
	w := startEdgeWorkerd(t, dir, id, key.Seed(), d.URL)
	st, _, err := w.getStatus()
	if err != nil {
		t.Fatal(err)
	}
	checks := st.Checks.Proofs
	t.Logf("the worker verifies %v, compute %v", checks, st.Checks.Compute)
	if !slices.Contains(checks, "groth16/bn254") || st.Checks.Compute ||
		slices.ContainsFunc(checks, func(p string) bool { return strings.HasSuffix(p, "/bls12_381") }) {
		t.Fatalf("status lists %v, compute %v: not a BN254-only proofs build", checks, st.Checks.Compute)
	}
	var built, left []workload.Item
	for _, it := range onePerKind(allItems(t)) {
		switch {
		case slices.Contains(checks, it.Scheme.String()+"/"+it.Curve.String()):
			built = append(built, it)
		case it.Want == workload.Approved:
			left = append(left, it)
		}
	}
	if len(left) == 0 {
		t.Fatal("no item of a left-out pair")
	}

	// The cron, until the test is done; each event lets its session end.
	defer runCron(w)()
	waitKeeperOnline(t, d.URL, id, 60*time.Second)

	outs := runAll(t, d.URL, built)
	checkOutcomes(t, outs)
	if n := checkJSKeeperVotes(t, d.URL, id, outs); n == 0 {
		t.Error("no APPROVED certificate carries the BN254-only worker's vote")
	} else {
		t.Logf("%d APPROVED certificates of %d rounds carry the worker's vote", n, len(outs))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	for i, it := range left {
		r, err := sub.Submit(ctx, it, fmt.Sprintf("%s-left-%d", t.Name(), i))
		if err != nil {
			t.Fatalf("%s: %v", it.Name, err)
		}
		round := waitVotes(t, ctx, sub, r.GetId(), jsNativeKeepers+1)
		var mine *lightkeeperv1.Vote
		for _, v := range round.GetVotes() {
			if v.GetKeeperId() == id {
				mine = v
			}
		}
		switch {
		case mine == nil:
			t.Errorf("%s: round %s (%s): no vote from the worker among %d", it.Name, round.GetId()[:12], round.GetOutcome(), len(round.GetVotes()))
		case mine.GetKind() != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || mine.GetReason() != lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED:
			t.Errorf("%s: the worker voted %v (%v), want ABSTAIN (UNSUPPORTED)", it.Name, mine.GetKind(), mine.GetReason())
		default:
			t.Logf("%s: round %s %s; the worker abstained (UNSUPPORTED)", it.Name, round.GetId()[:12], round.GetOutcome())
		}
	}
}
