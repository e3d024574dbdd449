package compute

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/tetratelabs/wazero"
)

var seedA = [32]byte{'r', 'o', 'u', 'n', 'd', '-', 'a'}

// TestExamples: every example gives the expected output and byte-identical
// results (output, exit code, fuel, trap) on wazero's compiler and
// interpreter, and the same again on a second run.
func TestExamples(t *testing.T) {
	primesWant := func(n int) string {
		comp := make([]bool, n)
		count, largest, sum := 0, 0, uint64(0)
		for i := 2; i < n; i++ {
			if comp[i] {
				continue
			}
			count, largest, sum = count+1, i, sum*31+uint64(i)
			for j := i * i; j < n; j += i {
				comp[j] = true
			}
		}
		return fmt.Sprintf("primes below %d: %d, largest %d, checksum %d\n", n, count, largest, sum)
	}
	text := "The quick brown fox jumps over the lazy dog.\nThe dog sleeps; the fox runs!\n"
	cases := []struct {
		name  string
		input string
		fuel  uint64
		check func(t *testing.T, r Result)
	}{
		{"sha256sum", text, 50_000_000, func(t *testing.T, r Result) {
			want := fmt.Sprintf("%x  -\n", sha256.Sum256([]byte(text)))
			expectOutput(t, r, want, 0)
		}},
		{"wordcount", text, 50_000_000, func(t *testing.T, r Result) {
			expectOutput(t, r, "2 lines, 15 words, 75 bytes\n     4 the\n     2 dog\n     2 fox\n     1 brown\n     1 jumps\n", 0)
		}},
		{"primes", "30000", 200_000_000, func(t *testing.T, r Result) {
			expectOutput(t, r, primesWant(30000), 0)
		}},
		{"primes", "not a number", 50_000_000, func(t *testing.T, r Result) {
			expectOutput(t, r, "", 2)
		}},
		{"floats", "1 2 3 4 1e300 -0.5", 50_000_000, func(t *testing.T, r Result) {
			if r.ExitCode != 0 || r.Trap != TrapNone {
				t.Fatalf("result %v", r)
			}
			lines := strings.Split(strings.TrimSpace(string(r.Output)), "\n")
			if len(lines) != 6 || !strings.HasPrefix(lines[0], "n=6 ") {
				t.Fatalf("output %q", r.Output)
			}
			for _, l := range lines[1:5] {
				if l != "nan bits 7ff8000000000000" {
					t.Errorf("NaN not canonical: %q", l)
				}
			}
		}},
		{"floats", "", 50_000_000, func(t *testing.T, r Result) {
			if !strings.Contains(string(r.Output), "mean bits 7ff8000000000000") {
				t.Fatalf("mean of nothing is not the canonical NaN: %q", r.Output)
			}
		}},
		{"sandbox", "", 50_000_000, func(t *testing.T, r Result) {
			out := string(r.Output)
			for _, want := range []string{
				"now: 2024-01-01T00:00:00.",
				"slept: true",
				"after sleep: 2024-01-01T00:00:01.5",
				"args: [program]",
				"environ: []",
				"read /etc/passwd: open /etc/passwd: Bad file number",
				"write out.txt: open out.txt: Bad file number",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		}},
		{"spin", "", 5_000_000, func(t *testing.T, r Result) {
			if r.Trap != TrapOutOfFuel || r.FuelUsed != 5_000_000 || string(r.Output) != "spinning\n" {
				t.Fatalf("result %v, output %q", r, r.Output)
			}
		}},
	}
	programs := map[string]*Program{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := programs[c.name]
			if p == nil {
				p = mustCheck(t, exampleModule(t, c.name), DefaultLimits())
				programs[c.name] = p
			}
			r := runBoth(t, p, []byte(c.input), c.fuel, seedA)
			c.check(t, r)
			again := runBoth(t, p, []byte(c.input), c.fuel, seedA)
			if ResultHash(again) != ResultHash(r) {
				t.Fatalf("second run differs: %v vs %v", again, r)
			}
			t.Logf("%v", r)
		})
	}
}

