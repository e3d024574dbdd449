package keeper

import (
	"context"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// Abstentions keep their detail in the keeper's stats (the vote carries
// only the reason code), so that a demo or an operator can say why a round
// went without this keeper's vote.
func TestStatsKeepAbstentionDetail(t *testing.T) {
	var k Keeper
	k.stats.record("r1", Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE})
	k.stats.record("r2", abstain(lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT, "compute: abstain: wall-clock limit"))
	got := k.Stats().LastAbstentions
	if len(got) != 1 || got[0].RoundID != "r2" || got[0].Detail != "compute: abstain: wall-clock limit" ||
		got[0].Reason != lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT {
		t.Fatalf("LastAbstentions = %+v", got)
	}
	for i := range 20 {
		k.stats.record("x", abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, string(rune('a'+i))))
	}
	if got := k.Stats().LastAbstentions; len(got) != 16 || got[15].Detail != "t" {
		t.Fatalf("after 21 abstentions: %d kept, newest %+v", len(got), got[len(got)-1])
	}
}

// PrepareProgram leaves the program checked (no module needed for its
// tasks) and compiled in the process's engine.
func TestPrepareProgram(t *testing.T) {
	m := examples(t)["primes"]
	if err := PrepareProgram(context.Background(), m, exampleprog.DefaultComputeParams(), compute.EngineInterpreter); err != nil {
		t.Fatal(err)
	}
	id := compute.ProgramIDOf(m).String()
	if !(NativeEngine{}).HasProgram(id, exampleprog.DefaultComputeParams()) {
		t.Fatal("the prepared program is not held")
	}
	task := exampleprog.Task(m, "100", 100_000_000, false, 7)
	task.GetCompute().Program = nil // held: no bytes needed
	v := NativeEngine{ComputeKind: compute.EngineInterpreter}.Check(context.Background(), task)
	if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_APPROVE {
		t.Fatalf("verdict %v %v %q", v.Kind, v.Reason, v.Detail)
	}
}
