//go:build browser || edge

// Compute across keeper hosts: the same job list runs on native wazero
// (compiler and interpreter), in the wasip1 keeper module under wazero
// (wasmclient/host's RunCompute; in the browser leg only, as it is the
// slowest and does not depend on the JavaScript host), and in the js
// keeper inside Chromium
// (crosshost_browser_test.go: the platform engine, i.e. V8, and wazero's
// interpreter compiled to WebAssembly) and inside workerd
// (crosshost_edge_test.go: every engine workerd allows). Every result hash
// and fuel count must equal native's byte for byte; a difference fails
// naming the job and the host. The same runs time the example programs
// metered and unmetered on V8 and on the interpreter in each JavaScript
// host (docs/benchmarks.md, "Compute across hosts").

package tests

import (
	"context"
	"crypto/sha256"
	bin "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
	wasmhost "github.com/lightkeeper-net/lightkeeper/wasmclient/host"
)

// crossJob is one job of the list, as the JavaScript harness
// (tests/browser/crosshost-harness.mjs) reads it.
type crossJob struct {
	Name    string `json:"name"`
	Program string `json:"program"`
	Input   []byte `json:"input"` // base64 in JSON
	Fuel    uint64 `json:"fuel,string"`
	Seed    string `json:"seed"`             // hex
	Limits  string `json:"limits,omitempty"` // JSON overrides of compute.DefaultLimits
	// Want is the trap the job exists to show (and Exit its exit code):
	// checked on native's result, so the list keeps covering what it
	// claims to.
	Want string `json:"-"`
	Exit uint32 `json:"-"`
}

func (j crossJob) limits() (compute.Limits, error) {
	l := compute.DefaultLimits()
	if j.Limits != "" {
		if err := json.Unmarshal([]byte(j.Limits), &l); err != nil {
			return l, fmt.Errorf("job %s: limits: %w", j.Name, err)
		}
	}
	return l, nil
}

func (j crossJob) seed() [32]byte {
	b, _ := hex.DecodeString(j.Seed)
	return [32]byte(b)
}

// crossBench is a timing workload: Reps runs per engine after a warm-up.
type crossBench struct {
	crossJob
	Reps    int      `json:"reps"`
	Warmup  int      `json:"warmup"`
	Engines []string `json:"engines"`
}

// crossSpec is what the harness fetches from /crosshost/spec.json. The
// timing workloads (Bench) come from /crosshost/bench.json, which the
// server answers only once the native runs are over, so that nothing else
// competes for the CPU while the JavaScript host is timed.
type crossSpec struct {
	Engines  []string          `json:"engines"`
	Programs map[string]string `json:"programs"` // name -> path on the test server
	Jobs     []crossJob        `json:"jobs"`
	Bench    []crossBench      `json:"-"`
}

// crossResult is one job's result on one host and engine, or why there
// is none.
type crossResult struct {
	Job        string    `json:"job"`
	Engine     string    `json:"engine"`
	ResultHash string    `json:"resultHash"`
	OutputHash string    `json:"outputHash"`
	FuelUsed   string    `json:"fuelUsed"`
	ExitCode   uint32    `json:"exitCode"`
	Trap       string    `json:"trap"`
	Output     []byte    `json:"output"` // the first 256 bytes
	Ms         []float64 `json:"ms"`
	Error      string    `json:"error"`
}

// crossReport is what the harness returns.
type crossReport struct {
	Engines struct {
		Platform    string `json:"platform"`
		Interpreter string `json:"interpreter"`
		Default     string `json:"default"`
	} `json:"engines"`
	Results []crossResult `json:"results"`
	Bench   []crossResult `json:"bench"`
	TotalMs float64       `json:"totalMs"`
	Error   string        `json:"error"`
}

func seedHex(s string) string {
	h := sha256.Sum256([]byte("lightkeeper/crosshost/" + s))
	return hex.EncodeToString(h[:])
}

