package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// These tests run lk_compute's logic natively, on wazero's interpreter as
// the module does; ../host's tests run it built for wasip1 under wazero,
// on the example Go programs.

// tinyProgram assembles a wasip1 command that writes text to stdout and
// then runs tail, a few instructions of its _start:
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

// Tails for tinyProgram.
var (
	tailNone        []byte
	tailUnreachable = []byte{0x00}
	tailSpin        = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop br 0 end
	tailDivZero     = []byte{0x41, 1, 0x41, 0, 0x6d, 0x1a} // i32.div_s(1, 0)
	tinyLimits      = compute.Limits{MaxModuleBytes: 1 << 20, MaxMemoryPages: 16, MaxTableElements: 16, MaxCallDepth: 64, MaxOutputBytes: 1 << 10, MaxFuel: 1 << 30}
)

// job is one lk_compute input; encode lays it out as ABI.md says (the
// host's encoder, written again from the specification).
type job struct {
	id          compute.ProgramID
	seed        [32]byte
	fuel        uint64
	budget      uint64 // nanoseconds
	limits      compute.Limits
	memoryPages uint32
	module      []byte
	input       []byte
}

func newJob(module []byte, limits compute.Limits, input []byte, fuel uint64) job {
	return job{id: compute.ProgramIDOf(module), seed: [32]byte{7, 7}, fuel: fuel, limits: limits, module: module, input: input}
}

func (j job) encode() []byte {
	le := binary.LittleEndian
	b := append(j.id[:], j.seed[:]...)
	b = le.AppendUint64(b, j.fuel)
	b = le.AppendUint64(b, j.budget)
	b = le.AppendUint64(b, uint64(int64(j.limits.MaxModuleBytes)))
	b = le.AppendUint64(b, uint64(int64(j.limits.MaxOutputBytes)))
	b = le.AppendUint64(b, j.limits.MaxFuel)
	b = le.AppendUint32(b, j.limits.MaxMemoryPages)
	b = le.AppendUint32(b, j.limits.MaxTableElements)
	b = le.AppendUint32(b, j.limits.MaxCallDepth)
	b = le.AppendUint32(b, j.memoryPages)
	b = le.AppendUint32(b, uint32(len(j.module)))
	b = le.AppendUint32(b, uint32(len(j.input)))
	b = append(b, j.module...)
	return append(b, j.input...)
}

// runJob calls lk_compute's logic on j and returns the status and output.
func runJob(t testing.TB, m *module, j job) (int32, []byte) {
	t.Helper()
	in := j.encode()
	b := m.input(uint32(len(in)))
	if b == nil {
		t.Fatalf("input(%d) refused", len(in))
	}
	copy(b, in)
	st := m.compute(uint32(len(in)))
	return st, bytes.Clone(m.out)
}

// okRun runs j and decodes the result, which must be statusOK.
func okRun(t testing.TB, m *module, j job) compute.Result {
	t.Helper()
	st, out := runJob(t, m, j)
	if st != statusOK {
		t.Fatalf("status %d: %s", st, out)
	}
	if len(out) < 16 {
		t.Fatalf("output of %d bytes", len(out))
	}
	le := binary.LittleEndian
	r := compute.Result{Trap: compute.TrapKind(le.Uint32(out)), ExitCode: le.Uint32(out[4:]), FuelUsed: le.Uint64(out[8:])}
	if len(out) > 16 {
		r.Output = out[16:]
	}
	return r
}

// native runs j as a native keeper does, on the interpreter.
func native(t testing.TB, j job, opts compute.Options) (compute.Result, error) {
	t.Helper()
	p, err := compute.Check(j.module, j.limits)
	if err != nil {
		t.Fatal(err)
	}
	opts.Kind = compute.EngineInterpreter
	return compute.Run(context.Background(), p, j.input, j.fuel, j.seed, opts)
}

