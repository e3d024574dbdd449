package byzantine

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

func examples(t *testing.T) map[string][]byte {
	t.Helper()
	mods, err := exampleprog.Modules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// opens reports whether a verdict's compute result opens its result hash
// the way the coordinator checks it.
func opens(v keeper.Verdict) bool {
	c := v.Compute
	if c == nil || len(c.OutputHash) != 32 {
		return false
	}
	h := protocol.ComputeResultHash(c.Trap, c.ExitCode, c.FuelUsed, [32]byte(c.OutputHash))
	if h != v.ResultHash {
		return false
	}
	if len(c.Output) > 0 && sha256.Sum256(c.Output) != [32]byte(c.OutputHash) {
		return false
	}
	return (v.Kind == lightkeeperv1.VoteKind_VOTE_KIND_APPROVE) == (c.Trap == 0)
}

// TestComputeStrategies: Byzantine keepers cast votes the coordinator
// accepts (self-consistent) but for wrong results.
func TestComputeStrategies(t *testing.T) {
	mods := examples(t)
	task := exampleprog.Task(mods["primes"], "50", 50_000_000, true, 5)
	honest := keeper.NativeEngine{ComputeKind: compute.EngineInterpreter}.Check(context.Background(), task)
	if !opens(honest) {
		t.Fatal("honest verdict does not open")
	}
	for _, s := range Strategies {
		for _, v := range s.Votes(task, honest) {
			if !opens(v) {
				t.Errorf("%s: a vote that does not open its result hash: %+v", s, v)
			}
			right := v.ResultHash == honest.ResultHash
			if want := s == Honest || s == Equivocate; right && !want || !right && s == Honest {
				t.Errorf("%s: voted the honest result = %v", s, right)
			}
		}
	}
	if vs := Equivocate.Votes(task, honest); len(vs) != 2 || vs[0].ResultHash == vs[1].ResultHash {
		t.Error("equivocate: want the honest result and a different one")
	}
	if vs := Silent.Votes(task, honest); len(vs) != 0 {
		t.Error("silent voted")
	}
}