// crossModules are small hand-assembled programs for what the examples
// do not reach: each trap (in each form engines name differently), the
// output cap, fuel running out inside a host function, memory growth at
// the maximum.
func crossModules() map[string][]byte {
	i32c := func(v int32) []byte { return xSLEB([]byte{0x41}, int64(v)) }
	i64c := func(v int64) []byte { return xSLEB([]byte{0x42}, v) }
	cat := func(parts ...[]byte) []byte { return slices.Concat(parts...) }
	nan := bin.LittleEndian.AppendUint64([]byte{0x44}, 0x7ff8000000000000)
	big := bin.LittleEndian.AppendUint64([]byte{0x44}, math.Float64bits(1e20))
	store := func(addr, v int32) []byte { return cat(i32c(addr), i32c(v), []byte{0x36, 2, 0}) }
	code := func(b ...[]byte) xOpts { return xOpts{start: cat(b...), memMin: 1} }
	table := func(o xOpts) xOpts { o.table = true; return o }
	return map[string][]byte{
		"trap-unreachable":    xModule(code([]byte{0x00, 0x0b})),
		"trap-divzero":        xModule(code(i32c(7), i32c(0), []byte{0x6d, 0x1a, 0x0b})),
		"trap-remzero":        xModule(code(i64c(7), i64c(0), []byte{0x81, 0x1a, 0x0b})),
		"trap-overflow":       xModule(code(i32c(math.MinInt32), i32c(-1), []byte{0x6d, 0x1a, 0x0b})),
		"trap-trunc-nan":      xModule(code(nan, []byte{0xaa, 0x1a, 0x0b})),
		"trap-trunc-range":    xModule(code(big, []byte{0xaa, 0x1a, 0x0b})),
		"trap-memory":         xModule(code(i32c(65534), []byte{0x28, 2, 0, 0x1a, 0x0b})),
		"trap-fill":           xModule(code(i32c(65000), i32c(0), i32c(1000), []byte{0xfc, 11, 0, 0x0b})),
		"trap-copy":           xModule(code(i32c(0), i32c(65000), i32c(1000), []byte{0xfc, 10, 0, 0, 0x0b})),
		"trap-init":           xModule(xOpts{start: cat(i32c(0), i32c(2), i32c(4), []byte{0xfc, 8, 0, 0, 0x0b}), memMin: 1, passive: []byte("abcd")}),
		"trap-indirect-null":  xModule(table(code(i32c(1), []byte{0x11, 0, 0, 0x0b}))),
		"trap-indirect-range": xModule(table(code(i32c(5), []byte{0x11, 0, 0, 0x0b}))),
		// table[0] is _start itself ([] -> []), called as [i32] -> [].
		"trap-indirect-type": xModule(table(code(i32c(3), i32c(0), []byte{0x11, 1, 0, 0x0b}))),
		// f calls itself for ever.
		"recursion": xModule(xOpts{helpers: [][]byte{{0x10, 0, 0x0b}}, start: []byte{0x10, 0, 0x0b}, memMin: 1}),
		// One fd_write of 70,000 bytes: over the 64 KiB output cap.
		"output-limit": xModule(xOpts{imports: []string{"fd_write"}, memMin: 2,
			start: cat(store(0, 16), store(4, 70000), i32c(1), i32c(0), i32c(1), i32c(8), []byte{0x10, 0, 0x1a, 0x0b})}),
		// random_get of 64 KiB costs 1,024 units inside the host.
		"host-fuel": xModule(xOpts{imports: []string{"random_get"}, memMin: 1, start: cat(i32c(0), i32c(65536), []byte{0x10, 0, 0x1a, 0x0b})}),
		// Writes "hi\n" (a data segment at 100) and exits with 42.
		"exit-42": xModule(xOpts{imports: []string{"fd_write", "proc_exit"}, memMin: 1, data: []byte("hi\n"),
			start: cat(store(0, 100), store(4, 3), i32c(1), i32c(0), i32c(1), i32c(8), []byte{0x10, 0, 0x1a}, i32c(42), []byte{0x10, 1, 0x0b})}),
		// memory.grow(2) = 1, memory.grow(5) = -1 past the maximum of 3
		// pages: exits with 1 + 10 × -1 = -9.
		"grow-max": xModule(xOpts{imports: []string{"proc_exit"}, memMin: 1, memMax: 3,
			start: cat(i32c(2), []byte{0x40, 0}, i32c(5), []byte{0x40, 0}, i32c(10), []byte{0x6c, 0x6a, 0x10, 0, 0x0b})}),
	}
}

// xOpts describes a hand-assembled wasip1 command.
type xOpts struct {
	imports []string // WASI functions, function indices 0…
	helpers [][]byte // functions of type [] -> [], after the imports
	start   []byte   // _start's body, after the helpers
	memMin  uint32   // pages; memMax 0: no maximum
	memMax  uint32
	table   bool   // a table of 2 funcrefs: [0] = _start, [1] empty; type 1 is [i32] -> []
	data    []byte // an active segment at offset 100
	passive []byte // a passive segment (with its data count section)
}