func sameResult(t testing.TB, name string, got, want compute.Result) {
	t.Helper()
	if compute.ResultHash(got) != compute.ResultHash(want) || got.FuelUsed != want.FuelUsed || !bytes.Equal(got.Output, want.Output) {
		t.Errorf("%s: module %v (output %q), native %v (output %q)", name, got, got.Output, want, want.Output)
	}
}

func TestComputeMatchesNative(t *testing.T) {
	small := tinyLimits
	small.MaxOutputBytes = 3
	cases := []struct {
		name string
		job  job
		trap compute.TrapKind
	}{
		{"clean exit", newJob(tinyProgram("hello\n", tailNone...), tinyLimits, nil, 1000), compute.TrapNone},
		{"unreachable", newJob(tinyProgram("a", tailUnreachable...), tinyLimits, []byte("in"), 1000), compute.TrapUnreachable},
		{"divide by zero", newJob(tinyProgram("b", tailDivZero...), tinyLimits, nil, 1000), compute.TrapDivideByZero},
		{"out of fuel", newJob(tinyProgram("spinning\n", tailSpin...), tinyLimits, nil, 50_000), compute.TrapOutOfFuel},
		{"output limit", newJob(tinyProgram("hello\n", tailNone...), small, nil, 1000), compute.TrapOutputLimit},
		{"no fuel", newJob(tinyProgram("x", tailNone...), tinyLimits, nil, 0), compute.TrapOutOfFuel},
	}
	m := newModule()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := native(t, c.job, compute.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if want.Trap != c.trap {
				t.Fatalf("native run: %v, want trap %v", want, c.trap)
			}
			// Twice: checked and compiled, then from the cache; and once
			// more with a time budget, which changes nothing when there is
			// time enough.
			for _, budget := range []uint64{0, 0, uint64(time.Hour)} {
				j := c.job
				j.budget = budget
				sameResult(t, c.name, okRun(t, m, j), want)
			}
		})
	}
}

func TestComputeStatuses(t *testing.T) {
	hello := tinyProgram("hello\n", tailNone...)
	good := newJob(hello, tinyLimits, nil, 1000).encode()
	garbage := []byte("not a wasm module")
	badLimits := tinyLimits
	badLimits.MaxCallDepth = 0
	cases := []struct {
		name    string
		in      []byte
		status  int32
		message string
	}{
		{"empty", nil, statusBadInput, "compute: input of 0 bytes"},
		{"short header", good[:computeHeader-1], statusBadInput, "compute: input of"},
		{"payload short", good[:len(good)-1], statusBadInput, "compute: header says"},
		{"payload long", append(bytes.Clone(good), 0), statusBadInput, "compute: header says"},
		{"lengths overflow", func() []byte {
			b := bytes.Clone(good)
			binary.LittleEndian.PutUint32(b[120:], 0xFFFFFFFF)
			binary.LittleEndian.PutUint32(b[124:], 0xFFFFFFFF)
			return b
		}(), statusBadInput, "compute: header says"},
		{"wrong program id", func() []byte {
			b := bytes.Clone(good)
			b[0] ^= 1
			return b
		}(), statusBadInput, "compute: module bytes do not hash"},
		{"invalid module", newJob(garbage, tinyLimits, nil, 1).encode(), statusProgramRefused, "compute: invalid module"},
		{"unusable limits", newJob(hello, badLimits, nil, 1).encode(), statusProgramRefused, "MaxCallDepth 0"},
		{"fuel over the limit", newJob(hello, tinyLimits, nil, tinyLimits.MaxFuel+1).encode(), statusAbstain, "compute: abstain: fuel"},
	}
	m := newModule()
	for _, c := range cases {
		b := m.input(uint32(len(c.in)))
		copy(b, c.in)
		st := m.compute(uint32(len(c.in)))
		if st != c.status || !strings.Contains(string(m.out), c.message) {
			t.Errorf("%s: status %d, %q; want %d, with %q", c.name, st, m.out, c.status, c.message)
		}
	}
	if st := m.compute(uint32(len(m.in) + 1)); st != statusBadInput {
		t.Errorf("n beyond the buffer: status %d (%s)", st, m.out)
	}
	// Whatever failed before, the instance still runs jobs.
	okRun(t, m, newJob(hello, tinyLimits, nil, 1000))
}

