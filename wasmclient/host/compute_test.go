package wasmhost

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// tinyProgram assembles a wasip1 command that writes text to stdout and
// then runs tail, a few instructions of its _start (the same as in
// ../wasip1's tests):
//
//	(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
//	(memory (export "memory") 1)
//	(data (i32.const 0) iovec{16, len(text)}) (data (i32.const 16) text)
//	(func (export "_start") (drop (call 0 (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))) tail)
func tinyProgram(text string, tail ...byte) []byte {
	uleb := func(n int) []byte { return binary.AppendUvarint(nil, uint64(n)) } // LEB128 is the varint encoding
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	vec := func(n int, items ...byte) []byte { return cat(uleb(n), items) }
	name := func(s string) []byte { return cat(uleb(len(s)), []byte(s)) }
	section := func(id byte, body []byte) []byte { return cat([]byte{id}, uleb(len(body)), body) }

	types := vec(2, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f, 0x60, 0, 0)
	imports := vec(1, cat(name("wasi_snapshot_preview1"), name("fd_write"), []byte{0, 0})...)
	funcs := vec(1, 1)
	memory := vec(1, 0, 1)
	exports := vec(2, cat(name("_start"), []byte{0, 1}, name("memory"), []byte{2, 0})...)
	body := cat([]byte{0, 0x41, 1, 0x41, 0, 0x41, 1, 0x41, 8, 0x10, 0, 0x1a}, tail, []byte{0x0b})
	code := vec(1, cat(uleb(len(body)), body)...)
	iovec := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 16), uint32(len(text)))
	data := vec(2, cat([]byte{0, 0x41, 0, 0x0b}, name(string(iovec)), []byte{0, 0x41, 16, 0x0b}, name(text))...)
	return cat([]byte("\x00asm\x01\x00\x00\x00"),
		section(1, types), section(2, imports), section(3, funcs), section(5, memory),
		section(7, exports), section(10, code), section(11, data))
}

var (
	tailUnreachable = []byte{0x00}
	tailSpin        = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop br 0 end
	tailDivZero     = []byte{0x41, 1, 0x41, 0, 0x6d, 0x1a} // i32.div_s(1, 0)
)

// computeJob is a job for both the module and the native engines.
type computeJob struct {
	name   string
	module []byte
	limits compute.Limits
	input  []byte
	fuel   uint64
	// trap and output are what the run must end with, to show the job
	// tests what its name says.
	trap   compute.TrapKind
	output string
}

// TestCompute runs compute jobs through the module (Host.RunCompute and
// the Engine) and natively, on one host of one instance, so that the
// example programs are checked and compiled in the module once.
func TestCompute(t *testing.T) {
	mods, err := exampleprog.Modules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t, NewConfig().WithMaxInstances(1))
	t.Run("results", func(t *testing.T) { testComputeResults(t, h, mods) })
	t.Run("engine", func(t *testing.T) { testComputeEngine(t, h, mods) })
	t.Run("errors", func(t *testing.T) { testComputeErrors(t, h) })
	if s := h.Stats(); s.Created != 1 || s.Discarded != 0 {
		t.Errorf("stats %+v: every job should have run on the one instance, none failing it", s)
	}
}