// xModule assembles o; _start and the memory are exported.
func xModule(o xOpts) []byte {
	sigs := map[string][2][]byte{
		"fd_write":   {{0x7f, 0x7f, 0x7f, 0x7f}, {0x7f}},
		"random_get": {{0x7f, 0x7f}, {0x7f}},
		"proc_exit":  {{0x7f}, nil},
	}
	u := func(b []byte, v uint32) []byte { return bin.AppendUvarint(b, uint64(v)) }
	name := func(b []byte, s string) []byte { return append(u(b, uint32(len(s))), s...) }
	sec := func(out []byte, id byte, body []byte) []byte {
		return append(u(append(out, id), uint32(len(body))), body...)
	}
	// Type 0 is [] -> [], type 1 [i32] -> []; each import gets its own
	// type after them.
	types := u(nil, uint32(2+len(o.imports)))
	types = append(types, 0x60, 0, 0, 0x60, 1, 0x7f, 0)
	for _, im := range o.imports {
		s := sigs[im]
		types = append(u(append(u(append(types, 0x60), uint32(len(s[0]))), s[0]...), uint32(len(s[1]))), s[1]...)
	}
	out := sec([]byte("\x00asm\x01\x00\x00\x00"), 1, types)
	if len(o.imports) > 0 {
		b := u(nil, uint32(len(o.imports)))
		for i, im := range o.imports {
			b = u(append(name(name(b, compute.WASIModule), im), 0), uint32(2+i))
		}
		out = sec(out, 2, b)
	}
	nf := uint32(len(o.helpers) + 1)
	b := u(nil, nf)
	for range nf {
		b = append(b, 0)
	}
	out = sec(out, 3, b)
	startIdx := uint32(len(o.imports) + len(o.helpers))
	if o.table {
		out = sec(out, 4, []byte{1, 0x70, 0, 2})
	}
	if o.memMax > 0 {
		out = sec(out, 5, u(u([]byte{1, 1}, o.memMin), o.memMax))
	} else {
		out = sec(out, 5, u([]byte{1, 0}, o.memMin))
	}
	exp := name(u(nil, 2), "memory")
	exp = append(exp, 2, 0)
	exp = u(append(name(exp, "_start"), 0), startIdx)
	out = sec(out, 7, exp)
	if o.table {
		out = sec(out, 9, u([]byte{1, 0, 0x41, 0, 0x0b, 1}, startIdx))
	}
	var datas [][]byte
	if o.data != nil {
		d := append(xSLEB([]byte{0, 0x41}, 100), 0x0b)
		datas = append(datas, append(u(d, uint32(len(o.data))), o.data...))
	}
	if o.passive != nil {
		datas = append(datas, append(u([]byte{1}, uint32(len(o.passive))), o.passive...))
		out = sec(out, 12, u(nil, uint32(len(datas))))
	}
	code := u(nil, nf)
	for _, body := range append(slices.Clone(o.helpers), o.start) {
		fn := append([]byte{0}, body...) // no locals
		code = append(u(code, uint32(len(fn))), fn...)
	}
	out = sec(out, 10, code)
	if len(datas) > 0 {
		out = sec(out, 11, append(u(nil, uint32(len(datas))), slices.Concat(datas...)...))
	}
	return out
}

func xSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// crossJobs is the job list: every example with fixed inputs (the sandbox,
// which reads the clock, randomness and files, under several seeds), fuel
// running out in code and in the host, each trap kind, the output cap and
// the call-depth limit on Go programs too.
func crossJobs(t *testing.T) (crossSpec, map[string][]byte) {
	t.Helper()
	mods := exampleModules(t)
	for name, m := range crossModules() {
		mods[name] = m
	}
	text := "The quick brown fox jumps over the lazy dog.\nThe dog sleeps; the fox runs!\n"
	big := strings.Repeat("lightkeeper keeps the light ", 300) // 8 KiB
	a, b, c := seedHex("a"), seedHex("b"), seedHex("c")
	jobs := []crossJob{
		{Name: "sha256sum", Program: "sha256sum", Input: []byte(text), Fuel: 50_000_000, Seed: a, Want: "none"},
		{Name: "sha256sum-8KiB", Program: "sha256sum", Input: []byte(big), Fuel: 200_000_000, Seed: b, Want: "none"},
		{Name: "wordcount", Program: "wordcount", Input: []byte(text), Fuel: 50_000_000, Seed: a, Want: "none"},
		{Name: "wordcount-8KiB", Program: "wordcount", Input: []byte(big), Fuel: 500_000_000, Seed: a, Want: "none"},
		{Name: "primes-30000", Program: "primes", Input: []byte("30000"), Fuel: 200_000_000, Seed: a, Want: "none"},
		{Name: "primes-bad-input", Program: "primes", Input: []byte("not a number"), Fuel: 50_000_000, Seed: a, Want: "none", Exit: 2},
		{Name: "floats", Program: "floats", Input: []byte("1 2 3 4 1e300 -0.5"), Fuel: 50_000_000, Seed: a, Want: "none"},
		{Name: "floats-empty", Program: "floats", Fuel: 50_000_000, Seed: a, Want: "none"},
		{Name: "sandbox-seed-a", Program: "sandbox", Fuel: 50_000_000, Seed: a, Want: "none"},
		{Name: "sandbox-seed-b", Program: "sandbox", Fuel: 50_000_000, Seed: b, Want: "none"},
		{Name: "sandbox-seed-c", Program: "sandbox", Fuel: 50_000_000, Seed: c, Want: "none"},
		{Name: "spin-out-of-fuel", Program: "spin", Fuel: 5_000_000, Seed: a, Want: "out_of_fuel"},
		{Name: "spin-fuel-0", Program: "spin", Fuel: 0, Seed: a, Want: "out_of_fuel"},
		{Name: "sha256sum-out-of-fuel-in-startup", Program: "sha256sum", Input: []byte(big), Fuel: 1_000_000, Seed: a, Want: "out_of_fuel"},
		{Name: "trap-unreachable", Program: "trap-unreachable", Fuel: 1000, Seed: a, Want: "unreachable"},
		{Name: "trap-divzero", Program: "trap-divzero", Fuel: 1000, Seed: a, Want: "divide_by_zero"},
		{Name: "trap-remzero", Program: "trap-remzero", Fuel: 1000, Seed: a, Want: "divide_by_zero"},
		{Name: "trap-overflow", Program: "trap-overflow", Fuel: 1000, Seed: a, Want: "integer_overflow"},
		{Name: "trap-trunc-nan", Program: "trap-trunc-nan", Fuel: 1000, Seed: a, Want: "integer_overflow"},
		{Name: "trap-trunc-range", Program: "trap-trunc-range", Fuel: 1000, Seed: a, Want: "integer_overflow"},
		{Name: "trap-memory", Program: "trap-memory", Fuel: 1000, Seed: a, Want: "memory_access"},
		{Name: "trap-fill", Program: "trap-fill", Fuel: 1000, Seed: a, Want: "memory_access"},
		{Name: "trap-copy", Program: "trap-copy", Fuel: 1000, Seed: a, Want: "memory_access"},
		{Name: "trap-init", Program: "trap-init", Fuel: 1000, Seed: a, Want: "memory_access"},
		{Name: "trap-indirect-null", Program: "trap-indirect-null", Fuel: 1000, Seed: a, Want: "indirect_call"},
		{Name: "trap-indirect-range", Program: "trap-indirect-range", Fuel: 1000, Seed: a, Want: "indirect_call"},
		{Name: "trap-indirect-type", Program: "trap-indirect-type", Fuel: 1000, Seed: a, Want: "indirect_call"},
		{Name: "recursion", Program: "recursion", Fuel: 1_000_000, Seed: a, Want: "stack_exhausted"},
		{Name: "recursion-depth-100", Program: "recursion", Fuel: 1_000_000, Seed: a, Limits: `{"MaxCallDepth":100}`, Want: "stack_exhausted"},
		{Name: "output-limit", Program: "output-limit", Fuel: 10_000, Seed: a, Want: "output_limit"},
		{Name: "output-limit-1000", Program: "output-limit", Fuel: 10_000, Seed: a, Limits: `{"MaxOutputBytes":1000}`, Want: "output_limit"},
		{Name: "host-out-of-fuel", Program: "host-fuel", Fuel: 500, Seed: a, Want: "out_of_fuel"},
		{Name: "host-enough-fuel", Program: "host-fuel", Fuel: 5000, Seed: a, Want: "none"},
		{Name: "exit-42", Program: "exit-42", Fuel: 1000, Seed: a, Want: "none", Exit: 42},
		{Name: "grow-max", Program: "grow-max", Fuel: 1000, Seed: a, Want: "none", Exit: uint32(0xfffffff7)},
	}
	for _, j := range jobs {
		if _, err := j.limits(); err != nil {
			t.Fatal(err)
		}
	}
	spec := crossSpec{Engines: []string{"platform", "interpreter"}, Programs: map[string]string{}, Jobs: jobs}
	for name := range mods {
		spec.Programs[name] = "/crosshost/modules/" + name
	}
	spec.Bench = crossBenchJobs()
	return spec, mods
}

