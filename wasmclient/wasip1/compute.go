package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// The compute operation (lk_compute, ../ABI.md): run a deterministic
// compute job with wazero's interpreter inside this instance. Like abi.go,
// no build constraint: the framing, the cache and the time budget are
// unit-tested natively.

// computeHeader is the size of lk_compute's fixed header.
const computeHeader = 128

// computeJob is lk_compute's input, decoded. module and input alias the
// input buffer and are valid for the call only.
type computeJob struct {
	id     compute.ProgramID
	seed   [32]byte
	fuel   uint64
	limits compute.Limits
	// budget is the wall-clock time the host gives the call, in
	// nanoseconds; 0: none.
	budget uint64
	// memoryPages is the instance's memory limit, in 64 KiB pages, as the
	// host configured it; 0: unknown.
	memoryPages uint32
	module      []byte
	input       []byte
}

// decodeCompute parses lk_compute's input. It reads fixed offsets only
// after checking the length, and adds the payload lengths in 64 bits, so
// no input can make it panic or read past in.
//
//	0    program id, SHA-256 of the module (32)
//	32   seed (32)
//	64   u64 fuel
//	72   u64 wall-clock budget, nanoseconds (0: none)
//	80   i64 limits.MaxModuleBytes
//	88   i64 limits.MaxOutputBytes
//	96   u64 limits.MaxFuel
//	104  u32 limits.MaxMemoryPages
//	108  u32 limits.MaxTableElements
//	112  u32 limits.MaxCallDepth
//	116  u32 the instance's memory limit, pages (0: unknown)
//	120  u32 module length M
//	124  u32 input length I
//	128  module (M) || input (I); n = 128+M+I exactly
func decodeCompute(in []byte) (computeJob, error) {
	if len(in) < computeHeader {
		return computeJob{}, fmt.Errorf("input of %d bytes, want at least %d", len(in), computeHeader)
	}
	le := binary.LittleEndian
	m, i := uint64(le.Uint32(in[120:])), uint64(le.Uint32(in[124:]))
	if computeHeader+m+i != uint64(len(in)) {
		return computeJob{}, fmt.Errorf("header says %d+%d payload bytes, input has %d", m, i, len(in)-computeHeader)
	}
	return computeJob{
		id:     compute.ProgramID(in[0:32]),
		seed:   [32]byte(in[32:64]),
		fuel:   le.Uint64(in[64:]),
		budget: le.Uint64(in[72:]),
		// The ints are 64 bits on wasm and travel as their two's
		// complement, so any value, a negative one included, reaches
		// compute.Check exactly as the host had it: unusable limits are
		// refused there, as natively.
		limits: compute.Limits{
			MaxModuleBytes:   int(int64(le.Uint64(in[80:]))),
			MaxOutputBytes:   int(int64(le.Uint64(in[88:]))),
			MaxFuel:          le.Uint64(in[96:]),
			MaxMemoryPages:   le.Uint32(in[104:]),
			MaxTableElements: le.Uint32(in[108:]),
			MaxCallDepth:     le.Uint32(in[112:]),
		},
		memoryPages: le.Uint32(in[116:]),
		module:      in[computeHeader : computeHeader+m : computeHeader+m],
		input:       in[computeHeader+m:],
	}, nil
}

// Memory policy, in shares of the instance's memory limit (the host's
// WithMemoryLimitPages, sent with every job). A wasm instance cannot give
// memory back and dies when it needs more than its limit, so the module
// budgets it rather than let a run fail part-way:
const (
	// guestShare: a program's linear memory may take 1/4 of the limit
	// (compute.Options.MaxMemoryPages). wazero grows it by copying, so
	// the peak is about twice that during a growth.
	guestShare = 4
	// cacheShareNum/cacheShareDen: the checked programs and their
	// compiled code may take 3/8 of it; least recently used programs are
	// dropped beyond that (the newest is always kept).
	cacheShareNum, cacheShareDen = 3, 8
	// gcShareNum/gcShareDen: the Go runtime's soft memory limit
	// (debug.SetMemoryLimit), so that its collector works harder before
	// the heap reaches the instance's hard limit, instead of doubling
	// past it as GOGC alone would.
	gcShareNum, gcShareDen = 3, 4
)

// maxPrograms bounds the programs an instance keeps, whatever their size.
const maxPrograms = 4

// footprintFactor estimates the memory a cached program holds from the
// size of its metered module: the checked program and wazero's
// interpreter-compiled form together took 32 bytes per metered byte for
// each example Go program (measured with runtime.MemStats: primes, 4.6 MB
// metered, 148 MiB; sandbox, 6.8 MB, 217 MiB).
const footprintFactor = 33