// testComputeResults: the module's results are byte for byte those of
// compute.Run natively, on wazero's compiler and on its interpreter: a
// clean run, an exit code, running out of fuel, the sandbox program's
// clocks, randomness and files, and traps. Each job runs twice in the
// module: when the program is checked and compiled there, and from the
// instance's cache.
func testComputeResults(t *testing.T, h *Host, mods map[string][]byte) {
	ctx := context.Background()
	def := compute.DefaultLimits()
	small := def
	small.MaxOutputBytes = 3
	// Grouped by program, and primes last, so that the instance still
	// holds it for the engine test.
	jobs := []computeJob{
		{"spin/out-of-fuel", mods["spin"], def, nil, 2_000_000, compute.TrapOutOfFuel, "spinning\n"},
		{"sandbox/clock+rand+files", mods["sandbox"], def, nil, 50_000_000, compute.TrapNone, "now: 2024-01-01T00:00:00"},
		{"tiny/unreachable", tinyProgram("a", tailUnreachable...), def, nil, 1000, compute.TrapUnreachable, "a"},
		{"tiny/divide-by-zero", tinyProgram("b", tailDivZero...), def, nil, 1000, compute.TrapDivideByZero, "b"},
		{"tiny/output-limit", tinyProgram("hello\n"), small, nil, 1000, compute.TrapOutputLimit, "hel"},
		{"primes/1000", mods["primes"], def, []byte("1000"), 50_000_000, compute.TrapNone, "primes below 1000: 168, largest 997"},
		{"primes/bad-limit", mods["primes"], def, []byte("-5"), 50_000_000, compute.TrapNone, ""},
	}
	var engines []*compute.Engine
	for _, k := range []compute.EngineKind{compute.EngineCompiler, compute.EngineInterpreter} {
		e, err := compute.NewEngine(ctx, compute.EngineConfig{Kind: k})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(ctx) })
		engines = append(engines, e)
	}
	seed := [32]byte{0xab, 0xcd}
	for _, j := range jobs {
		p, err := compute.Check(j.module, j.limits)
		if err != nil {
			t.Fatalf("%s: %v", j.name, err)
		}
		var want compute.Result
		for i, e := range engines {
			r, err := e.Run(ctx, p, j.input, j.fuel, seed, compute.Options{})
			if err != nil {
				t.Fatalf("%s: native %v: %v", j.name, e.Kind(), err)
			}
			if i == 0 {
				want = r
			} else if !sameResult(r, want) {
				t.Fatalf("%s: the native engines disagree: %v, %v", j.name, want, r)
			}
		}
		if want.Trap != j.trap || !bytes.HasPrefix(want.Output, []byte(j.output)) {
			t.Fatalf("%s: native %v, output %q; want trap %v and output %q", j.name, want, want.Output, j.trap, j.output)
		}
		for _, run := range []string{"first", "cached"} {
			start := time.Now()
			got, err := h.RunCompute(ctx, j.module, j.limits, j.input, j.fuel, seed)
			if err != nil {
				t.Fatalf("%s (%s run): %v", j.name, run, err)
			}
			if !sameResult(got, want) {
				t.Errorf("%s (%s run): module %v, output %q; native %v, output %q", j.name, run, got, got.Output, want, want.Output)
			}
			t.Logf("%s, %s run in the module: %v", j.name, run, time.Since(start).Round(time.Millisecond))
		}
		if j.name == "primes/bad-limit" && want.ExitCode != 2 {
			t.Errorf("%s: exit code %d, want 2", j.name, want.ExitCode)
		}
	}
}

// sameResult compares everything a keeper votes on and uploads.
func sameResult(a, b compute.Result) bool {
	return compute.ResultHash(a) == compute.ResultHash(b) && a.FuelUsed == b.FuelUsed && bytes.Equal(a.Output, b.Output)
}

func computeTask(round byte, module []byte, input []byte, fuel uint64, leader bool) *lightkeeperv1.Task {
	def := compute.DefaultLimits()
	return &lightkeeperv1.Task{
		RoundId: fmt.Sprintf("%062x%02x", 0xc0ffee, round),
		Kind:    lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE,
		Payload: &lightkeeperv1.Task_Compute{Compute: &lightkeeperv1.ComputeTask{
			ProgramId: compute.ProgramIDOf(module).String(), Program: module, Input: input, Fuel: fuel, Leader: leader,
			Limits: &lightkeeperv1.ComputeParams{
				MaxModuleBytes: uint64(def.MaxModuleBytes), MaxMemoryPages: def.MaxMemoryPages, MaxTableElements: def.MaxTableElements,
				MaxCallDepth: def.MaxCallDepth, MaxOutputBytes: uint32(def.MaxOutputBytes), MaxFuel: def.MaxFuel, MaxInputBytes: 1 << 20,
			},
		}},
	}
}

