//go:build js && wasm

package compute

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"syscall/js"
	"time"
)

// This file binds the deterministic host (wasi.go) to the JavaScript
// host's own WebAssembly engine (V8 in Chromium and Node): the browser
// keeper's alternative to wazero's interpreter compiled into the keeper.
// The metered module, the host and the outcome rules are exactly those of
// engine.go; only the engine differs. RATIONALE.md beside this file says
// why it is built this way; docs/compute.md has the figures.
//
// The difficulty is stopping the guest from a host function (proc_exit,
// fuel running out inside fd_write, output over the cap). wazero lets a
// host function panic; a Go function called from JavaScript (js.FuncOf)
// cannot throw, and eval or new Function, which could make a throwing
// wrapper, are forbidden where the keepers run (the extension's CSP allows
// only 'wasm-unsafe-eval'). So a tiny "trampoline" module, generated here
// with the package's own encoder, stands between the guest and Go: it
// imports one Go callback per WASI function and exports a wrapper with the
// exact WASI signature, which the guest imports. A wrapper passes each i64
// argument to Go as two i32 halves (Go's syscall/js has no BigInt), and
// when Go answers with the sentinel -1 (no errno is negative) it executes
// unreachable, which unwinds the guest; Run then reads Host.Stopped.

// trampolineModule is the trampoline for WASIFunctions(), in that order:
// import i is "go".<name> of type (the arguments, i64s split into lo, hi
// i32s) -> i32; function i+n is the wrapper, exported as <name>.
func trampolineModule() []byte {
	names := WASIFunctions()
	var types []funcType
	typeIdx := func(params, results []byte) uint32 {
		for i, t := range types {
			if string(t.params) == string(params) && string(t.results) == string(results) {
				return uint32(i)
			}
		}
		types = append(types, funcType{params, results})
		return uint32(len(types) - 1)
	}
	imports := make([]uint32, len(names))
	wrappers := make([]uint32, len(names))
	for i, n := range names {
		f := wasiFuncs[n]
		var split []byte
		for _, t := range f.params {
			split = append(split, valI32)
			if t == valI64 {
				split = append(split, valI32)
			}
		}
		imports[i] = typeIdx(split, []byte{valI32})
		wrappers[i] = typeIdx(f.params, f.results)
	}
	section := func(out []byte, id byte, body []byte) []byte {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		return append(out, body...)
	}
	out := []byte("\x00asm\x01\x00\x00\x00")
	b := appendU32(nil, uint32(len(types)))
	for _, t := range types {
		b = append(b, 0x60)
		b = appendU32(b, uint32(len(t.params)))
		b = append(b, t.params...)
		b = appendU32(b, uint32(len(t.results)))
		b = append(b, t.results...)
	}
	out = section(out, secType, b)
	b = appendU32(nil, uint32(len(names)))
	for i, n := range names {
		b = appendName(b, "go")
		b = appendName(b, n)
		b = append(b, externFunc)
		b = appendU32(b, imports[i])
	}
	out = section(out, secImport, b)
	b = appendU32(nil, uint32(len(names)))
	for i := range names {
		b = appendU32(b, wrappers[i])
	}
	out = section(out, secFunction, b)
	b = appendU32(nil, uint32(len(names)))
	for i, n := range names {
		b = appendName(b, n)
		b = append(b, externFunc)
		b = appendU32(b, uint32(len(names)+i))
	}
	out = section(out, secExport, b)
	const (
		opCall     = 0x10
		opI32Eq    = 0x46
		opI32WrapI = 0xa7
	)
	b = appendU32(nil, uint32(len(names)))
	for i, n := range names {
		f := wasiFuncs[n]
		tmp := uint32(len(f.params)) // the one local after the parameters
		body := []byte{1, 1, valI32} // one group of locals: 1 × i32
		for k, t := range f.params {
			body = append(body, opLocalGet)
			body = appendU32(body, uint32(k))
			if t == valI64 {
				// lo = wrap(x); hi = wrap(x >> 32)
				body = append(body, opI32WrapI, opLocalGet)
				body = appendU32(body, uint32(k))
				body = append(body, opI64Const, 32, opI64ShrU, opI32WrapI)
			}
		}
		body = append(body, opCall)
		body = appendU32(body, uint32(i))
		body = append(body, opLocalTee)
		body = appendU32(body, tmp)
		// if (r == -1) unreachable
		body = append(body, opI32Const, 0x7f, opI32Eq, opIf, blockEmpty, opUnreachable, opEnd)
		if len(f.results) == 1 {
			body = append(body, opLocalGet)
			body = appendU32(body, tmp)
		}
		body = append(body, opEnd)
		b = appendU32(b, uint32(len(body)))
		b = append(b, body...)
	}
	return section(out, secCode, b)
}

