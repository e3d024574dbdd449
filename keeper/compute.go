//go:build !lightkeeper_nocompute

package keeper

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// Compute tasks (docs/design.md §5, docs/compute.md). A keeper process
// keeps one compute.Engine per engine kind for its whole life (compiling a
// Go program takes seconds; the engine caches compiled programs by id) and
// one cache of checked programs, both shared by every keeper of the
// process — a devnet's ten keepers compile each program once.

// ComputeMargin is how long before a task's deadline a compute run is
// stopped (an ABSTAIN): the vote still has to be signed and sent.
const ComputeMargin = time.Second

var (
	enginesMu sync.Mutex
	engines   = map[engineKey]*compute.Engine{}
)

type engineKey struct {
	kind     compute.EngineKind
	cacheDir string
}

// computeEngine returns the process's engine of the given kind and disk
// cache, creating it on first use.
func computeEngine(kind compute.EngineKind, cacheDir string) (*compute.Engine, error) {
	enginesMu.Lock()
	defer enginesMu.Unlock()
	key := engineKey{kind, cacheDir}
	if e := engines[key]; e != nil {
		return e, nil
	}
	// Tiered: a program's first runs go to the interpreter while the
	// compiler works, so a cold program does not spend a round compiling
	// (unless an earlier process left it compiled in cacheDir).
	e, err := compute.NewEngine(context.Background(), compute.EngineConfig{Kind: kind, CacheSize: 16, Tiered: true, CacheDir: cacheDir})
	if err != nil {
		return nil, err
	}
	engines[key] = e
	return e, nil
}

// programs caches checked programs by id and limits. Check is
// deterministic, so one cache serves every keeper of the process.
var programs = newProgramCache(16)

type programKey struct {
	id     compute.ProgramID
	limits compute.Limits
}

type programEntry struct {
	ready chan struct{}
	p     *compute.Program
	err   error
	used  uint64
}

type programCache struct {
	mu      sync.Mutex
	max     int
	tick    uint64
	entries map[programKey]*programEntry
}

func newProgramCache(max int) *programCache {
	return &programCache{max: max, entries: map[programKey]*programEntry{}}
}

// has reports whether the program is checked and cached under limits.
func (c *programCache) has(id compute.ProgramID, limits compute.Limits) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[programKey{id, limits}]
	if !ok {
		return false
	}
	select {
	case <-e.ready:
		return e.err == nil
	default:
		return false
	}
}

// HasProgram reports whether this process has already checked the program
// under these limits, so a compute task needs no module bytes: the keeper
// then does not fetch them (see programLoader).
func (NativeEngine) HasProgram(programID string, limits *lightkeeperv1.ComputeParams) bool {
	id, err := compute.ParseProgramID(programID)
	return err == nil && programs.has(id, compute.Limits(protocol.ComputeLimitsOf(limits)))
}

// ProgramHolder is implemented by engines that keep checked programs: the
// keeper skips fetching a module the engine already holds.
type ProgramHolder interface {
	HasProgram(programID string, limits *lightkeeperv1.ComputeParams) bool
}

