package compute

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// EngineKind selects wazero's execution engine. Both run the same metered
// module and give byte-identical results; the compiler is faster, the
// interpreter runs everywhere Go runs (js/wasm, wasip1/wasm).
type EngineKind uint8

const (
	// EngineAuto is the compiler where wazero supports it, else the
	// interpreter.
	EngineAuto EngineKind = iota
	EngineCompiler
	EngineInterpreter
)

func (k EngineKind) String() string {
	switch k {
	case EngineCompiler:
		return "compiler"
	case EngineInterpreter:
		return "interpreter"
	}
	return "auto"
}

// EngineConfig configures an Engine.
type EngineConfig struct {
	Kind EngineKind
	// CacheSize is how many compiled programs the engine keeps (least
	// recently used first out). Zero means 16.
	CacheSize int
	// Tiered (compiler only): a run whose program is not compiled yet runs
	// on wazero's interpreter, which compiles a Go program in a fraction
	// of a second, while the compiler compiles it in the background for
	// later runs. Results are byte-identical on both (the metering is in
	// the module), so which tier ran is never visible in a result. Without
	// it a first run waits for the compiler, seconds for a Go program.
	Tiered bool
	// BackgroundCompileTimeout bounds a tiered engine's background
	// compile, which no run waits for; zero means one minute. A compile
	// still running then is abandoned (its program keeps running on the
	// interpreter).
	BackgroundCompileTimeout time.Duration
	// CacheDir (compiler only): a directory where compiled programs are
	// kept across restarts (wazero's compilation cache), so that a
	// restarted keeper runs a program it compiled before on the compiler
	// at once — a tiered engine uses the compiler from a program's first
	// run when its code is on disk. Empty: compiled code lives in memory
	// only. The cache never changes a result (the compiled code is
	// wazero's, keyed by the exact module bytes), and a directory that
	// cannot be used — unwritable, corrupt files — only costs a compile:
	// the engine logs it and compiles without the cache.
	CacheDir string
	// Logger receives the cache's warnings; nil: slog.Default().
	Logger *slog.Logger
}

// EngineStats counts runs by the tier that executed them.
type EngineStats struct {
	CompilerRuns    uint64
	InterpreterRuns uint64
}

// Engine runs programs under wazero. It keeps one compiled module per
// program (keyed by program id) and reuses it across runs; it is safe for
// concurrent use, and runs do not share any state but the compiled code.
type Engine struct {
	kind    EngineKind
	rt      wazero.Runtime
	maxSize int
	log     *slog.Logger

	// Disk cache (EngineConfig.CacheDir): the cache behind rt, the
	// directory of markers naming the programs compiled into it, and the
	// runtime without cache that compiles when the cache fails (created
	// on first need).
	disk       wazero.CompilationCache
	markersDir string
	diskWait   time.Duration
	plainMu    sync.Mutex
	plain      wazero.Runtime

	compilerRuns, interpreterRuns atomic.Uint64

	mu     sync.Mutex
	cache  map[ProgramID]*cacheEntry
	tick   uint64
	closed bool
	// compiles counts compile goroutines: Close waits for them (cancelled,
	// they stop at the next function) before closing the runtimes, which
	// wazero does not allow under a CompileModule in flight.
	compiles sync.WaitGroup

	// Tiering (EngineConfig.Tiered): the interpreter that runs programs
	// the compiler has not finished, and one background compile at a time
	// (a keeper's cores are for runs; a program whose turn did not come
	// is compiled on a later run).
	tier      *Engine
	bgBusy    chan struct{}
	bgTimeout time.Duration
	bgCtx     context.Context
	bgStop    context.CancelFunc
}

type cacheEntry struct {
	metered [32]byte
	ready   chan struct{}
	cancel  context.CancelFunc // abandons the compile (between functions)
	rt      wazero.Runtime     // the runtime cm was compiled in
	cm      wazero.CompiledModule
	err     error
	refs    int // runs holding or waiting for the entry
	lastUse uint64
	evicted bool
}

// compileWorkers is how many goroutines wazero's compiler uses per module.
// Two, not one, because only its parallel path checks the context between
// functions (wazero v1.12.0, internal/engine/wazevo/engine.go): with one
// worker a compile can never be abandoned. Inside one function nothing
// checks it, so the compile-complexity limits (limits.go) bound how long an
// abandoned compile goes on.
const compileWorkers = 2

type hostKey struct{}