// stopSentinel is what a Go callback returns to make its wrapper trap.
const stopSentinel = -1

// PlatformEngine runs programs on the WebAssembly engine of the JavaScript
// host the keeper itself runs in (GOOS=js only): V8 in Chromium. It runs
// Program.Metered with the same Host as Engine and maps outcomes the same
// way, so its results are byte-identical to wazero's; compiled modules are
// cached per program id. Runs must be made from a goroutine, never from
// inside a JavaScript callback: compiling and instantiating wait for
// promises.
//
// Hosts that forbid compiling WebAssembly at run time refuse it:
// NewPlatformEngine fails there (workerd: "Wasm code generation disallowed
// by embedder") and the keeper keeps wazero's interpreter.
type PlatformEngine struct {
	maxSize    int
	wasm       js.Value // globalThis.WebAssembly
	trampoline js.Value // compiled trampoline module

	mu    sync.Mutex
	cache map[jsCacheKey]*jsCacheEntry
	tick  uint64
}

// jsCacheKey names a compiled module: a program's metered form, or (raw)
// a module as registered, for RunUnmetered.
type jsCacheKey struct {
	id  ProgramID
	raw bool
}

type jsCacheEntry struct {
	metered [32]byte
	ready   chan struct{}
	mod     js.Value
	err     error
	lastUse uint64
}

// NewPlatformEngine returns an engine over globalThis.WebAssembly, keeping
// up to cacheSize compiled programs (zero: 16). It compiles the trampoline
// module first, so a host that does not allow WebAssembly compilation at
// run time is found here, with the host's own error message.
func NewPlatformEngine(cacheSize int) (*PlatformEngine, error) {
	wasm := js.Global().Get("WebAssembly")
	if wasm.Type() != js.TypeObject {
		return nil, errors.New("compute: this JavaScript host has no WebAssembly object")
	}
	if cacheSize <= 0 {
		cacheSize = 16
	}
	tr, err := jsCall(func() js.Value {
		// The trampoline is 3 KB, under the 4 KB up to which Chromium
		// allows the synchronous constructor on a page's main thread.
		return wasm.Get("Module").New(jsBytes(trampolineModule()))
	})
	if err != nil {
		return nil, fmt.Errorf("compute: the platform engine cannot compile WebAssembly here: %w", err)
	}
	return &PlatformEngine{maxSize: cacheSize, wasm: wasm, trampoline: tr, cache: map[jsCacheKey]*jsCacheEntry{}}, nil
}

// Name describes the engine for logs and stats.
func (e *PlatformEngine) Name() string { return "platform" }

// Close drops every compiled program (the JavaScript garbage collector
// frees them).
func (e *PlatformEngine) Close() {
	e.mu.Lock()
	e.cache = map[jsCacheKey]*jsCacheEntry{}
	e.mu.Unlock()
}

// Run is Engine.Run on the platform engine (opts.Engine and opts.Kind are
// ignored). The wall-clock limit cannot interrupt WebAssembly that runs
// synchronously on this thread; it is checked at every host call (a Go
// program calls the clock often), and a run past it abstains. Code that
// never calls the host is bounded by its fuel alone.
func (e *PlatformEngine) Run(ctx context.Context, p *Program, input []byte, fuel uint64, seed [32]byte, opts Options) (Result, error) {
	if p == nil || len(p.Metered) == 0 {
		return Result{}, abstain("no program", ErrBadRequest)
	}
	if fuel > p.Limits.MaxFuel {
		return Result{}, abstain(fmt.Sprintf("fuel %d over the limit %d", fuel, p.Limits.MaxFuel), ErrBadRequest)
	}
	if opts.MaxMemoryPages > 0 && p.MaxMemoryPages > opts.MaxMemoryPages {
		return Result{}, abstain(fmt.Sprintf("program may use %d memory pages, this keeper gives %d", p.MaxMemoryPages, opts.MaxMemoryPages), nil)
	}
	mod, err := e.compiled(jsCacheKey{id: p.ID}, p.MeteredHash, p.Metered)
	if err != nil {
		return Result{}, abstain("compile", err)
	}
	h := NewHost(input, fuel, seed, p.Limits.MaxOutputBytes, nil, opts.Stderr)
	return e.run(ctx, mod, h, fuel, p.Limits.MaxCallDepth, opts.Timeout, true)
}