// probeFuel is the fuel of the first run of a program on an instance that
// has a deadline and no measured speed for it yet (about 0.2-0.5 s of the
// interpreter here). A run that needs more stops there and is run again
// with the fuel the measured speed allows before the deadline.
const probeFuel = 1 << 20

// minTimed is the shortest run whose speed is measured: shorter ones are
// dominated by the instantiation.
const minTimed = 20 * time.Millisecond

// computeState is an instance's compute machinery, made on its first
// compute call so that instances used only for proofs never pay for it.
type computeState struct {
	// programs holds checked programs, least recently used first.
	programs []*cachedProgram
	// gcLimit is the soft memory limit last set, in bytes.
	gcLimit int64
	// now is the clock; a field so that tests can drive the time budget.
	now func() time.Time
}

// cachedProgram is a checked program with an engine of its own: one
// compiled module per engine, so dropping the program closes its compiled
// code and the memory goes back to the Go heap at once (compute.Engine's
// own cache has no "forget this program" call).
type cachedProgram struct {
	id        compute.ProgramID
	limits    compute.Limits
	p         *compute.Program
	engine    *compute.Engine
	footprint int64
	// rate is the highest speed, in fuel per second, at which this
	// instance ran the program (0: not measured yet).
	rate float64
}

// Errors of program() that are not compute.Check's.
var (
	// errNotOurs: the host sent bytes that are not the program it named,
	// a framing error and never a verdict.
	errNotOurs = errors.New("module bytes do not hash to the program id")
)

// program returns the cached program for the job, checking, compiling and
// caching it on a miss. On a hit the module bytes are not read: the id
// names the program, and the bytes were hashed against it when it was
// cached.
func (s *computeState) program(j *computeJob) (*cachedProgram, error) {
	for k, c := range s.programs {
		if c.id == j.id && c.limits == j.limits {
			s.programs = append(append(s.programs[:k:k], s.programs[k+1:]...), c)
			return c, nil
		}
	}
	if compute.ProgramIDOf(j.module) != j.id {
		return nil, errNotOurs
	}
	p, err := compute.Check(j.module, j.limits)
	if err != nil {
		return nil, &refusal{err}
	}
	e, err := compute.NewEngine(context.Background(), compute.EngineConfig{Kind: compute.EngineInterpreter, CacheSize: 1})
	if err != nil {
		return nil, err
	}
	c := &cachedProgram{id: j.id, limits: j.limits, p: p, engine: e, footprint: footprintFactor * int64(len(p.Metered))}
	// A run with no fuel compiles the program and stops at its first
	// instruction, so that neither the time budget nor the measured speed
	// of the real runs includes the compilation (seconds for a Go
	// program). It also applies this instance's memory budget, which
	// refuses the program before anything is compiled.
	if _, err := e.Run(context.Background(), p, nil, 0, j.seed, s.options(j)); err != nil {
		e.Close(context.Background())
		return nil, err
	}
	s.programs = append(s.programs, c)
	s.evict(j.memoryPages)
	return c, nil
}

// refusal is compute.Check's error: the program is refused, which the host
// reports apart from a run without a result.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// evict drops least recently used programs beyond maxPrograms or beyond
// the cache's share of the instance's memory, always keeping the newest.
func (s *computeState) evict(memoryPages uint32) {
	budget := int64(math.MaxInt64)
	if memoryPages > 0 {
		budget = int64(memoryPages) << 16 * cacheShareNum / cacheShareDen
	}
	var total int64
	for _, c := range s.programs {
		total += c.footprint
	}
	for len(s.programs) > 1 && (len(s.programs) > maxPrograms || total > budget) {
		c := s.programs[0]
		s.programs = s.programs[1:]
		total -= c.footprint
		c.engine.Close(context.Background())
	}
}

// options are the run's local settings: the memory budget of one program.
func (s *computeState) options(j *computeJob) compute.Options {
	if j.memoryPages == 0 {
		return compute.Options{}
	}
	return compute.Options{MaxMemoryPages: max(1, j.memoryPages/guestShare)}
}

// setGCLimit keeps the Go runtime's soft memory limit at its share of the
// instance's memory limit.
func (s *computeState) setGCLimit(memoryPages uint32) {
	if memoryPages == 0 {
		return
	}
	limit := int64(memoryPages) << 16 * gcShareNum / gcShareDen
	if limit != s.gcLimit {
		debug.SetMemoryLimit(limit)
		s.gcLimit = limit
	}
}