// errStop unwinds the guest when a host function ends the run; Run reads
// the outcome from the Host.
var errStop = errors.New("compute: run stopped by the host")

// NewEngine starts a wazero runtime with the deterministic WASI host.
func NewEngine(ctx context.Context, cfg EngineConfig) (*Engine, error) {
	var rc wazero.RuntimeConfig
	kind := cfg.Kind
	switch kind {
	case EngineAuto:
		// wazero picks (it also checks CPU features and executable mmap);
		// Kind reports what it will have picked on any sane machine.
		rc = wazero.NewRuntimeConfig()
		kind = EngineInterpreter
		if compilerSupported() {
			kind = EngineCompiler
		}
	case EngineCompiler:
		if !compilerSupported() {
			return nil, fmt.Errorf("compute: wazero's compiler does not run on %s/%s", runtime.GOOS, runtime.GOARCH)
		}
		rc = wazero.NewRuntimeConfigCompiler()
	case EngineInterpreter:
		rc = wazero.NewRuntimeConfigInterpreter()
	default:
		return nil, fmt.Errorf("compute: unknown engine kind %d", cfg.Kind)
	}
	rc = runtimeConfig(rc)
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	var disk wazero.CompilationCache
	var markers string
	if cfg.CacheDir != "" && kind == EngineCompiler {
		disk, markers = openDiskCache(cfg.CacheDir, log)
		if disk != nil {
			rc = rc.WithCompilationCache(disk)
		}
	}
	rt, err := newRuntime(ctx, rc)
	if err != nil {
		if disk != nil {
			_ = disk.Close(ctx)
		}
		return nil, err
	}
	size := cfg.CacheSize
	if size <= 0 {
		size = 16
	}
	e := &Engine{kind: kind, rt: rt, maxSize: size, log: log, disk: disk, markersDir: markers, diskWait: diskLoadWait, cache: map[ProgramID]*cacheEntry{}}
	if cfg.Tiered && kind == EngineCompiler {
		if e.tier, err = NewEngine(ctx, EngineConfig{Kind: EngineInterpreter, CacheSize: size}); err != nil {
			_ = e.Close(ctx)
			return nil, err
		}
		e.bgBusy = make(chan struct{}, 1)
		e.bgTimeout = cmp.Or(cfg.BackgroundCompileTimeout, time.Minute)
		e.bgCtx, e.bgStop = context.WithCancel(context.Background())
	}
	return e, nil
}

// runtimeConfig is the configuration every engine's runtime shares.
// CloseOnContextDone makes the wall-clock limit (a context deadline)
// interrupt a running program; that is an abstain, never a result.
func runtimeConfig(rc wazero.RuntimeConfig) wazero.RuntimeConfig {
	return rc.WithCoreFeatures(wazeroFeatures).
		WithCloseOnContextDone(true).
		WithCustomSections(false).
		WithDebugInfoEnabled(false)
}

func newRuntime(ctx context.Context, rc wazero.RuntimeConfig) (wazero.Runtime, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if err := instantiateHost(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	return rt, nil
}

// Kind is the engine actually in use (never EngineAuto).
func (e *Engine) Kind() EngineKind { return e.kind }

// Stats counts this engine's runs by tier (a tiered engine's include its
// interpreter's).
func (e *Engine) Stats() EngineStats {
	s := EngineStats{CompilerRuns: e.compilerRuns.Load(), InterpreterRuns: e.interpreterRuns.Load()}
	if e.tier != nil {
		t := e.tier.Stats()
		s.CompilerRuns += t.CompilerRuns
		s.InterpreterRuns += t.InterpreterRuns
	}
	return s
}

// Close releases the runtime and every compiled program.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	for _, ent := range e.cache {
		ent.cancel() // abandons compiles still running; no-op for the rest
	}
	e.cache = map[ProgramID]*cacheEntry{}
	e.mu.Unlock()
	if e.tier != nil {
		e.bgStop()
		_ = e.tier.Close(ctx)
	}
	e.compiles.Wait()
	err := e.rt.Close(ctx)
	e.plainMu.Lock()
	if e.plain != nil {
		_ = e.plain.Close(ctx)
	}
	e.plainMu.Unlock()
	if e.disk != nil {
		_ = e.disk.Close(ctx)
	}
	return err
}

