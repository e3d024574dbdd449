package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/loadgen"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

func TestRunAgainstDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f, err := proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Prove(5)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Limits.SubmitRate, cfg.Limits.SubmitBurst = 1e6, 1e6
	d, err := devnet.Start(ctx, devnet.Options{Dir: t.TempDir(), ExtraGenesisKeepers: 8, Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	rep, err := loadgen.Run(ctx, loadgen.Options{
		URL:  d.URL,
		Keys: d.Keys,
		Proof: loadgen.Proof{Scheme: verifier.SchemeGroth16, Curve: verifier.CurveBN254,
			VerifyingKey: f.VerifyingKey, Proof: p.Proof, PublicInputs: p.PublicInputs},
		Rounds:      20,
		Concurrency: 4,
		VoteBatch:   16,
		VoteDelay:   5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != 20 || !rep.AllApproved() {
		for _, r := range rep.Rounds {
			if r.Err != nil {
				t.Log(r.Err)
			}
		}
		t.Fatalf("%d rounds, all approved: %v", len(rep.Rounds), rep.AllApproved())
	}
	for _, r := range rep.Rounds {
		if r.Block < 0 || r.Client <= 0 {
			t.Errorf("round %s: block latency %v, client latency %v", r.ID, r.Block, r.Client)
		}
	}
	if rep.Wall <= 0 {
		t.Errorf("wall time %v", rep.Wall)
	}
	// 20 rounds × a committee of 8 (fewer keepers than total_validators).
	const accepted = `lightkeeper_votes_total{status="VOTE_STATUS_ACCEPTED"}`
	if rep.Before == nil || rep.After == nil {
		t.Fatal("no /metrics")
	}
	if v := loadgen.Delta(rep.Before, rep.After, accepted); v < 20*7 {
		t.Errorf("%v votes accepted, want at least %d", v, 20*7)
	}
	if h := loadgen.Delta(rep.Before, rep.After, "lightkeeper_block_height"); h < 1 {
		t.Errorf("block height grew by %v", h)
	}
	if rep.VotesSigned < 20*7 || rep.VotesLost != 0 {
		t.Errorf("keepers signed %d votes, lost %d", rep.VotesSigned, rep.VotesLost)
	}
}