// RunUnmetered runs p's module as it was registered, without metering,
// under the same host (with fuel fixed at 2^62, so the clocks move by
// sleeps only). module must be the bytes p was checked from; it is not
// hashed again. It exists to measure what the metering costs on this
// engine: its result is not a job result (no fuel, no depth limit, NaN
// bits left to the engine) and must never be voted on. Compilation is
// cached like a program's.
func (e *PlatformEngine) RunUnmetered(ctx context.Context, p *Program, module, input []byte, seed [32]byte) (Result, error) {
	if p == nil || len(module) == 0 {
		return Result{}, abstain("no program", ErrBadRequest)
	}
	mod, err := e.compiled(jsCacheKey{id: p.ID, raw: true}, p.ID, module)
	if err != nil {
		return Result{}, abstain("compile", err)
	}
	h := NewHost(input, 1<<62, seed, p.Limits.MaxOutputBytes, &fixedGlobal{1 << 62}, nil)
	return e.run(ctx, mod, h, 0, 0, 0, false)
}

type fixedGlobal struct{ v uint64 }

func (g *fixedGlobal) Get() uint64  { return g.v }
func (g *fixedGlobal) Set(v uint64) { g.v = v }

// run instantiates mod with h behind the trampoline and calls _start.
func (e *PlatformEngine) run(ctx context.Context, mod js.Value, h *Host, fuel uint64, depth uint32, timeout time.Duration, metered bool) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, abstain("wall-clock limit", err)
	}
	deadline, hasDeadline := ctx.Deadline()
	if timeout > 0 && (!hasDeadline || time.Now().Add(timeout).Before(deadline)) {
		deadline, hasDeadline = time.Now().Add(timeout), true
	}
	r := &jsRun{h: h, deadline: deadline, hasDeadline: hasDeadline}
	tramp, release, err := e.trampolineFor(r)
	if err != nil {
		return Result{}, abstain("instantiate trampoline", err)
	}
	defer release()
	imports := js.Global().Get("Object").New()
	imports.Set(WASIModule, tramp.Get("exports"))
	inst, err := jsAwait(func() js.Value { return e.wasm.Call("instantiate", mod, imports) })
	if err != nil {
		return Result{}, abstain("instantiate", err)
	}
	exports := inst.Get("exports")
	memory, start := exports.Get("memory"), exports.Get("_start")
	if !memory.InstanceOf(e.wasm.Get("Memory")) || start.Type() != js.TypeFunction {
		return Result{}, abstain("module lacks its memory or _start export", nil)
	}
	r.mem = &jsMemory{obj: memory, u8: js.Global().Get("Uint8Array")}
	var fuelG *jsI64Global
	var depthG js.Value
	if metered {
		fg, dg := exports.Get(ExportFuel), exports.Get(ExportDepth)
		if !fg.InstanceOf(e.wasm.Get("Global")) || !dg.InstanceOf(e.wasm.Get("Global")) {
			return Result{}, abstain("metered module lacks its exports", nil)
		}
		fuelG, depthG = &jsI64Global{g: fg}, dg
		fuelG.Set(fuel)
		depthG.Set("value", depth)
		h.fuel = fuelG
	}

	_, callErr := jsCall(func() js.Value { return start.Invoke() })

	if r.failed != nil {
		return Result{}, abstain("host function", r.failed)
	}
	if r.timedOut {
		return Result{}, abstain("wall-clock limit", context.DeadlineExceeded)
	}
	res := Result{Output: append([]byte(nil), h.out...)}
	if !metered {
		if stopped, code, trap := h.Stopped(); stopped {
			res.ExitCode, res.Trap = code, trap
		} else if callErr != nil {
			return Result{}, abstain("engine", callErr)
		}
		return res, nil
	}
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
	switch {
	case remaining < 0:
		res.Trap, res.FuelUsed = TrapOutOfFuel, fuel
	case int32(depthG.Get("value").Int()) < 0:
		res.Trap = TrapStackExhausted
	default:
		kind, ok := e.platformTrap(callErr)
		if !ok {
			return Result{}, abstain("engine", callErr)
		}
		res.Trap = kind
	}
	return res, nil
}