// TestComputeAbstainsAsNative: the local refusals inside the module are
// the native engine's, word for word.
func TestComputeAbstainsAsNative(t *testing.T) {
	hello := tinyProgram("hello\n", tailNone...)
	m := newModule()
	over := newJob(hello, tinyLimits, nil, tinyLimits.MaxFuel+1)
	_, werr := native(t, over, compute.Options{})
	if st, out := runJob(t, m, over); st != statusAbstain || string(out) != werr.Error() {
		t.Errorf("fuel over the limit: status %d, %q; native %q", st, out, werr)
	}
	// An instance of 32 pages gives a program 8; this one may grow to 16.
	m = newModule()
	j := newJob(hello, tinyLimits, nil, 1000)
	j.memoryPages = 32
	_, werr = native(t, j, compute.Options{MaxMemoryPages: 8})
	if st, out := runJob(t, m, j); st != statusAbstain || string(out) != werr.Error() || !errors.Is(werr, compute.ErrAbstain) {
		t.Errorf("over the memory budget: status %d, %q; native %q", st, out, werr)
	}
	if len(m.cs.programs) != 0 {
		t.Errorf("a program this instance cannot run was cached")
	}
}

func TestComputeCache(t *testing.T) {
	m := newModule()
	var progs [][]byte
	for i := range maxPrograms + 1 {
		progs = append(progs, tinyProgram(strings.Repeat("x", i+1), tailNone...))
	}
	for _, p := range progs {
		okRun(t, m, newJob(p, tinyLimits, nil, 1000))
	}
	if len(m.cs.programs) != maxPrograms || m.cs.programs[0].id != compute.ProgramIDOf(progs[1]) {
		t.Fatalf("%d programs cached, oldest %x; want %d, the first one dropped", len(m.cs.programs), m.cs.programs[0].id[:4], maxPrograms)
	}

	// A hit does not read the module bytes: the id names the program.
	j := newJob(progs[2], tinyLimits, nil, 1000)
	want := okRun(t, m, j)
	j.module = []byte("other bytes")
	sameResult(t, "hit", okRun(t, m, j), want)
	if last := m.cs.programs[len(m.cs.programs)-1]; last.id != j.id {
		t.Error("a hit did not make the program the most recently used")
	}
	// Other limits are another program: checked again, so the bytes are
	// needed again.
	other := tinyLimits
	other.MaxOutputBytes++
	j.limits = other
	if st, out := runJob(t, m, j); st != statusBadInput {
		t.Errorf("other limits with wrong bytes: status %d (%s)", st, out)
	}

	// The cache's share of a small instance holds one program: the
	// newest is kept, the rest dropped.
	onePage := tinyLimits
	onePage.MaxMemoryPages = 1
	m = newModule()
	for i := range 3 {
		big := tinyProgram(strings.Repeat(string(rune('a'+i)), 20<<10), tailNone...)
		j := newJob(big, onePage, nil, 100_000)
		j.memoryPages = 4 // 256 KiB: 96 KiB for the cache, less than one program's estimate
		okRun(t, m, j)
	}
	progs = append(progs, tinyProgram(strings.Repeat("c", 20<<10), tailNone...))
	if len(m.cs.programs) != 1 || m.cs.programs[0].id != compute.ProgramIDOf(progs[len(progs)-1]) {
		t.Errorf("%d programs cached; want only the newest", len(m.cs.programs))
	}
}

// fakeClock advances by step on every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