func expectOutput(t *testing.T, r Result, out string, exit uint32) {
	t.Helper()
	if string(r.Output) != out || r.ExitCode != exit || r.Trap != TrapNone {
		t.Fatalf("got %v output %q, want exit %d output %q", r, r.Output, exit, out)
	}
}

// TestSandboxSeed: the same round reads the same clock and random bytes;
// another round's seed changes the random bytes and nothing else.
func TestSandboxSeed(t *testing.T) {
	p := mustCheck(t, exampleModule(t, "sandbox"), DefaultLimits())
	a := runBoth(t, p, nil, 50_000_000, seedA)
	b := runBoth(t, p, nil, 50_000_000, [32]byte{'b'})
	la, lb := strings.Split(string(a.Output), "\n"), strings.Split(string(b.Output), "\n")
	if len(la) != len(lb) {
		t.Fatalf("outputs differ in shape:\n%s\n%s", a.Output, b.Output)
	}
	for i := range la {
		random := strings.HasPrefix(la[i], "crypto/rand") || strings.HasPrefix(la[i], "math/rand")
		if random && la[i] == lb[i] {
			t.Errorf("line %q does not depend on the seed", la[i])
		}
		if !random && !strings.HasPrefix(la[i], "now:") && !strings.HasPrefix(la[i], "after sleep:") && la[i] != lb[i] {
			t.Errorf("line differs across seeds: %q vs %q", la[i], lb[i])
		}
	}
}

// TestFuelExact pins the fuel of small programs to the documented cost
// model: each segment costs its instruction count.
func TestFuelExact(t *testing.T) {
	lim := DefaultLimits()
	// nop nop end: one segment of 3.
	p := mustCheck(t, command(nil, 0x01, 0x01, opEnd), lim)
	if r := runBoth(t, p, nil, 100, seedA); r.FuelUsed != 3 || r.Trap != TrapNone {
		t.Fatalf("nop nop end: %v", r)
	}
	// local i = 10; loop { i--; br_if i != 0 }: entry 3 (const, set, loop),
	// body 6 per iteration, final end 1: 3 + 60 + 1.
	code := cat(i32c(10), []byte{0x21, 0, 0x03, blockEmpty, 0x20, 0}, i32c(1), []byte{opI32Sub, 0x22, 0, 0x0d, 0, opEnd, opEnd})
	w := &wMod{}
	f := w.fn(nil, nil, []localDecl{{1, valI32}}, code...)
	w.exports = []exportEntry{{"memory", externMemory, 0}, {"_start", externFunc, f}}
	p = mustCheck(t, w.bytes(), lim)
	if r := runBoth(t, p, nil, 1000, seedA); r.FuelUsed != 64 || r.Trap != TrapNone {
		t.Fatalf("loop: %v, want fuel 64", r)
	}
	// With 63 units the final segment cannot be paid.
	if r := runBoth(t, p, nil, 63, seedA); r.FuelUsed != 63 || r.Trap != TrapOutOfFuel {
		t.Fatalf("loop with 63: %v", r)
	}
	// Fuel 0 traps at the very first segment.
	if r := runBoth(t, p, nil, 0, seedA); r.Trap != TrapOutOfFuel || r.FuelUsed != 0 {
		t.Fatalf("fuel 0: %v", r)
	}
}

// TestInfiniteLoop: a loop that never ends is the deterministic result
// out-of-fuel with the whole limit used, the same every time and on every
// engine, not an error and not a timeout.
func TestInfiniteLoop(t *testing.T) {
	p := mustCheck(t, command(nil, 0x03, blockEmpty, 0x0c, 0, opEnd, opEnd), DefaultLimits())
	var first [32]byte
	for i := 0; i < 3; i++ {
		r := runBoth(t, p, nil, 1_000_001, seedA)
		if r.Trap != TrapOutOfFuel || r.FuelUsed != 1_000_001 || r.ExitCode != 0 {
			t.Fatalf("run %d: %v", i, r)
		}
		if h := ResultHash(r); i == 0 {
			first = h
		} else if h != first {
			t.Fatalf("run %d hash differs", i)
		}
	}
}