// v8Traps are V8's messages for WebAssembly.RuntimeError, each seen by
// the tests: Node 20 (V8 11.3) says "null function or function signature
// mismatch" where Chromium 156 says "null function" or "function
// signature mismatch"; a memory.init past its segment is "memory access
// out of bounds" in both. Like engineTrap, this is a closed list: any
// other error, such as the RangeError "Maximum call stack size exceeded"
// of the engine's own stack limit or a message a later V8 rewords, is not
// a result, and the keeper abstains.
var v8Traps = map[string]TrapKind{
	"unreachable":                                  TrapUnreachable,
	"memory access out of bounds":                  TrapMemoryAccess,
	"divide by zero":                               TrapDivideByZero,
	"remainder by zero":                            TrapDivideByZero,
	"divide result unrepresentable":                TrapIntegerOverflow,
	"float unrepresentable in integer range":       TrapIntegerOverflow,
	"table index is out of bounds":                 TrapIndirectCall,
	"null function or function signature mismatch": TrapIndirectCall,
	"null function":                                TrapIndirectCall,
	"function signature mismatch":                  TrapIndirectCall,
}

func (e *PlatformEngine) platformTrap(err error) (TrapKind, bool) {
	var je *jsException
	if !errors.As(err, &je) || !je.v.InstanceOf(e.wasm.Get("RuntimeError")) {
		return 0, false
	}
	k, ok := v8Traps[je.message]
	return k, ok
}

// jsRun is the state of one run that the Go callbacks share.
type jsRun struct {
	h           *Host
	mem         *jsMemory
	deadline    time.Time
	hasDeadline bool
	timedOut    bool
	failed      error
}

// trampolineFor instantiates the trampoline with callbacks bound to r.
// release frees the callbacks once the run is over.
func (e *PlatformEngine) trampolineFor(r *jsRun) (js.Value, func(), error) {
	names := WASIFunctions()
	funcs := make([]js.Func, 0, len(names))
	release := func() {
		for _, f := range funcs {
			f.Release()
		}
	}
	goNS := js.Global().Get("Object").New()
	for _, name := range names {
		f := wasiFuncs[name]
		fn := js.FuncOf(r.callback(name, f.params))
		funcs = append(funcs, fn)
		goNS.Set(name, fn)
	}
	imports := js.Global().Get("Object").New()
	imports.Set("go", goNS)
	inst, err := jsCall(func() js.Value { return e.wasm.Get("Instance").New(e.trampoline, imports) })
	if err != nil {
		release()
		return js.Value{}, nil, err
	}
	return inst, release, nil
}

// callback is the Go side of one WASI function. It never panics into
// JavaScript: anything unexpected fails the run (an abstain) through the
// sentinel.
func (r *jsRun) callback(name string, params []byte) func(js.Value, []js.Value) any {
	return func(_ js.Value, args []js.Value) (ret any) {
		defer func() {
			if p := recover(); p != nil {
				r.failed = fmt.Errorf("%s: %v", name, p)
				ret = stopSentinel
			}
		}()
		if r.failed != nil || r.timedOut {
			return stopSentinel
		}
		if r.hasDeadline && time.Now().After(r.deadline) {
			r.timedOut = true
			return stopSentinel
		}
		a := make([]uint64, len(params))
		k := 0
		for i, t := range params {
			lo := uint64(uint32(args[k].Int()))
			k++
			if t == valI64 {
				lo |= uint64(uint32(args[k].Int())) << 32
				k++
			}
			a[i] = lo
		}
		if r.mem == nil {
			panic("called before _start")
		}
		r.mem.refresh()
		res, stop := r.h.Call(name, r.mem, a)
		if stop {
			return stopSentinel
		}
		if len(res) == 0 {
			return 0
		}
		return int(int32(uint32(res[0])))
	}
}

// jsMemory is the guest's WebAssembly.Memory as the Host sees it. Its
// buffer is replaced when the guest grows the memory, so the view is
// refreshed at every host call.
type jsMemory struct {
	obj  js.Value // WebAssembly.Memory
	u8   js.Value // the Uint8Array constructor
	buf  js.Value // memory.buffer when the view was made
	view js.Value // Uint8Array over buf
	size uint64
}

func (m *jsMemory) refresh() {
	b := m.obj.Get("buffer")
	if m.view.Type() == js.TypeObject && b.Equal(m.buf) {
		return
	}
	m.buf, m.view = b, m.u8.New(b)
	m.size = uint64(m.view.Get("length").Int())
}

