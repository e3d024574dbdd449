package compute

import (
	"bufio"
	"crypto/sha256"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/results.golden from the current metering")

// goldenJob is one run whose result the golden file pins.
type goldenJob struct {
	name  string
	p     *Program
	input []byte
	fuel  uint64
}

// goldenSynthetic are small modules covering each way a run ends: every
// trap kind, the call depth, the output limit, host calls that cost fuel
// and read the fuel clock. Each is run at every fuel from 0 to what it
// needs and one more, so every segment is the one that runs out.
func goldenSynthetic(t *testing.T) map[string]*Program {
	table := func(w *wMod) {
		w.fn(nil, nil, nil, opEnd)
		w.table = []byte{1, refFunc, 0, 2}
		w.elems = cat([]byte{1, 0}, i32c(0), []byte{opEnd, 1, 0})
		w.typeIdx(i32x1, nil)
	}
	depth := func(k int32) []byte {
		return command(func(w *wMod) {
			w.wasi("proc_exit")
			self := uint32(len(w.imports) + len(w.funcs))
			w.fn(i32x1, i32x1, nil, cat([]byte{0x20, 0, 0x45, opIf, valI32}, i32c(0), []byte{0x05, 0x20, 0}, i32c(1), []byte{opI32Sub}, call(self), []byte{opEnd, opEnd})...)
		}, cat(i32c(k), call(1), []byte{0x1a}, i32c(7), call(0), []byte{opEnd})...)
	}
	loop := func() []byte {
		code := cat(i32c(10), []byte{0x21, 0, 0x03, blockEmpty, 0x20, 0}, i32c(1), []byte{opI32Sub, 0x22, 0, 0x0d, 0, opEnd, opEnd})
		w := &wMod{}
		f := w.fn(nil, nil, []localDecl{{1, valI32}}, code...)
		w.exports = []exportEntry{{"memory", externMemory, 0}, {"_start", externFunc, f}}
		return w.bytes()
	}
	clock := clockModule()
	// Writes 8 bytes, then divides by zero in the same segment.
	writeThenTrap := command(func(w *wMod) {
		w.wasi("fd_write")
		w.datas = cat([]byte{1, 0}, i32c(100), []byte{opEnd}, appendU32(nil, 8), []byte("written\n"))
	}, cat(i32c(0), i32c(100), []byte{0x36, 2, 0}, i32c(4), i32c(8), []byte{0x36, 2, 0},
		i32c(1), i32c(0), i32c(1), i32c(16), call(0), []byte{0x1a},
		i32c(1), i32c(0), []byte{0x6d, 0x1a, opEnd})...)
	// Copies 4 KiB (64 units of bulk fuel) twice, then exits with 5.
	bulk := command(func(w *wMod) { w.wasi("proc_exit") },
		cat(i32c(8192), i32c(0), i32c(4096), []byte{0xfc, 10, 0, 0},
			i32c(0), i32c(7), i32c(4096), []byte{0xfc, 11, 0},
			i32c(5), call(0), []byte{opEnd})...)
	grow := command(nil, cat(i32c(1), []byte{0x40, 0, 0x1a}, i32c(1<<20), []byte{0x40, 0, 0x1a, opEnd})...)
	outLim := DefaultLimits()
	outLim.MaxOutputBytes = 150
	depthLim := DefaultLimits()
	depthLim.MaxCallDepth = 50
	mods := map[string]struct {
		m   []byte
		lim Limits
	}{
		"nop":              {command(nil, 0x01, 0x01, opEnd), DefaultLimits()},
		"loop10":           {loop(), DefaultLimits()},
		"unreachable":      {command(nil, 0x00, opEnd), DefaultLimits()},
		"div-zero":         {command(nil, cat(i32c(1), i32c(0), []byte{0x6d, 0x1a, opEnd})...), DefaultLimits()},
		"div-overflow":     {command(nil, cat(i32c(math.MinInt32), i32c(-1), []byte{0x6d, 0x1a, opEnd})...), DefaultLimits()},
		"trunc-nan":        {command(nil, cat(appendF64([]byte{opF64Const}, canonicalNaN64), []byte{0xaa, 0x1a, opEnd})...), DefaultLimits()},
		"memory":           {command(nil, cat(i32c(65536), []byte{0x28, 2, 0, 0x1a, opEnd})...), DefaultLimits()},
		"memory-fill":      {command(nil, cat(i32c(65000), i32c(0), i32c(1000), []byte{0xfc, 11, 0, opEnd})...), DefaultLimits()},
		"indirect-null":    {command(table, cat(i32c(1), []byte{0x11, 0, 0, opEnd})...), DefaultLimits()},
		"indirect-range":   {command(table, cat(i32c(5), []byte{0x11, 0, 0, opEnd})...), DefaultLimits()},
		"indirect-type":    {command(table, cat(i32c(3), i32c(0), []byte{0x11, 1, 0, opEnd})...), DefaultLimits()},
		"depth-ok":         {depth(49), depthLim},
		"depth-exhausted":  {depth(50), depthLim},
		"write64":          {writeModule(64), outLim},
		"write128":         {writeModule(128), outLim},
		"write-over-limit": {writeModule(200), outLim},
		"clock-random":     {clock, DefaultLimits()},
		"write-then-trap":  {writeThenTrap, DefaultLimits()},
		"bulk-exit":        {bulk, DefaultLimits()},
		"grow":             {grow, DefaultLimits()},
	}
	out := map[string]*Program{}
	for name, m := range mods {
		out[name] = mustCheck(t, m.m, m.lim)
	}
	return out
}

// goldenExamples: each example program with fixed inputs, run to the end
// and cut short at points spread over its run.
var goldenExamples = []struct{ prog, input string }{
	{"sha256sum", "The quick brown fox jumps over the lazy dog.\n"},
	{"wordcount", "The quick brown fox jumps over the lazy dog.\nThe dog sleeps; the fox runs!\n"},
	{"primes", "30000"},
	{"primes", "not a number"},
	{"floats", "1 2 3 4 1e300 -0.5"},
	{"sandbox", ""},
	{"spin", ""},
}

func goldenLine(j goldenJob, r Result) string {
	return fmt.Sprintf("%s fuel=%d: used=%d trap=%s exit=%d out=%d hash=%x",
		j.name, j.fuel, r.FuelUsed, r.Trap, r.ExitCode, len(r.Output), ResultHash(r))
}

// TestResultGolden pins the result hash and fuel used of a broad set of
// jobs to what the metering of main 853c5cf gives (testdata/results.golden,
// generated from it). Any change to the metering that moves a single
// result — the fuel of one segment, where a run stops, what a host call
// sees — fails here, on both of wazero's engines.
//
// The example programs are built by the local Go toolchain; the golden
// file names the module each was generated from, and a toolchain that
// builds other bytes skips those entries (logged) instead of failing.
func TestResultGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the examples many times")
	}
	path := filepath.Join("testdata", "results.golden")
	var lines []string
	synth := goldenSynthetic(t)
	for _, name := range sortedKeys(synth) {
		p := synth[name]
		full := runBoth(t, p, nil, 1_000_000, seedA)
		need := full.FuelUsed
		for fuel := uint64(0); fuel <= need+1; fuel++ {
			j := goldenJob{name: name, p: p, fuel: fuel}
			lines = append(lines, goldenLine(j, runBoth(t, p, nil, fuel, seedA)))
		}
	}
	modules := map[string]string{}
	for _, ex := range goldenExamples {
		m := exampleModule(t, ex.prog)
		modules[ex.prog] = fmt.Sprintf("module %s sha256=%x", ex.prog, sha256.Sum256(m))
		p := mustCheck(t, m, DefaultLimits())
		name := fmt.Sprintf("%s(%q)", ex.prog, ex.input)
		limit := uint64(20_000_000)
		if ex.prog == "spin" { // never ends: cut short anyway
			limit = 4_000_000
		}
		full := runBoth(t, p, []byte(ex.input), limit, seedA)
		need := full.FuelUsed
		fuels := []uint64{0, 1, 2, 1000}
		for k := uint64(1); k < 8; k++ {
			fuels = append(fuels, need*k/8)
		}
		fuels = append(fuels, need-1, need, need+1)
		if need < limit {
			fuels = append(fuels, limit)
		}
		for _, fuel := range fuels {
			j := goldenJob{name: name, p: p, input: []byte(ex.input), fuel: fuel}
			lines = append(lines, goldenLine(j, runBoth(t, p, []byte(ex.input), fuel, seedA)))
		}
	}
	for _, prog := range sortedKeys(modules) {
		lines = append(lines, modules[prog])
	}

	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{} // "name fuel=N" -> line
	wantModules := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "module ") {
			wantModules[strings.Fields(l)[1]] = l
			continue
		}
		key, _, _ := strings.Cut(l, ": ")
		want[key] = l
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	skipped := map[string]bool{}
	for prog, l := range modules {
		if wantModules[prog] != l {
			skipped[prog] = true
			t.Logf("examples/%s builds to other bytes with this Go toolchain (%s, golden %q): its entries are not compared", prog, l, wantModules[prog])
		}
	}
	compared := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "module ") {
			continue
		}
		key, _, _ := strings.Cut(l, ": ")
		if prog, _, ok := strings.Cut(key, "("); ok && skipped[prog] {
			continue
		}
		w, ok := want[key]
		if !ok {
			t.Errorf("%s: not in the golden file", key)
			continue
		}
		if w != l {
			t.Errorf("result changed:\n got %s\nwant %s", l, w)
		}
		compared++
	}
	t.Logf("%d results compared", compared)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