// crossBenchJobs are the timing workloads: compute.md's four example
// workloads at one fortieth of their size, on V8 metered and unmetered
// (five runs after two warm-ups: V8 tiers hot code up) and on wazero's
// interpreter (three runs: the job list has compiled the programs already);
// with LIGHTKEEPER_COMPUTE_BENCH=full also compute.md's full sizes on V8
// (the interpreter would take minutes).
func crossBenchJobs() []crossBench {
	mk := func(name, prog string, input []byte, reps int, engines ...string) crossBench {
		b := crossBench{crossJob: crossJob{Name: name, Program: prog, Input: input, Fuel: compute.DefaultLimits().MaxFuel, Seed: seedHex("bench")},
			Reps: reps, Engines: engines}
		if slices.Contains(engines, "platform") {
			b.Warmup = 2
		}
		return b
	}
	words := func(n int) []byte {
		return []byte(strings.Repeat("the quick brown fox jumps over the lazy dog 42 times\n", n))
	}
	nums := func(n int) []byte { return []byte(strings.Repeat("3.14159 2.71828 1.41421 -0.5 1e10 ", n)) }
	sha := func(n int) []byte { return []byte(strings.Repeat("lightkeeper", n/11)) }
	v8 := []string{"platform", "platform-unmetered"}
	var b []crossBench
	for _, w := range []struct {
		name, prog string
		input      []byte
	}{
		{"sha256-26KiB", "sha256sum", sha(1 << 20 / 40)},
		{"primes-50k", "primes", []byte("50000")},
		{"wordcount-6.5KB", "wordcount", words(125)},
		{"floats-500", "floats", nums(100)},
	} {
		b = append(b, mk(w.name, w.prog, w.input, 5, v8...), mk(w.name, w.prog, w.input, 3, "interpreter"))
	}
	if os.Getenv("LIGHTKEEPER_COMPUTE_BENCH") == "full" {
		b = append(b,
			mk("sha256-1MiB", "sha256sum", sha(1<<20), 5, v8...),
			mk("primes-2M", "primes", []byte("2000000"), 5, v8...),
			mk("wordcount-260KB", "wordcount", words(5000), 5, v8...),
			mk("floats-20k", "floats", nums(4000), 5, v8...),
		)
	}
	return b
}

func resultOf(name, engine string, r compute.Result, err error, ms ...float64) crossResult {
	if err != nil {
		return crossResult{Job: name, Engine: engine, Error: err.Error()}
	}
	rh, oh := compute.ResultHash(r), compute.OutputHash(r.Output)
	return crossResult{Job: name, Engine: engine, ResultHash: hex.EncodeToString(rh[:]), OutputHash: hex.EncodeToString(oh[:]),
		FuelUsed: strconv.FormatUint(r.FuelUsed, 10), ExitCode: r.ExitCode, Trap: r.Trap.String(), Output: r.Output[:min(len(r.Output), 256)], Ms: ms}
}

// nativeLeg is the job list on one native wazero engine; the engine and
// the checked programs stay for the timing workloads.
type nativeLeg struct {
	host     string
	engine   *compute.Engine
	programs map[string]*compute.Program
	results  map[string]crossResult
	took     time.Duration
}

func (l *nativeLeg) check(j crossJob, mods map[string][]byte) (*compute.Program, error) {
	key := j.Program + "/" + j.Limits
	if p := l.programs[key]; p != nil {
		return p, nil
	}
	lim, _ := j.limits() // checked by crossJobs
	p, err := compute.Check(mods[j.Program], lim)
	l.programs[key] = p
	return p, err
}

func runNativeLeg(kind compute.EngineKind, spec crossSpec, mods map[string][]byte) (*nativeLeg, error) {
	ctx := context.Background()
	start := time.Now()
	e, err := compute.NewEngine(ctx, compute.EngineConfig{Kind: kind, CacheSize: 32})
	if err != nil {
		return nil, err
	}
	l := &nativeLeg{host: "native-" + kind.String(), engine: e, programs: map[string]*compute.Program{}, results: map[string]crossResult{}}
	for _, j := range spec.Jobs {
		p, err := l.check(j, mods)
		if err != nil {
			return l, fmt.Errorf("job %s: Check: %w", j.Name, err)
		}
		r, err := e.Run(ctx, p, j.Input, j.Fuel, j.seed(), compute.Options{})
		l.results[j.Name] = resultOf(j.Name, l.host, r, err)
	}
	l.took = time.Since(start)
	return l, nil
}

