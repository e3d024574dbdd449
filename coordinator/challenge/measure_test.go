package challenge

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/devtools/cputime"
)

// measureFor enables TestMeasure, which is not a test: it prints figures
// for docs/benchmarks.md and checks nothing about time.
//
//	go test -run TestMeasure -v ./coordinator/challenge/ -args -challenge.measure 30s
var measureFor = flag.Duration("challenge.measure", 0, "run TestMeasure's fill loops for this long each")

// TestMeasure runs the background loop under two budgets with queues too
// deep to fill, and reports the share of wall time spent producing
// (the pacing's own measure) and the process's processor time; then the
// cost of a program's first compute challenge on the generator's own
// engine, which compiles it.
func TestMeasure(t *testing.T) {
	if *measureFor <= 0 {
		t.Skip("measurement only: -args -challenge.measure 30s")
	}
	for _, b := range []float64{0.10, 0.5} {
		g, err := New(Options{CPUBudget: b, Ahead: 100000})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		w0, c0 := time.Now(), cputime.Process()
		g.Start(ctx)
		time.Sleep(*measureFor)
		cancel()
		<-g.done
		wall, cpu := time.Since(w0), cputime.Process()-c0
		var n uint64
		var cost time.Duration
		for _, s := range g.Stats() {
			n += s.Generated
			cost += s.TotalCost
		}
		t.Logf("budget %.2f: %d materials in %v; sum of Cost %v = %.3f of wall; process CPU %v = %.3f cores",
			b, n, wall.Round(time.Millisecond), cost.Round(time.Millisecond), float64(cost)/float64(wall),
			cpu.Round(time.Millisecond), float64(cpu)/float64(wall))
	}
	p := exampleProgram(t, "primes")
	g, err := New(Options{RoundID: testRoundID, Circuits: DefaultCircuits()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(context.Background())
	for _, what := range []string{"first (compiles)", "second"} {
		c0 := cputime.Process()
		m, err := g.Compute(context.Background(), p, p.ID.String(), 24, 1<<36)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("compute/primes %s: Cost %v, process CPU %v (metered module %d bytes)", what, m.Cost, cputime.Process()-c0, len(p.Metered))
	}
}
