package keeper

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
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
func opens(v Verdict) bool {
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

// TestNativeEngineCompute runs example programs through the keeper's engine
// and checks the votes against compute.Run of the same job.
func TestNativeEngineCompute(t *testing.T) {
	mods := examples(t)
	e := NativeEngine{ComputeKind: compute.EngineInterpreter}
	for _, tc := range []struct {
		name, input string
		fuel        uint64
		kind        lightkeeperv1.VoteKind
		trap        compute.TrapKind
		output      string // a prefix of the expected output
	}{
		{"primes", "100", 50_000_000, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, compute.TrapNone, "primes below 100: 25"},
		{"sha256sum", "abc", 50_000_000, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, compute.TrapNone, "ba7816bf"},
		{"spin", "", 5_000_000, lightkeeperv1.VoteKind_VOTE_KIND_REJECT, compute.TrapOutOfFuel, "spinning"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, leader := range []bool{true, false} {
				task := exampleprog.Task(mods[tc.name], tc.input, tc.fuel, leader, 7)
				v := e.Check(context.Background(), task)
				if v.Kind != tc.kind || !opens(v) || compute.TrapKind(v.Compute.Trap) != tc.trap {
					t.Fatalf("leader=%v: verdict %v %s (trap %d), want %v %s", leader, v.Kind, v.Detail, v.Compute.GetTrap(), tc.kind, tc.trap)
				}
				p, err := compute.Check(mods[tc.name], compute.DefaultLimits())
				if err != nil {
					t.Fatal(err)
				}
				res, err := compute.Run(context.Background(), p, []byte(tc.input), tc.fuel, [32]byte(bytes.Repeat([]byte{7}, 32)),
					compute.Options{Kind: compute.EngineInterpreter})
				if err != nil {
					t.Fatal(err)
				}
				if v.ResultHash != compute.ResultHash(res) {
					t.Fatalf("keeper result %v differs from compute.Run %v", v.Compute, res)
				}
				if leader != (len(v.Compute.Output) > 0) {
					t.Fatalf("leader=%v but output of %d bytes attached", leader, len(v.Compute.Output))
				}
				if leader && !strings.HasPrefix(string(v.Compute.Output), tc.output) {
					t.Fatalf("output %q, want prefix %q", v.Compute.Output, tc.output)
				}
				if tc.trap == compute.TrapOutOfFuel && v.Compute.FuelUsed != tc.fuel {
					t.Fatalf("out of fuel with fuel_used %d, want the limit %d", v.Compute.FuelUsed, tc.fuel)
				}
			}
		})
	}
}

// TestNativeEngineComputeAbstains: what the keeper cannot run is an
// ABSTAIN, never a result.
func TestNativeEngineComputeAbstains(t *testing.T) {
	mods := examples(t)
	e := NativeEngine{ComputeKind: compute.EngineInterpreter}
	unknownID := hex.EncodeToString(bytes.Repeat([]byte{0xab}, 32))
	for _, tc := range []struct {
		name   string
		mut    func(t *lightkeeperv1.Task)
		reason lightkeeperv1.RejectReason
	}{
		{"deadline passed", func(t *lightkeeperv1.Task) { t.Deadline = timestamppb.New(time.Now().Add(time.Second / 2)) },
			lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT},
		{"wall clock runs out", func(t *lightkeeperv1.Task) {
			t.Deadline = timestamppb.New(time.Now().Add(ComputeMargin + 300*time.Millisecond))
			t.GetCompute().Fuel = 1 << 40 // spin would run for hours
		}, lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT},
		// (ids no engine has checked yet: a checked program is cached by id)
		{"bytes of another program", func(t *lightkeeperv1.Task) { t.GetCompute().ProgramId = unknownID },
			lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED},
		{"program not loaded", func(t *lightkeeperv1.Task) { t.GetCompute().ProgramId, t.GetCompute().Program = unknownID, nil },
			lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED},
		{"malformed program id", func(t *lightkeeperv1.Task) { t.GetCompute().ProgramId = "xyz" },
			lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED},
		{"fuel over the limit", func(t *lightkeeperv1.Task) { t.GetCompute().Fuel = 1<<40 + 1 },
			lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT},
	} {
		task := exampleprog.Task(mods["spin"], "", 1_000_000, true, 9)
		tc.mut(task)
		v := e.Check(context.Background(), task)
		if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || v.Reason != tc.reason || v.Compute != nil {
			t.Errorf("%s: verdict %v %v %q, want ABSTAIN %v", tc.name, v.Kind, v.Reason, v.Detail, tc.reason)
		}
	}
}

// TestProgramLoader: compute tasks reach the engine with the program
// inlined, fetched once per program; bytes that do not hash to the id are
// refused (ABSTAIN) and not cached.
func TestProgramLoader(t *testing.T) {
	mods := examples(t)
	module := mods["sha256sum"]
	var fetches atomic.Int32
	var serve []byte = bytes.Clone(module)
	serve[len(serve)-1] ^= 1 // first the coordinator sends garbage
	// An engine that does not hold programs (the interface value hides
	// NativeEngine's HasProgram), so the loader must fetch.
	plain := struct{ Engine }{NativeEngine{ComputeKind: compute.EngineInterpreter}}
	loader := newProgramLoader(plain, func(ctx context.Context, id string) ([]byte, error) {
		fetches.Add(1)
		if serve == nil {
			return nil, errors.New("down")
		}
		return serve, nil
	})
	task := exampleprog.Task(module, "x", 50_000_000, false, 3)
	task.GetCompute().Program = nil
	if v := loader.Check(context.Background(), task); v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || !strings.Contains(v.Detail, "do not hash") {
		t.Fatalf("forged bytes: %v %q", v.Kind, v.Detail)
	}
	serve = module
	for i := 0; i < 3; i++ {
		v := loader.Check(context.Background(), task)
		if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_APPROVE || !opens(v) {
			t.Fatalf("run %d: %v %q", i, v.Kind, v.Detail)
		}
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2 (the refused one and one cached)", n)
	}
	if task.GetCompute().Program != nil {
		t.Fatal("the loader changed the caller's task")
	}
	// An engine that already checked the program needs no bytes at all.
	holder := newProgramLoader(NativeEngine{ComputeKind: compute.EngineInterpreter}, func(context.Context, string) ([]byte, error) {
		t.Error("fetched a program the engine holds")
		return nil, errors.New("no")
	})
	if v := holder.Check(context.Background(), task); v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_APPROVE {
		t.Fatalf("holder: %v %q", v.Kind, v.Detail)
	}
	// Proof tasks pass through.
	if v := loader.Check(context.Background(), &lightkeeperv1.Task{}); v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN {
		t.Fatalf("empty task: %v", v.Kind)
	}
}
