//go:build js && wasm

package compute

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"syscall/js"
	"testing"
	"time"
)

// These tests run the platform engine in the JavaScript host that runs the
// test binary (Node's V8 through go_js_wasm_exec):
//
//	GOOS=js GOARCH=wasm go test -exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" -run Platform ./verifier/compute/
//
// Every job runs on wazero's interpreter and on the platform engine, and
// the results must be identical byte for byte. tests/crosshost_*_test.go
// does the same with the example programs in Chromium and workerd.

var platformOnce struct {
	e   *PlatformEngine
	err error
	ok  bool
}

func platformEngine(t testing.TB) *PlatformEngine {
	t.Helper()
	if !platformOnce.ok {
		platformOnce.e, platformOnce.err = NewPlatformEngine(64)
		platformOnce.ok = true
	}
	if platformOnce.err != nil {
		t.Fatal(platformOnce.err)
	}
	return platformOnce.e
}

// runPlatform runs the job on the interpreter and the platform engine and
// fails unless they agree byte for byte.
func runPlatform(t testing.TB, p *Program, input []byte, fuel uint64, seed [32]byte) Result {
	t.Helper()
	want, err := testEngines(t)[EngineInterpreter].Run(context.Background(), p, input, fuel, seed, Options{})
	if err != nil {
		t.Fatalf("interpreter: %v", err)
	}
	got, err := platformEngine(t).Run(context.Background(), p, input, fuel, seed, Options{})
	if err != nil {
		t.Fatalf("platform: %v", err)
	}
	if ResultHash(got) != ResultHash(want) || !bytes.Equal(got.Output, want.Output) {
		t.Fatalf("engines disagree:\ninterpreter: %v\nplatform:    %v", want, got)
	}
	return got
}

// TestPlatformTrampoline: the wrappers split i64 arguments into halves
// without losing a bit, pass i32s through, return the callback's errno,
// and trap on the sentinel.
func TestPlatformTrampoline(t *testing.T) {
	e := platformEngine(t)
	var got []int
	var answer int
	goNS := js.Global().Get("Object").New()
	var funcs []js.Func
	defer func() {
		for _, f := range funcs {
			f.Release()
		}
	}()
	for _, name := range WASIFunctions() {
		fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
			got = got[:0]
			for _, a := range args {
				got = append(got, a.Int())
			}
			return answer
		})
		funcs = append(funcs, fn)
		goNS.Set(name, fn)
	}
	imports := js.Global().Get("Object").New()
	imports.Set("go", goNS)
	inst := e.wasm.Get("Instance").New(e.trampoline, imports)
	exports := inst.Get("exports")
	bigint := func(v int64) js.Value { return js.Global().Get("BigInt").Invoke(strconv.FormatInt(v, 10)) }

	// fd_seek(fd i32, offset i64, whence i32, newoffset i32) -> errno
	answer = 70
	r := exports.Call("fd_seek", -5, bigint(-2), 1, 77)
	if r.Int() != 70 {
		t.Fatalf("fd_seek returned %v", r)
	}
	if want := []int{-5, -2, -1, 1, 77}; !equalInts(got, want) {
		t.Fatalf("fd_seek arguments %v, want %v", got, want)
	}
	exports.Call("fd_seek", 0, bigint(0x123456789abcdef0), 0, 0)
	lo, hi := uint32(got[1]), uint32(got[2])
	if uint64(hi)<<32|uint64(lo) != 0x123456789abcdef0 {
		t.Fatalf("i64 halves %#x %#x", hi, lo)
	}
	exports.Call("fd_seek", 0, bigint(math.MinInt64), 0, 0)
	if uint32(got[1]) != 0 || uint32(got[2]) != 0x80000000 {
		t.Fatalf("MinInt64 halves %#x %#x", uint32(got[2]), uint32(got[1]))
	}
	// path_open has two i64s among nine arguments.
	exports.Call("path_open", 1, 2, 3, 4, 5, bigint(-1), bigint(1<<40), 8, 9)
	if want := []int{1, 2, 3, 4, 5, -1, -1, 0, 256, 8, 9}; !equalInts(got, want) {
		t.Fatalf("path_open arguments %v, want %v", got, want)
	}
	// The sentinel makes the wrapper execute unreachable.
	answer = stopSentinel
	_, err := jsCall(func() js.Value { return exports.Call("sched_yield") })
	var je *jsException
	if !errors.As(err, &je) || !je.v.InstanceOf(e.wasm.Get("RuntimeError")) || je.message != "unreachable" {
		t.Fatalf("sentinel gave %v", err)
	}
	_, err = jsCall(func() js.Value { return exports.Call("proc_exit", 3) })
	if !errors.As(err, &je) || je.message != "unreachable" {
		t.Fatalf("proc_exit's sentinel gave %v", err)
	}
}