// bench times the workloads this leg's kind of engine stands beside in
// the JavaScript host: the compiler beside V8 (warm-up, then the reps),
// the interpreter beside the interpreter (the programs are compiled).
func (l *nativeLeg) bench(spec crossSpec, mods map[string][]byte) (map[string]crossResult, error) {
	interp := l.engine.Kind() == compute.EngineInterpreter
	out := map[string]crossResult{}
	for _, b := range spec.Bench {
		if slices.Contains(b.Engines, "interpreter") != interp {
			continue
		}
		p, err := l.check(b.crossJob, mods)
		if err != nil {
			return nil, err
		}
		var ms []float64
		var r compute.Result
		for i := range b.Reps + b.Warmup {
			t0 := time.Now()
			if r, err = l.engine.Run(context.Background(), p, b.Input, b.Fuel, b.seed(), compute.Options{}); err != nil {
				return nil, fmt.Errorf("bench %s on %s: %w", b.Name, l.host, err)
			}
			if i >= b.Warmup {
				ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
			}
		}
		out[b.Name] = resultOf(b.Name, l.host, r, nil, ms...)
	}
	return out, nil
}

// runWasip1Leg runs the jobs of some programs in the wasip1 keeper
// module: a fresh host per program (loaded from the compilation cache in
// cache after the first) with one instance, so each program is checked
// once and no instance holds many compiled programs.
func runWasip1Leg(spec crossSpec, mods map[string][]byte, module, cache string, programs []string) (map[string]crossResult, error) {
	ctx := context.Background()
	res := map[string]crossResult{}
	for _, prog := range programs {
		h, err := wasmhost.Load(ctx, module, wasmhost.NewConfig().WithMaxInstances(1).WithCompilationCacheDir(cache))
		if err != nil {
			return nil, err
		}
		for _, j := range spec.Jobs {
			if j.Program != prog {
				continue
			}
			l, _ := j.limits()
			r, err := h.RunCompute(ctx, mods[j.Program], l, j.Input, j.Fuel, j.seed())
			res[j.Name] = resultOf(j.Name, "wasip1", r, err)
		}
		h.Close(ctx)
	}
	return res, nil
}

// nativeRuns are the native hosts' results: the job list on wazero's
// compiler and interpreter and in the wasip1 module (by host, then job),
// and the timing workloads on the two native engines.
type nativeRuns struct {
	results map[string]map[string]crossResult
	bench   map[string]map[string]crossResult // host -> workload
	took    map[string]time.Duration
	err     error
}

// startNativeHosts runs the native job lists beside the JavaScript
// host's: wazero's compiler then its interpreter in one goroutine, and,
// unless wasip1 is "", the wasip1 module in two more (it checks and
// compiles every program inside WebAssembly: the longest leg). benchNow,
// called when the JavaScript host asks for its timing workloads (its job
// list is done), waits for them and then times the native engines alone.
func startNativeHosts(spec crossSpec, mods map[string][]byte, wasip1 string) (benchNow func() *nativeRuns) {
	out := &nativeRuns{results: map[string]map[string]crossResult{}, bench: map[string]map[string]crossResult{}, took: map[string]time.Duration{}}
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if out.err == nil {
			out.err = err
		}
	}
	var legs [2]*nativeLeg
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, k := range []compute.EngineKind{compute.EngineCompiler, compute.EngineInterpreter} {
			l, err := runNativeLeg(k, spec, mods)
			legs[i] = l
			if err != nil {
				fail(err)
				return
			}
		}
	}()
	if wasip1 != "" {
		start := time.Now()
		cache, err := os.MkdirTemp("", "lightkeeper-crosshost-")
		if err != nil {
			fail(err)
		}
		var halves [2][]string
		for _, j := range spec.Jobs {
			if !slices.Contains(halves[0], j.Program) && !slices.Contains(halves[1], j.Program) {
				halves[len(halves[0])-len(halves[1])] = append(halves[len(halves[0])-len(halves[1])], j.Program)
			}
		}
		defer func() { go func() { wg.Wait(); os.RemoveAll(cache) }() }()
		out.results["wasip1"] = map[string]crossResult{}
		for _, programs := range halves {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := runWasip1Leg(spec, mods, wasip1, cache, programs)
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for k, v := range res {
					out.results["wasip1"][k] = v
				}
				out.took["wasip1"] = max(out.took["wasip1"], time.Since(start))
			}()
		}
	}
	var once sync.Once
	return func() *nativeRuns {
		once.Do(func() {
			wg.Wait()
			for _, l := range legs {
				if l == nil {
					continue
				}
				defer l.engine.Close(context.Background())
				out.results[l.host], out.took[l.host] = l.results, l.took
				if out.err != nil {
					continue
				}
				b, err := l.bench(spec, mods)
				if err != nil {
					fail(err)
					continue
				}
				out.bench[l.host] = b
			}
		})
		return out
	}
}