// get returns the checked program of module under limits. The module must
// hash to id (it is checked once, when the program is first checked);
// concurrent first calls check once.
func (c *programCache) get(id compute.ProgramID, module []byte, limits compute.Limits) (*compute.Program, error) {
	key := programKey{id, limits}
	c.mu.Lock()
	c.tick++
	if e, ok := c.entries[key]; ok {
		e.used = c.tick
		c.mu.Unlock()
		<-e.ready
		return e.p, e.err
	}
	e := &programEntry{ready: make(chan struct{}), used: c.tick}
	c.entries[key] = e
	if len(c.entries) > c.max {
		var oldest programKey
		var min uint64
		for k, x := range c.entries {
			if x != e && (min == 0 || x.used < min) {
				oldest, min = k, x.used
			}
		}
		delete(c.entries, oldest)
	}
	c.mu.Unlock()

	switch {
	case len(module) == 0:
		e.err = errors.New("program bytes not loaded")
	case compute.ProgramIDOf(module) != id:
		e.err = fmt.Errorf("program bytes hash to %s, not to the program id", compute.ProgramIDOf(module))
	default:
		e.p, e.err = compute.Check(module, limits)
	}
	if e.err != nil {
		// Do not remember failures: the next task may bring the right bytes.
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	close(e.ready)
	return e.p, e.err
}

// PrepareProgram checks module under the chain's compute parameters and
// compiles it in this process's engine of kind, as the first task on it
// would, so that the first task does not spend its round compiling. The
// demo warms its programs this way; any keeper process may.
func PrepareProgram(ctx context.Context, module []byte, params *lightkeeperv1.ComputeParams, kind compute.EngineKind) error {
	p, err := programs.get(compute.ProgramIDOf(module), module, compute.Limits(protocol.ComputeLimitsOf(params)))
	if err != nil {
		return err
	}
	e, err := computeEngine(kind, "")
	if err != nil {
		return err
	}
	return e.Prepare(ctx, p)
}

// checkCompute runs a compute task: check the program (cached), run the job
// with the round id as seed and a wall-clock limit before the deadline, and
// vote on the result — APPROVE for a clean run, REJECT for a deterministic
// trap, ABSTAIN when this keeper could not run it (compute.ErrAbstain, a
// program that cannot be loaded). The leader attaches the output.
func (e NativeEngine) checkCompute(ctx context.Context, t *lightkeeperv1.Task) Verdict {
	c := t.GetCompute()
	id, err := compute.ParseProgramID(c.GetProgramId())
	if err != nil {
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, err.Error())
	}
	p, err := programs.get(id, c.GetProgram(), compute.Limits(protocol.ComputeLimitsOf(c.GetLimits())))
	if err != nil {
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, "program "+c.GetProgramId()[:12]+": "+err.Error())
	}
	eng := e.Compute
	if eng == nil {
		w, err := computeEngine(e.ComputeKind, e.ComputeCacheDir)
		if err != nil {
			return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, err.Error())
		}
		eng = w
	}
	seed, err := hex.DecodeString(t.GetRoundId())
	if err != nil || len(seed) != 32 {
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, "round id is not 32 hex bytes")
	}
	var opts compute.Options
	if d := t.GetDeadline(); d != nil {
		opts.Timeout = time.Until(d.AsTime()) - ComputeMargin
		if opts.Timeout <= 0 {
			return abstain(lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT, "no time left before the round's deadline")
		}
	}
	res, err := eng.Run(ctx, p, c.GetInput(), c.GetFuel(), [32]byte(seed), opts)
	if err != nil {
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_LOCAL_LIMIT, err.Error())
	}
	return ComputeVerdict(res, c.GetLeader())
}

// ComputeVerdict is the vote on a compute result: APPROVE for a clean run,
// REJECT (reason COMPUTE_TRAP) for a trap, with result_hash =
// compute.ResultHash and the result attached; the output bytes only when
// leader. Other keeper hosts that run compute jobs build their verdicts
// with it.
func ComputeVerdict(res compute.Result, leader bool) Verdict {
	oh := compute.OutputHash(res.Output)
	cr := &lightkeeperv1.ComputeResult{OutputHash: oh[:], ExitCode: res.ExitCode, FuelUsed: res.FuelUsed, Trap: uint32(res.Trap)}
	if leader {
		cr.Output = res.Output
	}
	v := Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, ResultHash: compute.ResultHash(res), Compute: cr}
	if res.Trap != compute.TrapNone {
		v.Kind = lightkeeperv1.VoteKind_VOTE_KIND_REJECT
		v.Reason = lightkeeperv1.RejectReason_REJECT_REASON_COMPUTE_TRAP
		v.Detail = "trap " + res.Trap.String()
	}
	return v
}

// ProgramFetcher returns a registered program's module bytes by id.
type ProgramFetcher func(ctx context.Context, id string) ([]byte, error)