// withDataCount inserts the data count section memory.init needs (before
// the code section) when the module has a data section.
func withDataCount(m []byte) []byte {
	r := &reader{b: m, off: 8}
	var codeAt, datas = -1, -1
	for !r.done() {
		at := r.off
		id, _ := r.byte()
		size, _ := r.u32()
		body, _ := r.bytes(size)
		switch id {
		case secCode:
			codeAt = at
		case secData:
			n, _ := (&reader{b: body}).u32()
			datas = int(n)
		}
	}
	if datas < 0 {
		return m
	}
	out := append([]byte(nil), m[:codeAt]...)
	out = sect(out, secDataCount, appendU32(nil, uint32(datas)))
	return append(out, m[codeAt:]...)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPlatformFuel: the documented costs, out of fuel in code and in the
// host, and an infinite loop.
func TestPlatformFuel(t *testing.T) {
	lim := DefaultLimits()
	p := mustCheck(t, command(nil, 0x01, 0x01, opEnd), lim)
	if r := runPlatform(t, p, nil, 100, seedA); r.FuelUsed != 3 || r.Trap != TrapNone {
		t.Fatalf("nop nop end: %v", r)
	}
	code := cat(i32c(10), []byte{0x21, 0, 0x03, blockEmpty, 0x20, 0}, i32c(1), []byte{opI32Sub, 0x22, 0, 0x0d, 0, opEnd, opEnd})
	w := &wMod{}
	f := w.fn(nil, nil, []localDecl{{1, valI32}}, code...)
	w.exports = []exportEntry{{"memory", externMemory, 0}, {"_start", externFunc, f}}
	p = mustCheck(t, w.bytes(), lim)
	for _, c := range []struct {
		fuel, used uint64
		trap       TrapKind
	}{{1000, 64, TrapNone}, {64, 64, TrapNone}, {63, 63, TrapOutOfFuel}, {0, 0, TrapOutOfFuel}} {
		if r := runPlatform(t, p, nil, c.fuel, seedA); r.FuelUsed != c.used || r.Trap != c.trap {
			t.Fatalf("loop with fuel %d: %v", c.fuel, r)
		}
	}
	spin := mustCheck(t, command(nil, 0x03, blockEmpty, 0x0c, 0, opEnd, opEnd), lim)
	if r := runPlatform(t, spin, nil, 1_000_001, seedA); r.Trap != TrapOutOfFuel || r.FuelUsed != 1_000_001 {
		t.Fatalf("infinite loop: %v", r)
	}
	// random_get of 64 KiB costs 1024 in the host: with less fuel left the
	// host itself runs out.
	rnd := command(func(w *wMod) { w.wasi("random_get") }, cat(i32c(0), i32c(65536), call(0), []byte{0x1a, opEnd})...)
	pr := mustCheck(t, rnd, lim)
	if r := runPlatform(t, pr, nil, 500, seedA); r.Trap != TrapOutOfFuel || r.FuelUsed != 500 {
		t.Fatalf("out of fuel in the host: %v", r)
	}
	if r := runPlatform(t, pr, nil, 5000, seedA); r.Trap != TrapNone {
		t.Fatalf("random_get with enough fuel: %v", r)
	}
	// Fuel near the ceiling survives the BigInt round trip.
	big := DefaultLimits()
	big.MaxFuel = 1 << 62
	pb := mustCheck(t, command(nil, 0x01, opEnd), big)
	if r := runPlatform(t, pb, nil, 1<<62, seedA); r.FuelUsed != 2 {
		t.Fatalf("fuel 2^62: %v", r)
	}
}

// TestPlatformTraps: every trap kind maps to the same kind as wazero's.
func TestPlatformTraps(t *testing.T) {
	table := func(w *wMod) {
		w.fn(nil, nil, nil, opEnd)
		w.table = []byte{1, refFunc, 0, 2}
		w.elems = cat([]byte{1, 0}, i32c(0), []byte{opEnd, 1, 0})
		w.typeIdx(i32x1, nil)
	}
	passive := func(w *wMod) {
		w.datas = cat([]byte{1, 1}, appendU32(nil, 4), []byte("abcd"))
	}
	cases := []struct {
		name  string
		setup func(*wMod)
		code  []byte
		want  TrapKind
	}{
		{"unreachable", nil, []byte{0x00, opEnd}, TrapUnreachable},
		{"divide by zero", nil, cat(i32c(1), i32c(0), []byte{0x6d, 0x1a, opEnd}), TrapDivideByZero},
		{"remainder by zero", nil, cat(i64c(1), i64c(0), []byte{0x82, 0x1a, opEnd}), TrapDivideByZero},
		{"div overflow", nil, cat(i32c(math.MinInt32), i32c(-1), []byte{0x6d, 0x1a, opEnd}), TrapIntegerOverflow},
		{"trunc nan", nil, cat(appendF64([]byte{opF64Const}, canonicalNaN64), []byte{0xaa, 0x1a, opEnd}), TrapIntegerOverflow},
		{"trunc range", nil, cat(appendF64([]byte{opF64Const}, math.Float64bits(1e20)), []byte{0xaa, 0x1a, opEnd}), TrapIntegerOverflow},
		{"memory", nil, cat(i32c(65536), []byte{0x28, 2, 0, 0x1a, opEnd}), TrapMemoryAccess},
		{"memory.fill", nil, cat(i32c(65000), i32c(0), i32c(1000), []byte{0xfc, 11, 0, opEnd}), TrapMemoryAccess},
		{"memory.copy", nil, cat(i32c(0), i32c(65000), i32c(1000), []byte{0xfc, 10, 0, 0, opEnd}), TrapMemoryAccess},
		{"memory.init", passive, cat(i32c(0), i32c(2), i32c(4), []byte{0xfc, 8, 0, 0, opEnd}), TrapMemoryAccess},
		{"indirect null", table, cat(i32c(1), []byte{0x11, 0, 0, opEnd}), TrapIndirectCall},
		{"indirect range", table, cat(i32c(5), []byte{0x11, 0, 0, opEnd}), TrapIndirectCall},
		{"indirect type", table, cat(i32c(3), i32c(0), []byte{0x11, 1, 0, opEnd}), TrapIndirectCall},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := withDataCount(command(c.setup, c.code...))
			p := mustCheck(t, m, DefaultLimits())
			if r := runPlatform(t, p, nil, 1000, seedA); r.Trap != c.want {
				t.Fatalf("got %v, want %v", r, c.want)
			}
		})
	}
	// Recursion: the metered depth limit, well below V8's own stack limit.
	lim := DefaultLimits()
	lim.MaxCallDepth = EngineCallDepthCeiling
	inf := command(func(w *wMod) { w.fn(nil, nil, nil, 0x10, 0, opEnd) }, cat(call(0), []byte{opEnd})...)
	for _, l := range []Limits{DefaultLimits(), lim} {
		if r := runPlatform(t, mustCheck(t, inf, l), nil, 1_000_000, seedA); r.Trap != TrapStackExhausted {
			t.Fatalf("infinite recursion at depth %d: %v", l.MaxCallDepth, r)
		}
	}
}