// TestComputeDeadline drives the time budget with a clock that moves a
// fixed step at each reading, so what it does is exact: a run that needs
// more fuel than the time allows is an abstention, and a run split into
// smaller ones still has the job's result.
func TestComputeDeadline(t *testing.T) {
	spin := tinyProgram("spinning\n", tailSpin...)

	// Every reading is a second later; the job has 3 s. The first run
	// gets probeFuel, takes 1 s and runs out; the clock is then past the
	// deadline.
	m := newModule()
	m.cs = &computeState{now: (&fakeClock{t: time.Unix(0, 0), step: time.Second}).now}
	j := newJob(spin, tinyLimits, nil, 100*probeFuel)
	j.budget = uint64(3 * time.Second)
	st, out := runJob(t, m, j)
	if st != statusAbstain || !strings.Contains(string(out), "compute: abstain: wall-clock limit") {
		t.Fatalf("status %d, %q; want a wall-clock abstention", st, out)
	}
	if r := m.cs.programs[0].rate; r != probeFuel {
		t.Errorf("measured %v fuel/s, want %d (probeFuel in one clock step)", r, probeFuel)
	}

	// Runs too short to time (1 ms) double their fuel until they reach
	// the job's: the result is the one of a single run with all of it.
	for _, fuel := range []uint64{3 * probeFuel, probeFuel / 2} {
		m = newModule()
		m.cs = &computeState{now: (&fakeClock{t: time.Unix(0, 0), step: time.Millisecond}).now}
		j = newJob(spin, tinyLimits, nil, fuel)
		j.budget = uint64(time.Hour)
		want, err := native(t, j, compute.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, "split run", okRun(t, m, j), want)
	}

	// With a measured speed the fuel is what fits before the deadline:
	// here 2 s at probeFuel per second, less than the job needs.
	m = newModule()
	clock := &fakeClock{t: time.Unix(0, 0), step: time.Second}
	m.cs = &computeState{now: clock.now}
	j = newJob(spin, tinyLimits, nil, 10*probeFuel)
	j.budget = uint64(4 * time.Second)
	cj, err := decodeCompute(j.encode())
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.cs.program(&cj)
	if err != nil {
		t.Fatal(err)
	}
	c.rate = probeFuel
	if _, err := m.cs.run(c, &cj, clock.now()); !errors.Is(err, errWallClock) || !errors.Is(err, compute.ErrAbstain) {
		t.Errorf("err %v, want a wall-clock abstention", err)
	}
	if c.rate != 3*probeFuel {
		t.Errorf("measured %v fuel/s, want %d: the run got the 3 s left at the known speed", c.rate, 3*probeFuel)
	}
}

// FuzzDecodeCompute: whatever the bytes, decodeCompute does not panic, and
// what it accepts is exactly the layout of ABI.md (encoding it again gives
// the same bytes); lk_compute on them never ends in an internal error.
func FuzzDecodeCompute(f *testing.F) {
	hello := tinyProgram("hello\n", tailNone...)
	for _, j := range []job{
		newJob(hello, tinyLimits, []byte("input"), 1000),
		newJob(tinyProgram("a", tailUnreachable...), compute.DefaultLimits(), nil, 1),
		{budget: uint64(time.Second), limits: compute.Limits{MaxModuleBytes: -1, MaxOutputBytes: -5}, memoryPages: 7},
	} {
		b := j.encode()
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(b[:computeHeader])
	}
	f.Add([]byte{})
	m := newModule()
	f.Fuzz(func(t *testing.T, in []byte) {
		j, err := decodeCompute(in)
		if err == nil {
			again := job{id: j.id, seed: j.seed, fuel: j.fuel, budget: j.budget, limits: j.limits,
				memoryPages: j.memoryPages, module: j.module, input: j.input}.encode()
			if !bytes.Equal(again, in) {
				t.Fatalf("decoded %+v, which encodes to other bytes", j)
			}
		}
		b := m.input(uint32(len(in)))
		copy(b, in)
		if len(in) >= 72 {
			// Keep lk_compute's own runs short: at most a little fuel.
			binary.LittleEndian.PutUint64(b[64:], binary.LittleEndian.Uint64(b[64:])%10_000)
		}
		if st := m.compute(uint32(len(in))); st == statusInternal {
			t.Fatalf("internal error: %s", m.out)
		}
	})
}