// nanModule exits with the high 32 bits of a NaN computed at run time.
func nanModule(op []byte, f32 bool) []byte {
	return command(func(w *wMod) { w.wasi("proc_exit") }, cat(op,
		map[bool][]byte{false: {0xbd /* i64.reinterpret_f64 */, opI64Const, 32, 0x88, 0xa7 /* i32.wrap_i64 */},
			true: {0xbc /* i32.reinterpret_f32 */}}[f32],
		call(0), []byte{opEnd})...)
}

// TestNaNCanonical: NaN results have the canonical bits on every engine.
// (x86 produces the negative "default NaN" 0xfff8... for 0/0; ARM the
// positive one: without canonicalisation keepers on the two would split.)
func TestNaNCanonical(t *testing.T) {
	f64 := func(v float64) []byte { return appendF64([]byte{opF64Const}, math.Float64bits(v)) }
	f32 := func(v float32) []byte { return appendF32([]byte{opF32Const}, math.Float32bits(v)) }
	cases := []struct {
		name string
		code []byte
		f32  bool
		want uint32
	}{
		{"f64 0/0", cat(f64(0), f64(0), []byte{0xa3}), false, 0x7ff80000},
		{"f64 inf-inf", cat(f64(math.Inf(1)), f64(math.Inf(1)), []byte{0xa1}), false, 0x7ff80000},
		{"f64 sqrt(-1)", cat(f64(-1), []byte{0x9f}), false, 0x7ff80000},
		{"f64 min(nan)", cat(f64(0), f64(0), []byte{0xa3}, f64(1), []byte{0xa4}), false, 0x7ff80000},
		{"f64 promote", cat(f32(0), f32(0), []byte{0x95, 0xbb}), false, 0x7ff80000},
		{"f32 0/0", cat(f32(0), f32(0), []byte{0x95}), true, 0x7fc00000},
		{"f32 sqrt(-1)", cat(f32(-1), []byte{0x91}), true, 0x7fc00000},
		{"f32 demote", cat(f64(0), f64(0), []byte{0xa3, 0xb6}), true, 0x7fc00000},
		// neg only flips the sign bit: exact, not canonicalised.
		{"f64 neg", cat(f64(0), f64(0), []byte{0xa3, 0x9a}), false, 0xfff80000},
		// A NaN constant with a payload keeps its bits through non-arithmetic ops.
		{"f64 payload", appendF64([]byte{opF64Const}, 0x7ff4000000000001), false, 0x7ff40000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustCheck(t, nanModule(c.code, c.f32), DefaultLimits())
			if !p.UsesFloat {
				t.Error("UsesFloat not set")
			}
			r := runBoth(t, p, nil, 1000, seedA)
			if r.ExitCode != c.want || r.Trap != TrapNone {
				t.Fatalf("got %v (exit %#x), want exit %#x", r, r.ExitCode, c.want)
			}
		})
	}
	// The unmetered module under wazero shows what the canonicalisation
	// fixes on this machine (informative: it depends on the CPU).
	raw := nanModule(cat(f64(0), f64(0), []byte{0xa3}), false)
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := rt.NewHostModuleBuilder(WASIModule).NewFunctionBuilder().
		WithFunc(func(ctx context.Context, code uint32) { t.Logf("raw 0/0 on this CPU: high bits %#x", code) }).
		Export("proc_exit").Instantiate(ctx); err == nil {
		_, _ = rt.Instantiate(ctx, raw)
	}
}