// checkReference checks that native's results are what each job is for.
func checkReference(t *testing.T, spec crossSpec, ref map[string]crossResult) {
	t.Helper()
	for _, j := range spec.Jobs {
		r := ref[j.Name]
		if r.Error != "" {
			t.Errorf("job %s: no native result: %s", j.Name, r.Error)
			continue
		}
		if r.Trap != j.Want || r.ExitCode != j.Exit {
			t.Errorf("job %s: native result trap %s exit %d, the job is meant to give trap %s exit %d", j.Name, r.Trap, r.ExitCode, j.Want, j.Exit)
		}
		if j.Want == "out_of_fuel" && r.FuelUsed != strconv.FormatUint(j.Fuel, 10) {
			t.Errorf("job %s: out of fuel with %s used, not the limit %d", j.Name, r.FuelUsed, j.Fuel)
		}
	}
}

// compareHost fails for every job whose result on host differs from the
// reference's in result hash or fuel count, or has no result.
func compareHost(t *testing.T, spec crossSpec, ref map[string]crossResult, host string, got map[string]crossResult) (same int) {
	t.Helper()
	for _, j := range spec.Jobs {
		want, r := ref[j.Name], got[j.Name]
		switch {
		case r.Job == "":
			t.Errorf("job %s on %s: not run", j.Name, host)
		case r.Error != "":
			t.Errorf("job %s on %s: no result (%s)", j.Name, host, r.Error)
		case r.ResultHash != want.ResultHash || r.FuelUsed != want.FuelUsed:
			t.Errorf("job %s on %s: result hash %s, fuel %s (trap %s, exit %d, output %q)\n\tnative compiler: result hash %s, fuel %s (trap %s, exit %d, output %q)",
				j.Name, host, r.ResultHash, r.FuelUsed, r.Trap, r.ExitCode, r.Output, want.ResultHash, want.FuelUsed, want.Trap, want.ExitCode, want.Output)
		default:
			same++
		}
	}
	return same
}

// byJob indexes a report's results of one engine.
func byJob(rs []crossResult, engine string) map[string]crossResult {
	m := map[string]crossResult{}
	for _, r := range rs {
		if r.Engine == engine {
			m[r.Job] = r
		}
	}
	return m
}

// serveCrossSpec serves the spec and the programs under /crosshost/ on
// mux; bench.json once benchReady has returned.
func serveCrossSpec(mux *http.ServeMux, spec crossSpec, mods map[string][]byte, benchReady func()) {
	mux.HandleFunc("GET /crosshost/spec.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(spec)
	})
	mux.HandleFunc("GET /crosshost/bench.json", func(w http.ResponseWriter, r *http.Request) {
		benchReady()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(spec.Bench)
	})
	mux.HandleFunc("GET /crosshost/modules/{name}", func(w http.ResponseWriter, r *http.Request) {
		m, ok := mods[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/wasm")
		w.Write(m)
	})
	mux.HandleFunc("GET /crosshost-harness.mjs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, filepath.Join("browser", "crosshost-harness.mjs"))
	})
}

// runCrossHost is the whole comparison for one JavaScript host: native
// runs (concurrently with the host's), then every engine the host allows
// against native, then the timing table. runJS runs the harness in the
// host against the server and returns its report. withWasip1 adds the
// wasip1 keeper module's leg: the browser leg runs it, the edge leg does
// not (it would take as long again, for the same native-side host).
func runCrossHost(t *testing.T, host string, withWasip1 bool, mux *http.ServeMux, runJS func(base string) crossReport) crossReport {
	t.Helper()
	spec, mods := crossJobs(t)
	wasip1 := ""
	if withWasip1 {
		wasip1 = wasmModule(t)
	}
	// The native runs go on while the host runs the job list; the host's
	// timing workloads wait for them (bench.json), and the native timings
	// run alone in between.
	nativeBench := startNativeHosts(spec, mods, wasip1)
	serveCrossSpec(mux, spec, mods, func() { nativeBench() })
	srv := httptest.NewServer(mux) // 127.0.0.1
	defer srv.Close()
	start := time.Now()
	rep := runJS(srv.URL)
	jsTook := time.Since(start)
	native := nativeBench()
	if native.err != nil {
		t.Fatal(native.err)
	}
	if rep.Error != "" {
		t.Fatalf("%s harness: %s", host, rep.Error)
	}

	ref := native.results["native-compiler"]
	checkReference(t, spec, ref)
	for _, h := range []string{"native-interpreter", "wasip1"} {
		if h == "wasip1" && !withWasip1 {
			continue
		}
		n := compareHost(t, spec, ref, h, native.results[h])
		t.Logf("%s: %d of %d jobs identical to the native compiler's (%v)", h, n, len(spec.Jobs), native.took[h].Round(time.Millisecond))
	}
	ran := 0
	for _, engine := range spec.Engines {
		why := map[string]string{"platform": rep.Engines.Platform, "interpreter": rep.Engines.Interpreter}[engine]
		if why != "" {
			t.Logf("%s does not run the %s engine: %s", host, engine, why)
			continue
		}
		ran++
		n := compareHost(t, spec, ref, host+"/"+engine, byJob(rep.Results, engine))
		t.Logf("%s/%s: %d of %d jobs identical to the native compiler's", host, engine, n, len(spec.Jobs))
	}
	if ran == 0 {
		t.Fatalf("%s ran no compute engine", host)
	}
	t.Logf("%s: harness took %v (its own count %.0f ms); default compute engine there: %s", host, jsTook.Round(time.Millisecond), rep.TotalMs, rep.Engines.Default)

	table := crossBenchTable(t, host, spec, native.bench, rep)
	t.Logf("\n%s", table)
	if err := os.MkdirAll(artifactsDir(t), 0o755); err == nil {
		os.WriteFile(filepath.Join(artifactsDir(t), "crosshost-"+host+".txt"), []byte(table), 0o644)
		b, _ := json.MarshalIndent(rep, "", " ")
		os.WriteFile(filepath.Join(artifactsDir(t), "crosshost-"+host+".json"), b, 0o644)
	}
	return rep
}