func instantiateHost(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(WASIModule)
	for _, name := range WASIFunctions() {
		f := wasiFuncs[name]
		name := name
		nParams := len(f.params)
		fn := api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			h, _ := ctx.Value(hostKey{}).(*Host)
			if h == nil {
				panic(errStop) // not one of our runs
			}
			res, stop := h.Call(name, mod.Memory(), stack[:nParams])
			if stop {
				panic(errStop)
			}
			copy(stack, res)
		})
		b.NewFunctionBuilder().WithGoModuleFunction(fn, valueTypes(f.params), valueTypes(f.results)).Export(name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

func valueTypes(v []byte) []api.ValueType {
	out := make([]api.ValueType, len(v))
	for i, t := range v {
		out[i] = api.ValueType(t) // the binary encodings coincide
	}
	return out
}

// Options are a keeper's local settings for one run. None of them changes
// a Result: hitting a local limit makes Run return an ErrAbstain error.
type Options struct {
	// Engine runs the job; nil makes Run start a temporary engine of Kind
	// (which compiles the program for this run only).
	Engine *Engine
	Kind   EngineKind
	// Timeout is the wall-clock limit (zero: only ctx's deadline).
	Timeout time.Duration
	// MaxMemoryPages is the memory this keeper is willing to give one run;
	// a program whose maximum is larger is not run (abstain). Zero: no
	// local limit beyond the consensus one.
	MaxMemoryPages uint32
	// Stderr receives what the program writes to fd 2 (debugging only).
	Stderr io.Writer
}

// Run executes p on input with the given fuel and seed (the round id) and
// returns the deterministic result. A non-nil error means no result: the
// keeper abstains (errors.Is(err, ErrAbstain)).
func Run(ctx context.Context, p *Program, input []byte, fuel uint64, seed [32]byte, opts Options) (Result, error) {
	if opts.Engine != nil {
		return opts.Engine.Run(ctx, p, input, fuel, seed, opts)
	}
	e, err := NewEngine(ctx, EngineConfig{Kind: opts.Kind, CacheSize: 1})
	if err != nil {
		return Result{}, abstain("engine", err)
	}
	defer e.Close(ctx)
	return e.Run(ctx, p, input, fuel, seed, opts)
}

// Run is the package-level Run on this engine (opts.Engine is ignored).
func (e *Engine) Run(ctx context.Context, p *Program, input []byte, fuel uint64, seed [32]byte, opts Options) (Result, error) {
	if p == nil || len(p.Metered) == 0 {
		return Result{}, abstain("no program", ErrBadRequest)
	}
	if fuel > p.Limits.MaxFuel {
		return Result{}, abstain(fmt.Sprintf("fuel %d over the limit %d", fuel, p.Limits.MaxFuel), ErrBadRequest)
	}
	if opts.MaxMemoryPages > 0 && p.MaxMemoryPages > opts.MaxMemoryPages {
		return Result{}, abstain(fmt.Sprintf("program may use %d memory pages, this keeper gives %d", p.MaxMemoryPages, opts.MaxMemoryPages), nil)
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	var ent *cacheEntry
	var err error
	if e.tier != nil {
		if ent = e.ready(p); ent == nil && e.onDisk(p) {
			// Compiled by an earlier process: loading it is quick, and a
			// failure or a slow load only sends the run to the interpreter.
			lctx, cancel := context.WithTimeout(ctx, e.diskWait)
			ent, err = e.compiled(lctx, p)
			cancel()
			if err != nil && ctx.Err() == nil {
				ent, err = nil, nil
			}
		}
		if ent == nil && err == nil {
			e.compileInBackground(p)
			return e.tier.Run(ctx, p, input, fuel, seed, opts)
		}
	} else {
		ent, err = e.compiled(ctx, p)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, abstain("wall-clock limit while compiling", err)
		}
		return Result{}, abstain("compile", err)
	}
	defer e.release(ent)

	h := NewHost(input, fuel, seed, p.Limits.MaxOutputBytes, nil, opts.Stderr)
	ctx = context.WithValue(ctx, hostKey{}, h)
	mod, err := ent.rt.InstantiateModule(ctx, ent.cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return Result{}, abstain("instantiate", err)
	}
	if e.kind == EngineCompiler {
		e.compilerRuns.Add(1)
	} else {
		e.interpreterRuns.Add(1)
	}
	defer mod.Close(context.Background())
	fuelG, ok1 := mod.ExportedGlobal(ExportFuel).(api.MutableGlobal)
	depthG, ok2 := mod.ExportedGlobal(ExportDepth).(api.MutableGlobal)
	start := mod.ExportedFunction("_start")
	if !ok1 || !ok2 || start == nil {
		return Result{}, abstain("metered module lacks its exports", nil)
	}
	fuelG.Set(fuel)
	depthG.Set(uint64(p.Limits.MaxCallDepth))
	h.fuel = fuelG

	_, callErr := start.Call(ctx)
	res := Result{Output: append([]byte(nil), h.out...)}
	remaining := int64(fuelG.Get())
	res.FuelUsed = fuel - uint64(max(remaining, 0))

	if stopped, code, trap := h.Stopped(); stopped {
		res.ExitCode, res.Trap = code, trap
		if trap == TrapOutOfFuel {
			res.FuelUsed = fuel
		}
		return res, nil
	}
	if callErr == nil {
		if remaining < 0 {
			// Returned between two fuel checks (wasmcheck/instrument.go).
			res.Trap, res.FuelUsed = TrapOutOfFuel, fuel
		}
		return res, nil
	}
	if ctx.Err() != nil {
		return Result{}, abstain("wall-clock limit", ctx.Err())
	}
	var exit *sys.ExitError
	if errors.As(callErr, &exit) {
		// Only the context can close the module from outside the guest.
		return Result{}, abstain("module closed", callErr)
	}
	switch {
	case remaining < 0:
		res.Trap, res.FuelUsed = TrapOutOfFuel, fuel
	case int32(depthG.Get()) < 0:
		res.Trap = TrapStackExhausted
	default:
		kind, ok := engineTrap(callErr)
		if !ok {
			return Result{}, abstain("engine", callErr)
		}
		res.Trap = kind
	}
	return res, nil
}

// Prepare compiles p into the engine's cache without running it, so that a
// later Run does not spend its wall-clock limit compiling (a keeper that
// knows which programs are coming warms them). ctx bounds the wait as it
// does a Run's: when it ends first, the compile is abandoned as for a run.
func (e *Engine) Prepare(ctx context.Context, p *Program) error {
	if p == nil || len(p.Metered) == 0 {
		return ErrBadRequest
	}
	ent, err := e.compiled(ctx, p)
	if err != nil {
		return err
	}
	e.release(ent)
	return nil
}

// engineTrap maps a wazero trap to its kind. wazero wraps its runtime
// errors once ("wasm error: %w\nwasm stack trace: ..."); the wrapped
// error's text is one of wazero's fixed messages. A stack overflow of the
// engine itself is not here: the metering's depth limit stops programs
// first, so reaching the engine's limit is a local failure.
func engineTrap(err error) (TrapKind, bool) {
	inner := errors.Unwrap(err)
	if inner == nil {
		return 0, false
	}
	switch inner.Error() {
	case "unreachable":
		return TrapUnreachable, true
	case "out of bounds memory access":
		return TrapMemoryAccess, true
	case "integer divide by zero":
		return TrapDivideByZero, true
	case "integer overflow", "invalid conversion to integer":
		return TrapIntegerOverflow, true
	case "invalid table access", "indirect call type mismatch":
		return TrapIndirectCall, true
	}
	return 0, false
}

// compiled returns the compiled module of p, compiling it once per program
// id; concurrent callers for the same program wait for one compilation.
// The compile runs under the deadline of the runs that wait for it: a
// caller whose ctx ends stops waiting (the run abstains), and when no run
// waits any more the compile is abandoned — wazero stops at the next
// function — and its entry dropped, so that an overrunning compile holds
// neither a core nor memory for longer than one function's compile.
func (e *Engine) compiled(ctx context.Context, p *Program) (*cacheEntry, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errors.New("engine closed")
	}
	ent := e.cache[p.ID]
	if ent != nil && ent.metered != p.MeteredHash {
		// Same program checked under other limits: replace it.
		e.dropLocked(p.ID, ent)
		ent = nil
	}
	e.tick++
	if ent == nil {
		cctx, cancel := context.WithCancel(experimental.WithCompilationWorkers(context.Background(), compileWorkers))
		ent = &cacheEntry{metered: p.MeteredHash, ready: make(chan struct{}), cancel: cancel}
		e.cache[p.ID] = ent
		for len(e.cache) > e.maxSize {
			var oldID ProgramID
			var old *cacheEntry
			for id, c := range e.cache {
				if c != ent && (old == nil || c.lastUse < old.lastUse) {
					oldID, old = id, c
				}
			}
			e.dropLocked(oldID, old)
		}
		e.compiles.Add(1)
		go e.compile(cctx, p, ent)
	}
	ent.refs++
	ent.lastUse = e.tick
	e.mu.Unlock()

	select {
	case <-ent.ready:
	case <-ctx.Done():
		e.release(ent)
		return nil, ctx.Err()
	}
	if ent.err != nil {
		e.release(ent)
		return nil, ent.err
	}
	return ent, nil
}