// TestCallDepth: recursion stops at Limits.MaxCallDepth with the
// deterministic TrapStackExhausted, identically on both engines (wazero's
// interpreter would itself overflow at 2,000 frames, its compiler much
// deeper).
func TestCallDepth(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxCallDepth = 50
	// f(n) = n == 0 ? 0 : f(n-1); _start calls f(K) and exits with 7.
	mod := func(k int32) []byte {
		return command(func(w *wMod) {
			w.wasi("proc_exit")
			self := uint32(len(w.imports) + len(w.funcs))
			w.fn(i32x1, i32x1, nil, cat([]byte{0x20, 0, 0x45, opIf, valI32}, i32c(0), []byte{0x05, 0x20, 0}, i32c(1), []byte{opI32Sub}, call(self), []byte{opEnd, opEnd})...)
		}, cat(i32c(k), call(1), []byte{0x1a}, i32c(7), call(0), []byte{opEnd})...)
	}
	// _start -> f(K) nests K+1 calls, plus the call to proc_exit later.
	if r := runBoth(t, mustCheck(t, mod(49), lim), nil, 1_000_000, seedA); r.Trap != TrapNone || r.ExitCode != 7 {
		t.Fatalf("depth 50: %v", r)
	}
	r := runBoth(t, mustCheck(t, mod(50), lim), nil, 1_000_000, seedA)
	if r.Trap != TrapStackExhausted {
		t.Fatalf("depth 51: %v", r)
	}
	// Unbounded recursion under the default limit.
	inf := command(func(w *wMod) {
		w.fn(nil, nil, nil, 0x10, 0, opEnd) // calls itself (function 0)
	}, cat(call(0), []byte{opEnd})...)
	r = runBoth(t, mustCheck(t, inf, DefaultLimits()), nil, 1_000_000, seedA)
	if r.Trap != TrapStackExhausted {
		t.Fatalf("infinite recursion: %v", r)
	}
}

// TestTraps: each deterministic trap kind, the same on both engines.
func TestTraps(t *testing.T) {
	table := func(w *wMod) {
		w.fn(nil, nil, nil, opEnd)                                // function 0: [] -> []
		w.table = []byte{1, refFunc, 0, 2}                        // one funcref table of 2
		w.elems = cat([]byte{1, 0}, i32c(0), []byte{opEnd, 1, 0}) // table[0] = function 0
		w.typeIdx(i32x1, nil)                                     // type 1: [i32] -> []
	}
	cases := []struct {
		name  string
		setup func(*wMod)
		code  []byte
		want  TrapKind
	}{
		{"unreachable", nil, []byte{0x00, opEnd}, TrapUnreachable},
		{"divide by zero", nil, cat(i32c(1), i32c(0), []byte{0x6d, 0x1a, opEnd}), TrapDivideByZero},
		{"div overflow", nil, cat(i32c(math.MinInt32), i32c(-1), []byte{0x6d, 0x1a, opEnd}), TrapIntegerOverflow},
		{"trunc nan", nil, cat(appendF64([]byte{opF64Const}, canonicalNaN64), []byte{0xaa, 0x1a, opEnd}), TrapIntegerOverflow},
		{"trunc range", nil, cat(appendF64([]byte{opF64Const}, math.Float64bits(1e20)), []byte{0xaa, 0x1a, opEnd}), TrapIntegerOverflow},
		{"memory", nil, cat(i32c(65536), []byte{0x28, 2, 0, 0x1a, opEnd}), TrapMemoryAccess},
		{"memory.fill", nil, cat(i32c(65000), i32c(0), i32c(1000), []byte{0xfc, 11, 0, opEnd}), TrapMemoryAccess},
		{"indirect null", table, cat(i32c(1), []byte{0x11, 0, 0, opEnd}), TrapIndirectCall},
		{"indirect range", table, cat(i32c(5), []byte{0x11, 0, 0, opEnd}), TrapIndirectCall},
		{"indirect type", table, cat(i32c(3), i32c(0), []byte{0x11, 1, 0, opEnd}), TrapIndirectCall},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustCheck(t, command(c.setup, c.code...), DefaultLimits())
			if r := runBoth(t, p, nil, 1000, seedA); r.Trap != c.want {
				t.Fatalf("got %v, want %v", r, c.want)
			}
		})
	}
}

// writeModule writes the n bytes at offset 100 (filled with 'x' by a data
// segment) to fd 1 with one fd_write, then exits with the errno.
func writeModule(n int32) []byte {
	return command(func(w *wMod) {
		w.wasi("fd_write")
		w.wasi("proc_exit")
		w.datas = cat([]byte{1, 0}, i32c(100), []byte{opEnd}, appendU32(nil, 200), bytes.Repeat([]byte{'x'}, 200))
	}, cat(i32c(0), i32c(100), []byte{0x36, 2, 0}, i32c(4), i32c(n), []byte{0x36, 2, 0}, // iovec {100, n} at 0
		i32c(1), i32c(0), i32c(1), i32c(8), call(0), call(1), []byte{opEnd})...)
}