// TestPlatformHost: output, the output cap, exit codes, clocks, sleeps,
// randomness, input and memory growth through the JavaScript memory.
func TestPlatformHost(t *testing.T) {
	lim := DefaultLimits()
	lim.MaxOutputBytes = 150
	if r := runPlatform(t, mustCheck(t, writeModule(128), lim), nil, 1000, seedA); string(r.Output) != strings.Repeat("x", 128) {
		t.Fatalf("write 128: %v", r)
	}
	if r := runPlatform(t, mustCheck(t, writeModule(200), lim), nil, 1000, seedA); r.Trap != TrapOutputLimit || len(r.Output) != 150 {
		t.Fatalf("write 200 with cap 150: %v", r)
	}
	// proc_exit(42) after a write.
	exit := command(func(w *wMod) { w.wasi("proc_exit") }, cat(i32c(42), call(0), []byte{opEnd})...)
	if r := runPlatform(t, mustCheck(t, exit, DefaultLimits()), nil, 100, seedA); r.ExitCode != 42 || r.Trap != TrapNone {
		t.Fatalf("proc_exit(42): %v", r)
	}
	// Clocks and randomness (as TestClockAndRandom).
	mod := command(func(w *wMod) {
		w.wasi("random_get")
		w.wasi("clock_time_get")
		w.wasi("fd_write")
	}, cat(i32c(0), i32c(40), call(0), []byte{0x1a},
		i32c(1), i64c(-1), i32c(40), call(1), []byte{0x1a},
		i32c(0), i64c(0), i32c(48), call(1), []byte{0x1a},
		i32c(100), i32c(0), []byte{0x36, 2, 0}, i32c(104), i32c(56), []byte{0x36, 2, 0},
		i32c(1), i32c(100), i32c(1), i32c(200), call(2), []byte{0x1a, opEnd})...)
	for _, seed := range [][32]byte{seedA, {'b'}} {
		runPlatform(t, mustCheck(t, mod, DefaultLimits()), nil, 10_000, seed)
	}
	// Sleep (as TestPollSleep).
	sub := make([]byte, 48)
	binary.LittleEndian.PutUint32(sub[16:], 1)
	binary.LittleEndian.PutUint64(sub[24:], 5_000_000_000)
	sleep := command(func(w *wMod) {
		w.wasi("poll_oneoff")
		w.wasi("clock_time_get")
		w.wasi("fd_write")
		w.datas = cat([]byte{1, 0}, i32c(0), []byte{opEnd}, appendU32(nil, 48), sub)
	}, cat(i32c(0), i32c(100), i32c(1), i32c(200), call(0), []byte{0x1a},
		i32c(1), i64c(0), i32c(300), call(1), []byte{0x1a},
		i32c(400), i32c(300), []byte{0x36, 2, 0}, i32c(404), i32c(8), []byte{0x36, 2, 0},
		i32c(1), i32c(400), i32c(1), i32c(500), call(2), []byte{0x1a, opEnd})...)
	runPlatform(t, mustCheck(t, sleep, DefaultLimits()), nil, 10_000, seedA)
	// Echo the input after growing the memory by a page: the host must see
	// the new buffer. fd_read 8 bytes to 70000 (in the second page).
	echo := command(func(w *wMod) {
		w.wasi("fd_read")
		w.wasi("fd_write")
		w.wasi("proc_exit")
	}, cat(i32c(1), []byte{0x40, 0, 0x1a}, // memory.grow 1
		i32c(0), i32c(70000), []byte{0x36, 2, 0}, i32c(4), i32c(8), []byte{0x36, 2, 0},
		i32c(0), i32c(0), i32c(1), i32c(16), call(0), []byte{0x1a},
		i32c(1), i32c(0), i32c(1), i32c(16), call(1), []byte{0x1a},
		i32c(1), []byte{0x40, 0}, call(2), []byte{opEnd})...) // exit with memory.grow(1)'s answer
	r := runPlatform(t, mustCheck(t, echo, DefaultLimits()), []byte("12345678tail"), 10_000, seedA)
	if string(r.Output) != "12345678" || r.ExitCode != 2 {
		t.Fatalf("echo after grow: %v %q", r, r.Output)
	}
	// memory.grow past the metered maximum fails the same way everywhere.
	lim2 := DefaultLimits()
	lim2.MaxMemoryPages = 3
	grow := command(func(w *wMod) { w.wasi("proc_exit") }, cat(i32c(5), []byte{0x40, 0}, call(0), []byte{opEnd})...)
	if r := runPlatform(t, mustCheck(t, grow, lim2), nil, 100, seedA); r.ExitCode != math.MaxUint32 {
		t.Fatalf("grow past the maximum: %v", r)
	}
}