// programLoader wraps a keeper's engine: before a compute task reaches the
// engine it fills in the program bytes — unless the engine already holds
// the checked program (ProgramHolder) — fetched once per program (and
// checked against the id) and kept in a small cache, so engines always see
// the module inlined or have it already. Every other task passes through
// untouched.
type programLoader struct {
	Engine
	fetch ProgramFetcher

	mu      sync.Mutex
	modules map[string]*moduleEntry
	tick    uint64
}

type moduleEntry struct {
	ready chan struct{}
	b     []byte
	err   error
	used  uint64
}

// moduleCacheSize bounds the modules a keeper keeps (each up to
// compute.max_module_bytes); engines that hold checked programs need them
// only until the first check.
const moduleCacheSize = 4

func newProgramLoader(inner Engine, fetch ProgramFetcher) *programLoader {
	return &programLoader{Engine: inner, fetch: fetch, modules: map[string]*moduleEntry{}}
}

// Check implements Engine.
func (l *programLoader) Check(ctx context.Context, t *lightkeeperv1.Task) Verdict {
	c := t.GetCompute()
	if c == nil || len(c.GetProgram()) > 0 {
		return l.Engine.Check(ctx, t)
	}
	if h, ok := l.Engine.(ProgramHolder); ok && h.HasProgram(c.GetProgramId(), c.GetLimits()) {
		return l.Engine.Check(ctx, t)
	}
	module, err := l.module(ctx, c.GetProgramId())
	if err != nil {
		return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, "cannot load program "+c.GetProgramId()+": "+err.Error())
	}
	task := &lightkeeperv1.Task{RoundId: t.GetRoundId(), Kind: t.GetKind(), Deadline: t.GetDeadline(),
		Payload: &lightkeeperv1.Task_Compute{Compute: &lightkeeperv1.ComputeTask{
			ProgramId: c.GetProgramId(), Program: module, Input: c.GetInput(), Fuel: c.GetFuel(),
			Leader: c.GetLeader(), Limits: c.GetLimits(),
		}}}
	return l.Engine.Check(ctx, task)
}

// CheckBatch implements BatchEngine when the engine inside does: compute
// tasks go through Check (which loads their programs), the rest to the
// engine's CheckBatch.
func (l *programLoader) CheckBatch(ctx context.Context, ts []*lightkeeperv1.Task) []Verdict {
	out := make([]Verdict, len(ts))
	b, ok := l.Engine.(BatchEngine)
	var (
		rest []*lightkeeperv1.Task
		at   []int
	)
	for i, t := range ts {
		if !ok || t.GetCompute() != nil {
			out[i] = l.Check(ctx, t)
			continue
		}
		rest, at = append(rest, t), append(at, i)
	}
	if len(rest) > 0 {
		for n, v := range b.CheckBatch(ctx, rest) {
			out[at[n]] = v
		}
	}
	return out
}

func (l *programLoader) module(ctx context.Context, id string) ([]byte, error) {
	l.mu.Lock()
	l.tick++
	if e, ok := l.modules[id]; ok {
		e.used = l.tick
		l.mu.Unlock()
		select {
		case <-e.ready:
			return e.b, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e := &moduleEntry{ready: make(chan struct{}), used: l.tick}
	l.modules[id] = e
	if len(l.modules) > moduleCacheSize {
		var oldest string
		var min uint64
		for k, x := range l.modules {
			if x != e && (min == 0 || x.used < min) {
				oldest, min = k, x.used
			}
		}
		delete(l.modules, oldest)
	}
	l.mu.Unlock()

	b, err := l.fetch(ctx, id)
	if err == nil {
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != id {
			err = fmt.Errorf("the coordinator sent %d bytes that do not hash to the program id", len(b))
		}
	}
	e.b, e.err = b, err
	if err != nil {
		l.mu.Lock()
		if l.modules[id] == e {
			delete(l.modules, id)
		}
		l.mu.Unlock()
		e.b = nil
	}
	close(e.ready)
	return e.b, e.err
}