// TestOutput: stdout is the output; past Limits.MaxOutputBytes the run ends
// with TrapOutputLimit and exactly the first MaxOutputBytes bytes; big
// writes cost fuel.
func TestOutput(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxOutputBytes = 150
	r := runBoth(t, mustCheck(t, writeModule(128), lim), nil, 1000, seedA)
	if r.Trap != TrapNone || r.ExitCode != 0 || string(r.Output) != strings.Repeat("x", 128) {
		t.Fatalf("write 128: %v", r)
	}
	small := runBoth(t, mustCheck(t, writeModule(64), lim), nil, 1000, seedA)
	if r.FuelUsed != small.FuelUsed+1 { // 128>>6 = 2 vs 64>>6 = 1
		t.Errorf("fuel for 128 bytes %d, for 64 bytes %d: want a difference of 1", r.FuelUsed, small.FuelUsed)
	}
	r = runBoth(t, mustCheck(t, writeModule(200), lim), nil, 1000, seedA)
	if r.Trap != TrapOutputLimit || string(r.Output) != strings.Repeat("x", 150) {
		t.Fatalf("write 200 with cap 150: %v", r)
	}
}

// clockModule writes random_get(0, 40); clock_time_get(MONOTONIC, 0, 40);
// clock_time_get(REALTIME, 0, 48) to stdout: 56 bytes.
func clockModule() []byte {
	return command(func(w *wMod) {
		w.wasi("random_get")
		w.wasi("clock_time_get")
		w.wasi("fd_write")
	}, cat(i32c(0), i32c(40), call(0), []byte{0x1a},
		i32c(1), i64c(0), i32c(40), call(1), []byte{0x1a},
		i32c(0), i64c(0), i32c(48), call(1), []byte{0x1a},
		i32c(100), i32c(0), []byte{0x36, 2, 0}, i32c(104), i32c(56), []byte{0x36, 2, 0},
		i32c(1), i32c(100), i32c(1), i32c(200), call(2), []byte{0x1a, opEnd})...)
}

// TestClockAndRandom pins the host ABI: clock_time_get reads the fuel
// clock, random_get the SHA-256 stream of the seed.
func TestClockAndRandom(t *testing.T) {
	// random_get(0, 40); clock_time_get(MONOTONIC, 0, 40); clock_time_get(REALTIME, 0, 48);
	// fd_write the 56 bytes.
	mod := clockModule()
	p := mustCheck(t, mod, DefaultLimits())
	r := runBoth(t, p, nil, 10_000, seedA)
	if len(r.Output) != 56 {
		t.Fatalf("output %x", r.Output)
	}
	blk0 := sha256.Sum256(cat([]byte(randomDomain), seedA[:], make([]byte, 8)))
	blk1 := sha256.Sum256(cat([]byte(randomDomain), seedA[:], []byte{0, 0, 0, 0, 0, 0, 0, 1}))
	if want := cat(blk0[:], blk1[:8]); !bytes.Equal(r.Output[:40], want) {
		t.Errorf("random %x, want %x", r.Output[:40], want)
	}
	mono := binary.LittleEndian.Uint64(r.Output[40:])
	real := binary.LittleEndian.Uint64(r.Output[48:])
	// The clocks read the fuel used at the call: the first segment (whole
	// _start up to its end, one segment) has been paid in full.
	if mono != MonotonicBase+r.FuelUsed || real != RealtimeEpoch+r.FuelUsed {
		t.Errorf("monotonic %d realtime %d, fuel used %d", mono, real, r.FuelUsed)
	}
}