// errWallClock: the job could not finish before the host's deadline.
var errWallClock = errors.New("wall-clock limit")

// run runs the job within its wall-clock budget, and returns the result
// the native engine returns, or an error wrapping compute.ErrAbstain.
//
// Nothing can interrupt the interpreter here: a wasip1 module's Go runtime
// has one thread and no preemption, so no timer (and no context deadline)
// fires while a run is under way, and the host could only stop the
// instance by compiling the whole module with wazero's termination checks,
// which made it six times slower. The deadline is kept with fuel instead.
// A run with less fuel than the job's behaves exactly as the job until
// that fuel runs out (the fuel used, the clocks and every charge are
// counted from the start and compare the same way), so a run that ends
// within its smaller fuel has the job's result, and one that runs out of
// it is no result. Each run gets the fuel this instance can burn before
// the deadline at the speed measured on earlier runs of the program (the
// first, with no speed yet, gets probeFuel), and one that runs out of it
// is run again with more fuel while the measured speed says it can still
// finish; otherwise the instance abstains. A run may thus overrun the
// deadline by as much as the speed varies within the program.
func (s *computeState) run(c *cachedProgram, j *computeJob, start time.Time) (compute.Result, error) {
	opts := s.options(j)
	run := func(fuel uint64) (compute.Result, error) {
		t := s.now()
		res, err := c.engine.Run(context.Background(), c.p, j.input, fuel, j.seed, opts)
		if d := s.now().Sub(t); err == nil && d >= minTimed {
			c.rate = max(c.rate, float64(res.FuelUsed)/d.Seconds())
		}
		return res, err
	}
	if j.budget == 0 || j.fuel == 0 || j.fuel > c.p.Limits.MaxFuel {
		// No deadline, nothing to run, or a job the engine refuses as it
		// does natively.
		return run(j.fuel)
	}
	budget := time.Duration(min(j.budget, math.MaxInt64))
	deadline := start.Add(budget)
	var tried uint64
	for {
		left := deadline.Sub(s.now())
		var fuel uint64
		switch {
		case c.rate > 0:
			fuel = min(j.fuel, uint64(min(c.rate*left.Seconds(), float64(math.MaxUint64/2))))
		case tried > 0:
			// The last run was too short to time: try twice as far.
			fuel = min(j.fuel, 2*tried)
		default:
			fuel = min(j.fuel, probeFuel)
		}
		if left <= 0 || fuel <= tried {
			return compute.Result{}, fmt.Errorf("%w: %w: the job's %d fuel will not run here within %v of its start (%.0f fuel/s measured, %d fuel run)",
				compute.ErrAbstain, errWallClock, j.fuel, budget, c.rate, tried)
		}
		res, err := run(fuel)
		if err != nil || res.Trap != compute.TrapOutOfFuel || fuel == j.fuel {
			return res, err
		}
		tried = fuel
	}
}

// compute runs the job in the first n input bytes.
//
// Output on statusOK, the compute.Result: u32 trap, u32 exit code, u64
// fuel used, then the output bytes. A refused program is
// statusProgramRefused and a run without a result (compute.ErrAbstain)
// statusAbstain, each with the error's text; the instance stays usable.
func (m *module) compute(n uint32) (status int32) {
	defer m.guard(&status)
	if m.cs == nil {
		m.cs = &computeState{now: time.Now}
	}
	start := m.cs.now()
	in, ok := m.payload(n, computeHeader)
	if !ok {
		return m.fail(statusBadInput, "compute: input of %d bytes, want at least %d within the %d-byte buffer", n, computeHeader, len(m.in))
	}
	j, err := decodeCompute(in)
	if err != nil {
		return m.fail(statusBadInput, "compute: %v", err)
	}
	m.cs.setGCLimit(j.memoryPages)
	c, err := m.cs.program(&j)
	var ref *refusal
	switch {
	case errors.Is(err, errNotOurs):
		return m.fail(statusBadInput, "compute: %v", err)
	case errors.As(err, &ref):
		return m.fail(statusProgramRefused, "%v", err)
	case err != nil:
		return m.fail(statusAbstain, "%v", err)
	}
	res, err := m.cs.run(c, &j, start)
	if err != nil {
		return m.fail(statusAbstain, "%v", err)
	}
	le := binary.LittleEndian
	out := le.AppendUint32(m.out[:0], uint32(res.Trap))
	out = le.AppendUint32(out, res.ExitCode)
	out = le.AppendUint64(out, res.FuelUsed)
	m.out = append(out, res.Output...)
	return statusOK
}