func (m *jsMemory) Read(offset, n uint32) ([]byte, bool) {
	if uint64(offset)+uint64(n) > m.size {
		return nil, false
	}
	out := make([]byte, n)
	if n > 0 {
		js.CopyBytesToGo(out, m.view.Call("subarray", offset, uint64(offset)+uint64(n)))
	}
	return out, true
}

func (m *jsMemory) Write(offset uint32, v []byte) bool {
	if uint64(offset)+uint64(len(v)) > m.size {
		return false
	}
	if len(v) > 0 {
		js.CopyBytesToJS(m.view.Call("subarray", offset, uint64(offset)+uint64(len(v))), v)
	}
	return true
}

// jsI64Global is a mutable i64 WebAssembly.Global. Its value is a BigInt,
// which syscall/js cannot hold as a number: it crosses as a decimal string.
type jsI64Global struct{ g js.Value }

func (g *jsI64Global) Get() uint64 {
	s := js.Global().Get("String").Invoke(g.g.Get("value")).String()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(fmt.Sprintf("i64 global reads %q", s))
	}
	return uint64(v)
}

func (g *jsI64Global) Set(v uint64) {
	g.g.Set("value", js.Global().Get("BigInt").Invoke(strconv.FormatInt(int64(v), 10)))
}

// compiled returns the compiled module of a program (or of a raw module
// for RunUnmetered), compiling it once per id; a program re-checked under
// other limits (another metered hash) replaces its entry.
func (e *PlatformEngine) compiled(id jsCacheKey, metered [32]byte, code []byte) (js.Value, error) {
	e.mu.Lock()
	ent := e.cache[id]
	if ent != nil && ent.metered != metered {
		delete(e.cache, id)
		ent = nil
	}
	e.tick++
	if ent != nil {
		ent.lastUse = e.tick
		e.mu.Unlock()
		<-ent.ready
		return ent.mod, ent.err
	}
	ent = &jsCacheEntry{metered: metered, ready: make(chan struct{}), lastUse: e.tick}
	e.cache[id] = ent
	for len(e.cache) > e.maxSize {
		var oldID jsCacheKey
		var old *jsCacheEntry
		for k, c := range e.cache {
			if c != ent && (old == nil || c.lastUse < old.lastUse) {
				oldID, old = k, c
			}
		}
		delete(e.cache, oldID)
	}
	e.mu.Unlock()

	// Asynchronous: a browser's main thread refuses to compile a large
	// module synchronously.
	ent.mod, ent.err = jsAwait(func() js.Value { return e.wasm.Call("compile", jsBytes(code)) })
	close(ent.ready)
	if ent.err != nil {
		e.mu.Lock()
		if e.cache[id] == ent {
			delete(e.cache, id)
		}
		e.mu.Unlock()
	}
	return ent.mod, ent.err
}

// jsBytes copies b into a new Uint8Array.
func jsBytes(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// jsException is a value JavaScript threw (or a promise rejected with).
type jsException struct {
	v       js.Value
	message string // the message property of an Error, else ""
	text    string
}

func (e *jsException) Error() string { return e.text }

// newJSException describes v without assuming it is an Error: a script
// may throw anything, and syscall/js panics on Get of a non-object.
func newJSException(v js.Value) *jsException {
	e := &jsException{v: v}
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			e.message = m.String()
		}
		name := "Error"
		if n := v.Get("name"); n.Type() == js.TypeString {
			name = n.String()
		}
		e.text = name + ": " + e.message
		return e
	}
	e.text = "thrown: " + js.Global().Get("String").Invoke(v).String()
	return e
}

// jsCall runs f and turns a JavaScript exception (a js.Error panic) into
// an error.
func jsCall(f func() js.Value) (v js.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			if je, ok := p.(js.Error); ok {
				err = newJSException(je.Value)
				return
			}
			err = fmt.Errorf("%v", p)
		}
	}()
	return f(), nil
}

// jsAwait calls f, which returns a Promise, and waits for it to settle.
// It blocks the goroutine, so the event loop runs meanwhile.
func jsAwait(f func() js.Value) (js.Value, error) {
	p, err := jsCall(f)
	if err != nil {
		return js.Value{}, err
	}
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	onOK := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- settled{v: a[0]}
		return nil
	})
	onErr := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- settled{err: newJSException(a[0])}
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	p.Call("then", onOK, onErr)
	s := <-ch
	return s.v, s.err
}
