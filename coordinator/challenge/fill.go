package challenge

import (
	"context"
	"math"
	"time"
)

// The background fill loop and its pacing.
//
// The loop makes one material at a time for the label with the fewest
// ready (round robin among equals), and after each rests so that its busy
// time over wall time stays at most the CPU budget: an item that took
// cost is followed by cost×(1/budget − 1) of rest. Work done outside the
// loop (Generate, Compute) is the same kind of work on the same machine, so
// it is added to a debt that the loop repays by resting debt/budget more;
// time the loop spends idle with every queue full repays debt too (idle
// wall time w allows w×budget of work). Costs are wall times: gnark
// spreads one proof over several cores, so the processor time a small
// proof takes is somewhat more (docs/benchmarks.md, "Challenge
// generation", has the measured ratio).

// maxPause bounds a single rest, so that a huge measured cost (a machine
// suspended mid-proof) or a tiny budget cannot stop the loop for days.
const maxPause = time.Hour

// errorPause is the least rest after a failed attempt, so that a
// persistent failure does not spin.
const errorPause = time.Second

// pause is how long the loop rests after an item that took cost, with
// debt of work done elsewhere to repay, under budget (a fraction of one
// core in (0, 1]). An invalid budget rests maxPause: never run unpaced.
func pause(cost, debt time.Duration, budget float64) time.Duration {
	if math.IsNaN(budget) || budget <= 0 {
		return maxPause
	}
	cost, debt = max(cost, 0), max(debt, 0)
	d := float64(cost)*(1/budget-1) + float64(debt)/budget
	if d >= float64(maxPause) {
		return maxPause
	}
	return time.Duration(max(d, 0))
}

// repay is what is left of debt after the loop was idle for idle under
// budget.
func repay(debt, idle time.Duration, budget float64) time.Duration {
	if math.IsNaN(budget) || budget <= 0 || idle <= 0 {
		return max(debt, 0)
	}
	paid := float64(idle) * min(budget, 1)
	if paid >= float64(debt) {
		return 0
	}
	return debt - time.Duration(paid)
}

// Start fills the ready queues in the background, within the CPU budget,
// until ctx is done; it returns at once. Calling it while a fill loop runs
// does nothing.
func (g *Generator) Start(ctx context.Context) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running {
		return
	}
	g.running = true
	g.done = make(chan struct{})
	go g.fill(ctx, g.done)
}

func (g *Generator) fill(ctx context.Context, done chan struct{}) {
	defer func() {
		g.mu.Lock()
		g.running = false
		g.mu.Unlock()
		close(done)
	}()
	budget := g.opts.CPUBudget
	for ctx.Err() == nil {
		l := g.nextLabel()
		if l == nil {
			idle := time.Now()
			select {
			case <-ctx.Done():
				return
			case <-g.kick:
			}
			g.mu.Lock()
			g.debt = repay(g.debt, time.Since(idle), budget)
			g.mu.Unlock()
			continue
		}
		m, err := g.produce(l)
		g.mu.Lock()
		if err == nil && len(l.queue) < g.opts.Ahead {
			l.queue = append(l.queue, m)
		}
		debt := g.debt
		g.debt = 0
		g.mu.Unlock()
		rest := pause(m.Cost, debt, budget)
		if err != nil {
			rest = max(rest, errorPause)
		}
		if !sleep(ctx, rest) {
			return
		}
	}
}

// nextLabel returns the label with the fewest ready materials below
// Ahead, taking turns among equals; nil when every queue is full.
func (g *Generator) nextLabel() *label {
	g.mu.Lock()
	defer g.mu.Unlock()
	var best *label
	bestAt := 0
	for k := range g.labels {
		i := (g.next + k) % len(g.labels)
		l := g.labels[i]
		if len(l.queue) < g.opts.Ahead && (best == nil || len(l.queue) < len(best.queue)) {
			best, bestAt = l, i
		}
	}
	if best != nil {
		g.next = bestAt + 1
	}
	return best
}

// sleep waits d or until ctx is done; false if ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