// TestPollSleep: a sleep advances the clocks by exactly the time asked.
func TestPollSleep(t *testing.T) {
	// subscription at 0: userdata 0, tag clock (0), id MONOTONIC, timeout 5e9 relative;
	// poll_oneoff(0, 100, 1, 200); clock_time_get(1, 0, 300); write 8 bytes at 300.
	sub := make([]byte, 48)
	binary.LittleEndian.PutUint32(sub[16:], 1)
	binary.LittleEndian.PutUint64(sub[24:], 5_000_000_000)
	mod := command(func(w *wMod) {
		w.wasi("poll_oneoff")
		w.wasi("clock_time_get")
		w.wasi("fd_write")
		w.datas = cat([]byte{1, 0}, i32c(0), []byte{opEnd}, appendU32(nil, 48), sub)
	}, cat(i32c(0), i32c(100), i32c(1), i32c(200), call(0), []byte{0x1a},
		i32c(1), i64c(0), i32c(300), call(1), []byte{0x1a},
		i32c(400), i32c(300), []byte{0x36, 2, 0}, i32c(404), i32c(8), []byte{0x36, 2, 0},
		i32c(1), i32c(400), i32c(1), i32c(500), call(2), []byte{0x1a, opEnd})...)
	r := runBoth(t, mustCheck(t, mod, DefaultLimits()), nil, 10_000, seedA)
	if got, want := binary.LittleEndian.Uint64(r.Output), MonotonicBase+5_000_000_000+r.FuelUsed; got != want {
		t.Fatalf("clock after sleep %d, want %d", got, want)
	}
}

// TestAbstain: local limits are errors wrapping ErrAbstain, never results.
func TestAbstain(t *testing.T) {
	ctx := context.Background()
	spin := mustCheck(t, command(nil, 0x03, blockEmpty, 0x0c, 0, opEnd, opEnd), DefaultLimits())
	for k, e := range testEngines(t) {
		start := time.Now()
		_, err := e.Run(ctx, spin, nil, DefaultLimits().MaxFuel, seedA, Options{Timeout: 200 * time.Millisecond})
		if !errors.Is(err, ErrAbstain) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v: timeout gave %v", k, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%v: timeout took %v", k, d)
		}
		_, err = e.Run(ctx, spin, nil, 10, seedA, Options{MaxMemoryPages: 16})
		if !errors.Is(err, ErrAbstain) {
			t.Fatalf("%v: local memory limit gave %v", k, err)
		}
		_, err = e.Run(ctx, spin, nil, DefaultLimits().MaxFuel+1, seedA, Options{})
		if !errors.Is(err, ErrAbstain) || !errors.Is(err, ErrBadRequest) {
			t.Fatalf("%v: fuel over the limit gave %v", k, err)
		}
		if _, err = e.Run(ctx, nil, nil, 1, seedA, Options{}); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("%v: nil program gave %v", k, err)
		}
	}
}

