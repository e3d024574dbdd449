package keeper

import (
	"context"
	"sync"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// TimedEngine wraps an Engine and sums how long its checks take by kind
// ("groth16/bn254", "compute", …), so WebAssembly hosts can show what
// verification costs them. Where the platform's clock only moves across
// I/O (deployed Cloudflare workers), the sums read 0.
type TimedEngine struct {
	inner  Engine
	suffix string
	mu     sync.Mutex
	by     map[string]*CheckTiming
}

// CheckTiming sums the checks of one kind.
type CheckTiming struct {
	Count   int64   `json:"count"`
	TotalMs float64 `json:"totalMs"`
	MinMs   float64 `json:"minMs"`
	MaxMs   float64 `json:"maxMs"`
	LastMs  float64 `json:"lastMs"`
}

// NewTimedEngine wraps inner; suffix is appended to its name ("+js").
func NewTimedEngine(inner Engine, suffix string) *TimedEngine {
	return &TimedEngine{inner: inner, suffix: suffix, by: map[string]*CheckTiming{}}
}

// Name implements Engine.
func (e *TimedEngine) Name() string { return e.inner.Name() + e.suffix }

// Check implements Engine.
func (e *TimedEngine) Check(ctx context.Context, t *lightkeeperv1.Task) Verdict {
	start := time.Now()
	v := e.inner.Check(ctx, t)
	e.record(t, v, float64(time.Since(start).Microseconds())/1000)
	return v
}

// CheckBatch implements BatchEngine: the inner engine's CheckBatch when it
// has one (each task is timed as its share of the batch), else Check on
// each task.
func (e *TimedEngine) CheckBatch(ctx context.Context, ts []*lightkeeperv1.Task) []Verdict {
	b, ok := e.inner.(BatchEngine)
	if !ok {
		out := make([]Verdict, len(ts))
		for i, t := range ts {
			out[i] = e.Check(ctx, t)
		}
		return out
	}
	start := time.Now()
	out := b.CheckBatch(ctx, ts)
	share := float64(time.Since(start).Microseconds()) / 1000 / float64(max(1, len(ts)))
	for i, t := range ts {
		e.record(t, out[i], share)
	}
	return out
}

func (e *TimedEngine) record(t *lightkeeperv1.Task, v Verdict, ms float64) {
	name := "other"
	switch {
	case t.GetProof() != nil:
		p := t.GetProof()
		name = verifier.Scheme(p.GetScheme()).String() + "/" + verifier.Curve(p.GetCurve()).String()
	case t.GetCompute() != nil:
		name = "compute"
	}
	// Approvals are full verifications; a rejection may stop at parsing,
	// so it is timed apart to keep the per-proof figure honest.
	if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_APPROVE {
		name += "/not-approved"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.by[name]
	if c == nil {
		c = &CheckTiming{MinMs: ms}
		e.by[name] = c
	}
	c.Count++
	c.TotalMs += ms
	c.MinMs, c.MaxMs, c.LastMs = min(c.MinMs, ms), max(c.MaxMs, ms), ms
}

// Snapshot returns a copy of the sums.
func (e *TimedEngine) Snapshot() map[string]CheckTiming {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]CheckTiming, len(e.by))
	for k, v := range e.by {
		out[k] = *v
	}
	return out
}