// TestPlatformAbstain: local limits, a host that cannot read the metering
// globals, and a deadline already passed.
func TestPlatformAbstain(t *testing.T) {
	e := platformEngine(t)
	ctx := context.Background()
	spin := mustCheck(t, command(nil, 0x03, blockEmpty, 0x0c, 0, opEnd, opEnd), DefaultLimits())
	if _, err := e.Run(ctx, spin, nil, 10, seedA, Options{MaxMemoryPages: 16}); !errors.Is(err, ErrAbstain) {
		t.Fatalf("local memory limit gave %v", err)
	}
	if _, err := e.Run(ctx, spin, nil, DefaultLimits().MaxFuel+1, seedA, Options{}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("fuel over the limit gave %v", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Run(done, spin, nil, 10, seedA, Options{}); !errors.Is(err, ErrAbstain) {
		t.Fatalf("cancelled context gave %v", err)
	}
	// A program that keeps calling the host stops at the deadline.
	loop := mustCheck(t, command(func(w *wMod) { w.wasi("sched_yield") }, 0x03, blockEmpty, 0x10, 0, 0x1a, 0x0c, 0, opEnd, opEnd), DefaultLimits())
	start := time.Now()
	_, err := e.Run(ctx, loop, nil, DefaultLimits().MaxFuel, seedA, Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrAbstain) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout gave %v", err)
	}
	t.Logf("a host-calling loop stopped %v after a 200 ms limit", time.Since(start).Round(time.Millisecond))
}

// TestPlatformUnmetered: the raw module under the same host.
func TestPlatformUnmetered(t *testing.T) {
	m := writeModule(100)
	r, err := platformEngine(t).RunUnmetered(context.Background(), mustCheck(t, m, DefaultLimits()), m, nil, seedA)
	if err != nil || string(r.Output) != strings.Repeat("x", 100) || r.FuelUsed != 0 {
		t.Fatalf("%v %v", r, err)
	}
}

// TestPlatformCache: a program compiles once; other limits replace it.
func TestPlatformCache(t *testing.T) {
	e, err := NewPlatformEngine(2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var progs []*Program
	for i := range 3 {
		progs = append(progs, mustCheck(t, command(nil, cat(i32c(int32(i)), []byte{0x1a, opEnd})...), DefaultLimits()))
	}
	if _, err := e.Run(ctx, progs[0], nil, 100, seedA, Options{}); err != nil {
		t.Fatal(err)
	}
	first := e.cache[jsCacheKey{id: progs[0].ID}].mod
	if _, err := e.Run(ctx, progs[0], nil, 100, seedA, Options{}); err != nil {
		t.Fatal(err)
	}
	if !e.cache[jsCacheKey{id: progs[0].ID}].mod.Equal(first) {
		t.Fatal("compiled twice")
	}
	lim := DefaultLimits()
	lim.MaxMemoryPages = 100
	other := mustCheck(t, command(nil, cat(i32c(0), []byte{0x1a, opEnd})...), lim)
	if _, err := e.Run(ctx, other, nil, 100, seedA, Options{}); err != nil {
		t.Fatal(err)
	}
	if e.cache[jsCacheKey{id: other.ID}].metered != other.MeteredHash {
		t.Fatal("entry not replaced")
	}
	for _, p := range progs[1:] {
		if _, err := e.Run(ctx, p, nil, 100, seedA, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.cache) != 2 {
		t.Fatalf("cache holds %d, limit 2", len(e.cache))
	}
}