// TestCompilationCache: one compiled module per program, reused; a program
// re-checked under other limits replaces its entry; eviction keeps the
// cache bounded.
func TestCompilationCache(t *testing.T) {
	ctx := context.Background()
	e, err := NewEngine(ctx, EngineConfig{Kind: EngineInterpreter, CacheSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	progs := []*Program{}
	for i := 0; i < 3; i++ {
		progs = append(progs, mustCheck(t, command(nil, cat(i32c(int32(i)), []byte{0x1a, opEnd})...), DefaultLimits()))
	}
	if _, err := e.Run(ctx, progs[0], nil, 100, seedA, Options{}); err != nil {
		t.Fatal(err)
	}
	cm := e.cache[progs[0].ID].cm
	if _, err := e.Run(ctx, progs[0], nil, 100, seedA, Options{}); err != nil {
		t.Fatal(err)
	}
	if e.cache[progs[0].ID].cm != cm {
		t.Fatal("program compiled twice")
	}
	lim := DefaultLimits()
	lim.MaxMemoryPages = 100
	other := mustCheck(t, command(nil, cat(i32c(0), []byte{0x1a, opEnd})...), lim)
	if other.ID != progs[0].ID || other.MeteredHash == progs[0].MeteredHash {
		t.Fatal("limits should change the metered module, not the id")
	}
	if _, err := e.Run(ctx, other, nil, 100, seedA, Options{}); err != nil {
		t.Fatal(err)
	}
	if e.cache[progs[0].ID].metered != other.MeteredHash {
		t.Fatal("entry not replaced")
	}
	for _, p := range progs[1:] {
		if _, err := e.Run(ctx, p, nil, 100, seedA, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.cache) != 2 {
		t.Fatalf("cache holds %d programs, limit 2", len(e.cache))
	}
}

// TestRunOneShot: Run without an engine starts (and closes) one.
func TestRunOneShot(t *testing.T) {
	p := mustCheck(t, command(nil, 0x01, opEnd), DefaultLimits())
	r, err := Run(context.Background(), p, nil, 10, seedA, Options{Kind: EngineInterpreter})
	if err != nil || r.FuelUsed != 2 {
		t.Fatalf("%v %v", r, err)
	}
}

// TestResultHashVector pins the documented encoding.
func TestResultHashVector(t *testing.T) {
	r := Result{Output: []byte("hello\n"), ExitCode: 3, FuelUsed: 1234, Trap: TrapNone}
	oh := sha256.Sum256(r.Output)
	enc := cat([]byte("lightkeeper/compute/result/v1\x00"), []byte{0}, []byte{0, 0, 0, 3}, []byte{0, 0, 0, 0, 0, 0, 4, 0xd2}, oh[:])
	if got, want := ResultHash(r), sha256.Sum256(enc); got != want {
		t.Fatalf("ResultHash %x, want %x", got, want)
	}
	// The same vector is in docs/compute.md.
	if got := ResultHash(r); hex.EncodeToString(got[:]) != "497279bb70d7780ccebcde0834199eccc02755d36247876d0f3804ec3dce5964" {
		t.Fatalf("ResultHash vector changed: %x", got)
	}
	r2 := r
	r2.Trap = TrapOutOfFuel
	if ResultHash(r2) == ResultHash(r) {
		t.Fatal("trap not hashed")
	}
	if protocol.ComputeResultHash(uint32(r.Trap), r.ExitCode, r.FuelUsed, oh) != ResultHash(r) {
		t.Fatal("protocol.ComputeResultHash differs")
	}
}

// TestConcurrentRuns: runs on one engine share only compiled code: the
// same job gives the same result from many goroutines, and jobs with other
// inputs and seeds do not leak into each other.
func TestConcurrentRuns(t *testing.T) {
	ctx := context.Background()
	e, err := NewEngine(ctx, EngineConfig{Kind: EngineInterpreter})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	mod := command(func(w *wMod) {
		w.wasi("fd_read")
		w.wasi("random_get")
		w.wasi("fd_write")
	}, cat(i32c(0), i32c(100), []byte{0x36, 2, 0}, i32c(4), i32c(8), []byte{0x36, 2, 0}, // iovec {100, 8}
		i32c(0), i32c(0), i32c(1), i32c(200), call(0), []byte{0x1a}, // read 8 input bytes to 100
		i32c(108), i32c(8), call(1), []byte{0x1a}, // 8 random bytes to 108
		i32c(4), i32c(16), []byte{0x36, 2, 0},
		i32c(1), i32c(0), i32c(1), i32c(200), call(2), []byte{0x1a, opEnd})...)
	p := mustCheck(t, mod, DefaultLimits())
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		go func() {
			in := []byte(fmt.Sprintf("input-%02d", g%4))
			seed := [32]byte{byte(g % 4)}
			want, err := e.Run(ctx, p, in, 10_000, seed, Options{})
			for i := 0; i < 20 && err == nil; i++ {
				var r Result
				if r, err = e.Run(ctx, p, in, 10_000, seed, Options{}); err == nil && ResultHash(r) != ResultHash(want) {
					err = fmt.Errorf("goroutine %d run %d: %v vs %v", g, i, r, want)
				}
			}
			if err == nil && !bytes.HasPrefix(want.Output, in) {
				err = fmt.Errorf("output %q lacks input %q", want.Output, in)
			}
			errs <- err
		}()
	}
	for g := 0; g < 16; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
