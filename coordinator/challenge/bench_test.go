package challenge

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/coordinator/challenge/keys"
	"github.com/lightkeeper-net/lightkeeper/devtools/cputime"
)

// Benchmarks for docs/benchmarks.md, "Challenge generation":
//
//	go test -run '^$' -bench . -benchtime 50x ./coordinator/challenge/
//
// Besides ns/op (wall time, what Material.Cost and the pacing measure)
// each reports cpu-ns/op, the process's processor time per material
// (user + system, getrusage): gnark spreads one proof over the cores.

// BenchmarkGenerate makes one material per iteration for each proof label
// and for two compute challenges on examples/primes, with the generator's
// default (compiler) engine: random bytes, which primes refuses (exit 2
// after the Go runtime's start-up), and a limit in 100000..200000 that it
// sieves. The program is compiled once before the timer starts.
func BenchmarkGenerate(b *testing.B) {
	g, err := New(Options{RoundID: testRoundID})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close(context.Background())
	for _, label := range g.Labels() {
		b.Run(label, func(b *testing.B) {
			var proofBytes int
			measure(b, func() {
				m, err := g.Generate(label)
				if err != nil {
					b.Fatal(err)
				}
				proofBytes = len(m.Request.GetProof().GetProof())
			})
			b.ReportMetric(float64(proofBytes), "proof-B")
		})
	}
	p := exampleProgram(b, "primes")
	id := p.ID.String()
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		input InputFunc
	}{
		{"compute/primes/random-24B", RandomBytes(24)},
		{"compute/primes/limit-1e5..2e5", DecimalInput(100000, 200000)},
	} {
		b.Run(c.name, func(b *testing.B) {
			if _, err := g.ComputeWith(ctx, p, id, c.input, 1<<36); err != nil { // compile
				b.Fatal(err)
			}
			var fuel uint64
			measure(b, func() {
				m, err := g.ComputeWith(ctx, p, id, c.input, 1<<36)
				if err != nil {
					b.Fatal(err)
				}
				fuel = m.Compute.GetFuelUsed()
			})
			b.ReportMetric(float64(fuel), "fuel")
		})
	}
}

// BenchmarkSetup sets each default circuit up (compile, setup, the
// self-check proof) and loads it back from a key file.
func BenchmarkSetup(b *testing.B) {
	for _, c := range DefaultCircuits() {
		b.Run(c.Name()+"/setup", func(b *testing.B) {
			measure(b, func() {
				if _, err := New(Options{Circuits: []Circuit{c}}); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(c.Name()+"/load", func(b *testing.B) {
			dir := b.TempDir()
			if _, err := New(Options{Dir: dir, Circuits: []Circuit{c}}); err != nil {
				b.Fatal(err)
			}
			st, err := os.Stat(filepath.Join(dir, fileName(c)))
			if err != nil {
				b.Fatal(err)
			}
			measure(b, func() {
				g, err := New(Options{Dir: dir, Circuits: []Circuit{c}})
				if err != nil || !g.Keys()[0].Loaded {
					b.Fatal("not loaded", err)
				}
			})
			b.ReportMetric(float64(st.Size()), "file-B")
		})
		b.Run(c.Name()+"/load-only", func(b *testing.B) {
			// keys.Load alone, without New's self-check proof.
			f, err := keys.NewFromConfig(keys.Config{Scheme: c.Scheme, Curve: c.Curve})
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			if err := f.Save(&buf); err != nil {
				b.Fatal(err)
			}
			measure(b, func() {
				if _, err := keys.Load(bytes.NewReader(buf.Bytes()), keys.Config{Scheme: c.Scheme, Curve: c.Curve}); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// measure runs f b.N times and reports the process CPU time per run.
func measure(b *testing.B, f func()) {
	b.Helper()
	b.ResetTimer()
	c0 := cputime.Process()
	for range b.N {
		f()
	}
	b.StopTimer()
	if c0 >= 0 {
		b.ReportMetric(float64(cputime.Process()-c0)/float64(b.N), "cpu-ns/op")
	}
}
