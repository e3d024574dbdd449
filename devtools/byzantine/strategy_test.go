package byzantine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
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

func defaultParams() *lightkeeperv1.ComputeParams {
	l := compute.DefaultLimits()
	return &lightkeeperv1.ComputeParams{MaxModuleBytes: uint64(l.MaxModuleBytes), MaxMemoryPages: l.MaxMemoryPages,
		MaxTableElements: l.MaxTableElements, MaxCallDepth: l.MaxCallDepth, MaxOutputBytes: uint32(l.MaxOutputBytes),
		MaxFuel: l.MaxFuel, MaxInputBytes: 1 << 20}
}

func computeTask(module []byte, input string, fuel uint64, leader bool, roundByte byte) *lightkeeperv1.Task {
	id := sha256.Sum256(module)
	rid := bytes.Repeat([]byte{roundByte}, 32)
	return &lightkeeperv1.Task{
		RoundId:  hex.EncodeToString(rid),
		Kind:     lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE,
		Deadline: timestamppb.New(time.Now().Add(time.Minute)),
		Payload: &lightkeeperv1.Task_Compute{Compute: &lightkeeperv1.ComputeTask{
			ProgramId: hex.EncodeToString(id[:]), Program: module, Input: []byte(input), Fuel: fuel,
			Leader: leader, Limits: defaultParams(),
		}},
	}
}

// opens reports whether a verdict's compute result opens its result hash
// the way the coordinator checks it.
func opens(v keeper.Verdict) bool {
	c := v.Compute
	if c == nil || len(c.OutputHash) != 32 {
		return false
	}
	h := compute.ResultHashFromOutputHash(compute.TrapKind(c.Trap), c.ExitCode, c.FuelUsed, [32]byte(c.OutputHash))
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
	task := computeTask(mods["primes"], "50", 50_000_000, true, 5)
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