// testComputeEngine: the wasm Engine's verdicts on compute tasks are the
// native engine's (kind, reason, result hash, detail and the attached
// result, with the output only for the leader), including its
// abstentions on tasks it cannot run.
func testComputeEngine(t *testing.T, h *Host, mods map[string][]byte) {
	ctx := context.Background()
	wasm, native := h.Engine(), keeper.NativeEngine{ComputeKind: compute.EngineInterpreter}
	garbage := []byte("not a wasm module")
	cases := []struct {
		name string
		task *lightkeeperv1.Task
		want lightkeeperv1.VoteKind
	}{
		{"approve, leader", computeTask(1, mods["primes"], []byte("1000"), 50_000_000, true), lightkeeperv1.VoteKind_VOTE_KIND_APPROVE},
		{"approve", computeTask(1, mods["primes"], []byte("1000"), 50_000_000, false), lightkeeperv1.VoteKind_VOTE_KIND_APPROVE},
		{"out of fuel, leader", computeTask(2, tinyProgram("spinning\n", tailSpin...), nil, 100_000, true), lightkeeperv1.VoteKind_VOTE_KIND_REJECT},
		{"trap", computeTask(3, tinyProgram("x", tailUnreachable...), nil, 1000, false), lightkeeperv1.VoteKind_VOTE_KIND_REJECT},
		{"program refused", computeTask(4, garbage, nil, 1000, false), lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN},
		{"fuel over the limit", computeTask(5, tinyProgram("x"), nil, 1<<41, false), lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN},
		{"program bytes missing", func() *lightkeeperv1.Task {
			// Programs the native engine has not seen: it needs their bytes.
			tk := computeTask(6, tinyProgram("m"), nil, 1000, false)
			tk.GetCompute().Program = nil
			return tk
		}(), lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN},
		{"program bytes of another program", func() *lightkeeperv1.Task {
			tk := computeTask(7, tinyProgram("n"), nil, 1000, false)
			tk.GetCompute().Program = tinyProgram("y")
			return tk
		}(), lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN},
		{"bad program id", func() *lightkeeperv1.Task {
			tk := computeTask(8, tinyProgram("x"), nil, 1000, false)
			tk.GetCompute().ProgramId = "xyz"
			return tk
		}(), lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN},
		{"bad round id", func() *lightkeeperv1.Task {
			tk := computeTask(9, tinyProgram("x"), nil, 1000, false)
			tk.RoundId = "00"
			return tk
		}(), lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN},
		{"no time left", func() *lightkeeperv1.Task {
			tk := computeTask(10, tinyProgram("x"), nil, 1000, false)
			tk.Deadline = timestamppb.New(time.Now().Add(keeper.ComputeMargin / 2))
			return tk
		}(), lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN},
	}
	for _, c := range cases {
		got, want := wasm.Check(ctx, c.task), native.Check(ctx, c.task)
		if got.Kind != want.Kind || got.Reason != want.Reason || got.ResultHash != want.ResultHash ||
			got.Detail != want.Detail || !proto.Equal(got.Compute, want.Compute) {
			t.Errorf("%s: wasm %+v, native %+v", c.name, got, want)
		}
		if got.Kind != c.want {
			t.Errorf("%s: wasm votes %v (%v: %s), want %v", c.name, got.Kind, got.Reason, got.Detail, c.want)
		}
		if leader := c.task.GetCompute().GetLeader(); got.Compute != nil && (len(got.Compute.GetOutput()) > 0) != leader {
			t.Errorf("%s: output of %d bytes attached by a keeper that is leader=%v", c.name, len(got.Compute.GetOutput()), leader)
		}
	}

	// A job that cannot finish before the round's deadline: both engines
	// stop and abstain (the details differ: the native one is stopped by
	// its context, the module by the fuel it can burn in the time left).
	tk := computeTask(11, tinyProgram("spinning\n", tailSpin...), nil, 1<<40, false)
	tk.Deadline = timestamppb.New(time.Now().Add(keeper.ComputeMargin + 2*time.Second))
	got, want := wasm.Check(ctx, tk), native.Check(ctx, tk)
	if got.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || got.Kind != want.Kind || got.Reason != want.Reason {
		t.Errorf("past the deadline: wasm %+v, native %+v; want the same abstention", got, want)
	}
	t.Logf("past the deadline: %s", got.Detail)
}

