package compute

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
)

// benchWorkloads are compute-heavy inputs, so that the Go runtime's
// start-up (about 1.5 million fuel) does not dominate.
func benchWorkloads() []struct {
	name, prog string
	input      []byte
} {
	words := strings.Repeat("the quick brown fox jumps over the lazy dog 42 times\n", 5000)
	nums := strings.Repeat("3.14159 2.71828 1.41421 -0.5 1e10 ", 4000)
	return []struct {
		name, prog string
		input      []byte
	}{
		{"sha256-1MiB", "sha256sum", bytes.Repeat([]byte("lightkeeper"), 1<<20/11)},
		{"primes-2M", "primes", []byte("2000000")},
		{"wordcount-260KB", "wordcount", []byte(words)},
		{"floats-20k", "floats", []byte(nums)},
	}
}

type fakeGlobal struct{ v uint64 }

func (g *fakeGlobal) Get() uint64  { return g.v }
func (g *fakeGlobal) Set(v uint64) { g.v = v }

// runUnmetered runs the original module under the same host, for the
// metering overhead figures.
func runUnmetered(b *testing.B, e *Engine, cm wazero.CompiledModule, input []byte) Result {
	ctx := context.Background()
	h := NewHost(input, 1<<62, seedA, 64<<10, &fakeGlobal{1 << 62}, nil)
	ctx = context.WithValue(ctx, hostKey{}, h)
	mod, err := e.rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		b.Fatal(err)
	}
	defer mod.Close(ctx)
	_, err = mod.ExportedFunction("_start").Call(ctx)
	if stopped, _, _ := h.Stopped(); err != nil && !stopped {
		b.Fatal(err)
	}
	return Result{Output: h.Output()}
}

// BenchmarkRun: each example workload, metered and unmetered, on wazero's
// compiler and interpreter (compilation excluded: it is cached).
func BenchmarkRun(b *testing.B) {
	for _, w := range benchWorkloads() {
		module := exampleModule(b, w.prog)
		p := mustCheck(b, module, DefaultLimits())
		for _, k := range []EngineKind{EngineCompiler, EngineInterpreter} {
			e := testEngines(b)[k]
			if e == nil {
				continue
			}
			b.Run(fmt.Sprintf("%s/%v/metered", w.name, k), func(b *testing.B) {
				// Warm the engine's cache: compilation is measured apart.
				r, err := e.Run(context.Background(), p, w.input, DefaultLimits().MaxFuel, seedA, Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					var err error
					if r, err = e.Run(context.Background(), p, w.input, DefaultLimits().MaxFuel, seedA, Options{}); err != nil || r.Trap != TrapNone {
						b.Fatalf("%v %v", r, err)
					}
				}
				b.ReportMetric(float64(r.FuelUsed), "fuel/op")
			})
			b.Run(fmt.Sprintf("%s/%v/unmetered", w.name, k), func(b *testing.B) {
				cm, err := e.rt.CompileModule(context.Background(), module)
				if err != nil {
					b.Fatal(err)
				}
				defer cm.Close(context.Background())
				want, err := e.Run(context.Background(), p, w.input, DefaultLimits().MaxFuel, seedA, Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					// floats prints NaN bits, which differ unmetered: that is the point.
					if r := runUnmetered(b, e, cm, w.input); w.prog != "floats" && !bytes.Equal(r.Output, want.Output) {
						b.Fatalf("unmetered output %q differs from metered %q", r.Output, want.Output)
					}
				}
			})
		}
	}
}

// BenchmarkCheck: registration (decode, policy, metering, wazero
// validation) per module; MB/s is per MB of the registered module.
func BenchmarkCheck(b *testing.B) {
	module := exampleModule(b, "sha256sum")
	b.SetBytes(int64(len(module)))
	for i := 0; i < b.N; i++ {
		if _, err := Check(module, DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInstrument: the metering alone.
func BenchmarkInstrument(b *testing.B) {
	module := exampleModule(b, "sha256sum")
	b.SetBytes(int64(len(module)))
	for i := 0; i < b.N; i++ {
		if _, err := Instrument(module); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile: wazero's compilation of the metered and unmetered
// module, which the engine cache pays once per program.
func BenchmarkCompile(b *testing.B) {
	module := exampleModule(b, "sha256sum")
	p := mustCheck(b, module, DefaultLimits())
	for _, k := range []EngineKind{EngineCompiler, EngineInterpreter} {
		e := testEngines(b)[k]
		if e == nil {
			continue
		}
		for _, v := range []struct {
			name string
			b    []byte
		}{{"metered", p.Metered}, {"unmetered", module}} {
			b.Run(fmt.Sprintf("%v/%s", k, v.name), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					cm, err := e.rt.CompileModule(context.Background(), v.b)
					if err != nil {
						b.Fatal(err)
					}
					_ = cm.Close(context.Background())
				}
			})
		}
	}
}

// BenchmarkFirstRun: a fresh engine's first run of a Go program (sha256sum
// on a short input), as after a keeper restart: the compiler with an
// empty disk cache (compiles), the compiler with a warm one (loads), the
// interpreter alone, and a tiered engine with an empty disk cache (its
// first run on the interpreter while the compiler compiles beside it, on
// the same cores: what a keeper's first run costs).
func BenchmarkFirstRun(b *testing.B) {
	p := mustCheck(b, exampleModule(b, "sha256sum"), DefaultLimits())
	input := []byte("The quick brown fox jumps over the lazy dog.\n")
	warm := b.TempDir()
	first := func(b *testing.B, cfg EngineConfig) {
		e, err := NewEngine(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close(context.Background())
		if r, err := e.Run(context.Background(), p, input, DefaultLimits().MaxFuel, seedA, Options{}); err != nil || r.Trap != TrapNone {
			b.Fatalf("%v %v", r, err)
		}
	}
	first(b, EngineConfig{Kind: EngineCompiler, CacheDir: warm}) // fills warm
	b.Run("compiler/cold-disk-cache", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			first(b, EngineConfig{Kind: EngineCompiler, CacheDir: b.TempDir()})
		}
	})
	b.Run("compiler/warm-disk-cache", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			first(b, EngineConfig{Kind: EngineCompiler, CacheDir: warm})
		}
	})
	b.Run("interpreter", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			first(b, EngineConfig{Kind: EngineInterpreter})
		}
	})
	b.Run("tiered/cold-disk-cache", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			e, err := NewEngine(context.Background(), EngineConfig{Kind: EngineCompiler, Tiered: true, CacheDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			if r, err := e.Run(context.Background(), p, input, DefaultLimits().MaxFuel, seedA, Options{}); err != nil || r.Trap != TrapNone {
				b.Fatalf("%v %v", r, err)
			}
			// Closing waits for the abandoned background compile: not the run's cost.
			b.StopTimer()
			if s := e.Stats(); s.InterpreterRuns != 1 || s.CompilerRuns != 0 {
				b.Fatalf("first run of a tiered engine: %+v, want one interpreter run", s)
			}
			_ = e.Close(context.Background())
			b.StartTimer()
		}
	})
}