// ready returns p's compiled entry, held for a run, if it is compiled;
// nil otherwise.
func (e *Engine) ready(p *Program) *cacheEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	ent := e.cache[p.ID]
	if ent == nil || ent.metered != p.MeteredHash {
		return nil
	}
	select {
	case <-ent.ready:
		if ent.err != nil {
			return nil
		}
		e.tick++
		ent.refs++
		ent.lastUse = e.tick
		return ent
	default:
		return nil
	}
}

// compileInBackground starts compiling p for a tiered engine unless a
// background compile is running already. The compile waits as a run
// would, under bgTimeout instead of a run's deadline; once it is done the
// interpreter's copy of the program is dropped.
func (e *Engine) compileInBackground(p *Program) {
	select {
	case e.bgBusy <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-e.bgBusy }()
		ctx, cancel := context.WithTimeout(e.bgCtx, e.bgTimeout)
		defer cancel()
		if e.Prepare(ctx, p) == nil {
			e.tier.forget(p.ID)
		}
	}()
}

// forget drops p's entry (closed once no run uses it).
func (e *Engine) forget(id ProgramID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ent := e.cache[id]; ent != nil {
		e.dropLocked(id, ent)
	}
}

// compile fills ent. It does not depend on any run's context (a cancelled
// run must not fail the others waiting), only on the entry's own, which
// release cancels when the last waiter has gone.
func (e *Engine) compile(ctx context.Context, p *Program, ent *cacheEntry) {
	defer e.compiles.Done()
	rt := e.rt
	cm, err := rt.CompileModule(ctx, p.Metered)
	if e.disk != nil {
		e.markOnDisk(p, err == nil)
		if err != nil && ctx.Err() == nil {
			// wazero fails the compile when the cache does (a corrupt
			// file, a full or unwritable directory); the program's code
			// is the same without it.
			e.log.Warn("compute: compilation cache failed; compiling without it", "program", p.ID.String(), "err", err)
			if rt, err = e.plainRuntime(); err == nil {
				cm, err = rt.CompileModule(ctx, p.Metered)
			}
		}
	}
	if err == nil && ctx.Err() != nil {
		// Abandoned, but the last function finished anyway: nobody waits.
		_ = cm.Close(context.Background())
		cm, err = nil, ctx.Err()
	}
	e.mu.Lock()
	ent.rt, ent.cm, ent.err = rt, cm, err
	ent.cancel()
	if err != nil && e.cache[p.ID] == ent {
		delete(e.cache, p.ID)
	}
	close(ent.ready)
	if ent.refs == 0 && ent.cm != nil && (ent.evicted || e.closed) {
		_ = ent.cm.Close(context.Background())
		ent.cm = nil
	}
	e.mu.Unlock()
}

// dropLocked removes an entry; its module is closed once no run uses it,
// and a compile nobody waits for is abandoned.
func (e *Engine) dropLocked(id ProgramID, ent *cacheEntry) {
	delete(e.cache, id)
	ent.evicted = true
	if ent.refs == 0 {
		closeCompiled(ent)
	}
}

func (e *Engine) release(ent *cacheEntry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ent.refs--
	if ent.refs > 0 {
		return
	}
	select {
	case <-ent.ready:
		if ent.evicted || e.closed {
			closeCompiled(ent)
		}
	default:
		// The last waiter gave up: abandon the compile and forget it, so
		// that the next run starts afresh rather than wait for it.
		ent.cancel()
		for id, c := range e.cache {
			if c == ent {
				delete(e.cache, id)
			}
		}
		ent.evicted = true
	}
}

// closeCompiled closes a finished entry's module, or abandons its compile
// (compile closes what an abandoned compile still produced).
func closeCompiled(ent *cacheEntry) {
	select {
	case <-ent.ready:
		if ent.cm != nil {
			_ = ent.cm.Close(context.Background())
			ent.cm = nil
		}
	default:
		ent.cancel()
	}
}