// testComputeErrors: every error of RunCompute means abstain and wraps
// compute.ErrAbstain, and none of them costs the instance.
func testComputeErrors(t *testing.T, h *Host) {
	ctx := context.Background()
	def := compute.DefaultLimits()
	garbage := []byte("not a wasm module")

	_, err := h.RunCompute(ctx, garbage, def, nil, 1000, [32]byte{})
	_, werr := compute.Check(garbage, def)
	var refused *ProgramRefusedError
	if !errors.As(err, &refused) || refused.Message != werr.Error() || !errors.Is(err, compute.ErrAbstain) {
		t.Errorf("refused program: %v; want a *ProgramRefusedError saying %q", err, werr)
	}

	hello := tinyProgram("hello\n")
	p, err := compute.Check(hello, def)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.RunCompute(ctx, hello, def, nil, def.MaxFuel+1, [32]byte{})
	_, werr = compute.Run(ctx, p, nil, def.MaxFuel+1, [32]byte{}, compute.Options{Kind: compute.EngineInterpreter})
	var ae *AbstainError
	if !errors.As(err, &ae) || ae.Message != werr.Error() || !errors.Is(err, compute.ErrAbstain) {
		t.Errorf("fuel over the limit: %v; want an *AbstainError saying %q", err, werr)
	}

	if _, err := h.RunCompute(ctx, make([]byte, MaxInput), def, nil, 1, [32]byte{}); !errors.Is(err, ErrInputTooLarge) || !errors.Is(err, compute.ErrAbstain) {
		t.Errorf("input too large: %v", err)
	}

	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.RunCompute(done, hello, def, nil, 1000, [32]byte{}); !errors.Is(err, context.Canceled) || !errors.Is(err, compute.ErrAbstain) {
		t.Errorf("ended context: %v", err)
	}

	// A job that would run for minutes stops at the deadline (give or
	// take how steady the measured speed is), and leaves the instance
	// usable.
	spin := tinyProgram("spinning\n", tailSpin...)
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err = h.RunCompute(short, spin, def, nil, 1<<40, [32]byte{})
	if !errors.Is(err, compute.ErrAbstain) || !strings.Contains(err.Error(), "wall-clock limit") {
		t.Errorf("past the deadline: %v; want a wall-clock abstention", err)
	}
	t.Logf("a 2 s deadline: abstained after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if r, err := h.RunCompute(ctx, hello, def, nil, 1000, [32]byte{}); err != nil || string(r.Output) != "hello\n" {
		t.Errorf("after the abstentions: %v, %v", r, err)
	}
}

// FuzzDecodeComputeResult: the module's output is decoded without a
// panic whatever it holds, and what is accepted encodes back to the same
// bytes.
func FuzzDecodeComputeResult(f *testing.F) {
	encode := func(r compute.Result) []byte {
		b := binary.LittleEndian.AppendUint32(nil, uint32(r.Trap))
		b = binary.LittleEndian.AppendUint32(b, r.ExitCode)
		b = binary.LittleEndian.AppendUint64(b, r.FuelUsed)
		return append(b, r.Output...)
	}
	for _, r := range []compute.Result{
		{}, {Output: []byte("out"), ExitCode: 2, FuelUsed: 1 << 40}, {Trap: compute.TrapIndirectCall, FuelUsed: 5},
	} {
		f.Add(encode(r))
	}
	f.Add(make([]byte, 15))
	f.Add(encode(compute.Result{Trap: compute.TrapIndirectCall + 1}))
	f.Fuzz(func(t *testing.T, out []byte) {
		r, err := decodeComputeResult(out)
		if err != nil {
			return
		}
		if !bytes.Equal(encode(r), out) {
			t.Fatalf("decoded %v, which encodes to other bytes", r)
		}
		if r.Output != nil && len(r.Output) == 0 {
			t.Fatal("empty output not nil, unlike compute.Run's")
		}
	})
}