// crossBenchTable is the timing table: medians in ms, and the ratios that
// matter (metered/unmetered on V8, interpreter/V8 in the same host).
func crossBenchTable(t *testing.T, host string, spec crossSpec, native map[string]map[string]crossResult, rep crossReport) string {
	t.Helper()
	js := map[string]map[string]crossResult{}
	for _, r := range rep.Bench {
		if r.Error != "" {
			t.Errorf("bench %s on %s/%s: %s", r.Job, host, r.Engine, r.Error)
			continue
		}
		if js[r.Engine] == nil {
			js[r.Engine] = map[string]crossResult{}
		}
		js[r.Engine][r.Job] = r
	}
	med := func(r crossResult, ok bool) string {
		if !ok || len(r.Ms) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f", median(r.Ms))
	}
	ratio := func(a, b crossResult, okA, okB bool) string {
		if !okA || !okB || len(a.Ms) == 0 || len(b.Ms) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", median(a.Ms)/median(b.Ms))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "compute run time on %s, ms (median of the reps after a warm-up; compilation cached)\n", host)
	fmt.Fprintf(&sb, "%-16s %11s %9s %9s %11s %11s %9s %11s %10s %10s\n", "workload", "fuel", "native C", "native I",
		"V8 metered", "V8 unmet.", "V8 m/u", host+" I", "I/V8", "V8/nat.C")
	var names []string
	for _, b := range spec.Bench {
		if !slices.Contains(names, b.Name) {
			names = append(names, b.Name)
		}
	}
	for _, name := range names {
		b := struct{ Name string }{name}
		nc, okNC := native["native-compiler"][b.Name]
		ni, okNI := native["native-interpreter"][b.Name]
		pm, okPM := js["platform"][b.Name]
		pu, okPU := js["platform-unmetered"][b.Name]
		in, okIN := js["interpreter"][b.Name]
		// Metered runs on every engine must agree here too.
		for _, o := range []struct {
			r  crossResult
			ok bool
		}{{ni, okNI}, {pm, okPM}, {in, okIN}} {
			if o.ok && okNC && (o.r.ResultHash != nc.ResultHash || o.r.FuelUsed != nc.FuelUsed) {
				t.Errorf("bench %s on %s: result hash %s fuel %s, native compiler %s fuel %s", b.Name, o.r.Engine, o.r.ResultHash, o.r.FuelUsed, nc.ResultHash, nc.FuelUsed)
			}
		}
		fmt.Fprintf(&sb, "%-16s %11s %9s %9s %11s %11s %9s %11s %10s %10s\n", b.Name, nc.FuelUsed, med(nc, okNC), med(ni, okNI),
			med(pm, okPM), med(pu, okPU), ratio(pm, pu, okPM, okPU), med(in, okIN), ratio(in, pm, okIN, okPM), ratio(pm, nc, okPM, okNC))
	}
	fmt.Fprintf(&sb, "C = wazero compiler, I = wazero interpreter (natively; %s I: compiled into the js keeper), V8 = the platform engine; unmetered = the module as registered under the same host\n", host)
	return sb.String()
}
