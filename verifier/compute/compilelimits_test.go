package compute

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
)

// The adversarial corpus of the compile-complexity limits (limits.go,
// docs/compute.md "Compile limits"): each shape that makes a compiler
// super-linear, at its limit and just past it. Past the limit Check must
// refuse it naming the function; at the limit it must compile on every
// engine this machine runs natively, within compileBoundSlack times the
// bound docs/compute.md documents (a generous factor, so that a loaded
// machine does not fail the test; the figures themselves are logged).

// compileBoundSlack multiplies the documented bounds: the test checks that
// the compile ends, not how fast this machine is today.
const compileBoundSlack = 10

// nested returns a body of d nested blocks (op 0x02) or loops (0x03)
// around a nop.
func nested(op byte, d int) []byte {
	c := make([]byte, 0, 3*d+2)
	for range d {
		c = append(c, op, blockEmpty)
	}
	c = append(c, 0x01)
	for range d {
		c = append(c, opEnd)
	}
	return append(c, opEnd)
}

// brTable returns a body with one br_table of n targets (default
// included) out of a block.
func brTable(n int) []byte {
	c := []byte{0x02, blockEmpty, opI32Const, 0, 0x0e}
	c = appendU32(c, uint32(n-1))
	for range n {
		c = append(c, 0)
	}
	return append(c, opEnd, opEnd)
}

// localsLoop returns a body that, in a loop, increments each of n locals:
// every local is live around the loop's back edge.
func localsLoop(n int) []byte {
	c := []byte{0x03, blockEmpty}
	for i := range n {
		c = appendU32(append(c, opLocalGet), uint32(i))
		c = append(c, opI32Const, 1, opI32Add)
		c = appendU32(append(c, 0x21), uint32(i))
	}
	c = appendU32(append(c, opLocalGet), 0)
	c = append(c, 0x0d, 0, opEnd, opEnd) // br_if 0
	return c
}

// straightLine returns a body of about size bytes of code without control
// flow: local0 = local0*3 + 1, over and over.
func straightLine(size int) []byte {
	step := []byte{opLocalGet, 0, opI32Const, 3, 0x6c, opI32Const, 1, opI32Add, 0x21, 0}
	c := make([]byte, 0, size)
	for len(c)+len(step)+1 <= size-4 { // -4: the locals declaration and size
		c = append(c, step...)
	}
	return append(c, opEnd)
}

// funcs returns a command defining n functions with body (and the given
// locals), plus _start.
func funcs(n int, locals []localDecl, body []byte) []byte {
	return command(func(w *wMod) {
		for range n {
			w.fn(nil, nil, locals, body...)
		}
	}, opEnd)
}

type corpusCase struct {
	name   string
	at     func() []byte // at the limit: accepted
	past   func() []byte // just past: refused
	detail string        // what the refusal must say
	// bound is the compile time documented for the at-limit module on
	// wazero's compiler (docs/compute.md); the interpreter is far below.
	bound time.Duration
}

func corpus() []corpusCase {
	i32 := func(n int) []localDecl { return []localDecl{{uint32(n), valI32}} }
	return []corpusCase{
		{"nested blocks", func() []byte { return funcs(1, nil, nested(0x02, maxBlockDepth)) },
			func() []byte { return funcs(1, nil, nested(0x02, maxBlockDepth+1)) },
			"function 0 (body 0): blocks nested deeper than 1000", 2 * time.Second},
		{"nested loops", func() []byte { return funcs(1, nil, nested(0x03, maxBlockDepth)) },
			func() []byte { return funcs(1, nil, nested(0x03, maxBlockDepth+1)) },
			"function 0 (body 0): blocks nested deeper than 1000", 2 * time.Second},
		{"nesting work", func() []byte {
			return funcs(maxNestingWork/(maxBlockDepth*maxBlockDepth), nil, nested(0x03, maxBlockDepth))
		},
			func() []byte {
				return funcs(maxNestingWork/(maxBlockDepth*maxBlockDepth)+1, nil, nested(0x03, maxBlockDepth))
			},
			"function 16 (body 16): nesting work", 30 * time.Second},
		{"br_table", func() []byte { return funcs(1, nil, brTable(maxBrTableTargets)) },
			func() []byte { return funcs(1, nil, brTable(maxBrTableTargets+1)) },
			"function 0 (body 0): br_table with 16385 targets (limit 16384)", time.Second},
		{"locals", func() []byte { return funcs(1, i32(maxFunctionLocals), localsLoop(maxFunctionLocals)) },
			func() []byte { return funcs(1, i32(maxFunctionLocals+1), localsLoop(maxFunctionLocals)) },
			"function 0 (body 0) has more than 10000 params and locals", 5 * time.Second},
		{"functions", func() []byte { return funcs(maxDefinedFunctions-1, nil, []byte{opEnd}) },
			func() []byte { return funcs(maxDefinedFunctions, nil, []byte{opEnd}) },
			"100001 functions (limit 100000)", 5 * time.Second},
		{"straight line", func() []byte { return funcs(1, i32(1), straightLine(maxBodyBytes)) },
			func() []byte { return funcs(1, i32(1), straightLine(maxBodyBytes+16)) },
			"function 0 (body 0) has 524294 bytes (limit 524288)", 5 * time.Second},
	}
}

func TestCompileLimitsCorpus(t *testing.T) {
	if maxFunctionLocals+scratchLocalsAdded > maxLocals || maxBrTableTargets > maxBrTableEntries+1 ||
		maxDefinedFunctions > maxFunctions || maxBodyBytes > maxFunctionBytes {
		t.Fatal("a compile limit is above the JavaScript embedding's ceiling it must stay under")
	}
	for _, c := range corpus() {
		t.Run(c.name, func(t *testing.T) {
			_, err := Check(c.past(), DefaultLimits())
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), c.detail) {
				t.Fatalf("past the limit: Check = %v, want ErrTooLarge with %q", err, c.detail)
			}
			p := mustCheck(t, c.at(), DefaultLimits())
			for _, kind := range []EngineKind{EngineCompiler, EngineInterpreter} {
				if kind == EngineCompiler && !compilerSupported() {
					continue
				}
				d := compileOnce(t, kind, p.Metered)
				t.Logf("%s: %d bytes metered, compiled by the %v in %v", c.name, len(p.Metered), kind, d)
				if d > compileBoundSlack*c.bound {
					t.Errorf("%v took %v, over %d× the documented %v", kind, d, compileBoundSlack, c.bound)
				}
			}
		})
	}
}

// compileOnce compiles b on a fresh runtime of kind as Engine does.
func compileOnce(t *testing.T, kind EngineKind, b []byte) time.Duration {
	t.Helper()
	ctx := experimental.WithCompilationWorkers(context.Background(), compileWorkers)
	rc := wazero.NewRuntimeConfigInterpreter()
	if kind == EngineCompiler {
		rc = wazero.NewRuntimeConfigCompiler()
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc.WithCoreFeatures(wazeroFeatures))
	defer rt.Close(ctx)
	start := time.Now()
	cm, err := rt.CompileModule(ctx, b)
	d := time.Since(start)
	if err != nil {
		t.Fatalf("%v: %v", kind, err)
	}
	_ = cm.Close(ctx)
	return d
}

// TestCompileAbandonedAtDeadline: a run whose deadline passes while its
// program compiles abstains, and the compile nobody waits for any more is
// abandoned (wazero stops between functions) and its entry dropped, rather
// than compiling to the end.
func TestCompileAbandonedAtDeadline(t *testing.T) {
	if !compilerSupported() {
		t.Skip("no compiler on this platform")
	}
	var c corpusCase
	for _, x := range corpus() {
		if x.name == "nesting work" {
			c = x
		}
	}
	p := mustCheck(t, c.at(), DefaultLimits())
	e, err := NewEngine(context.Background(), EngineConfig{Kind: EngineCompiler})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())

	entc, stop := make(chan *cacheEntry, 1), make(chan struct{})
	defer close(stop)
	go func() { // the entry, as soon as the run has created it
		for {
			e.mu.Lock()
			ent := e.cache[p.ID]
			e.mu.Unlock()
			if ent != nil {
				entc <- ent
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	// A deadline far below the compile of this module (seconds even on a quiet
	// machine: its bodies are nested 1,000 deep), so that the run gives up
	// while the compile is under way.
	_, err = e.Run(context.Background(), p, nil, 1000, [32]byte{}, Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrAbstain) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want an abstention at the wall-clock limit", err)
	}
	gaveUp := time.Now()
	var ent *cacheEntry
	select {
	case ent = <-entc:
	default:
		t.Fatal("the run never created a cache entry for its compile")
	}
	e.mu.Lock()
	n := len(e.cache)
	e.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d cache entries after the abandoned compile, want 0", n)
	}
	select {
	case <-ent.ready:
	case <-time.After(compileBoundSlack * c.bound):
		t.Fatal("the abandoned compile is still running")
	}
	if !errors.Is(ent.err, context.Canceled) || ent.cm != nil {
		t.Fatalf("abandoned compile ended with %v (module %v), want context.Canceled and nothing held", ent.err, ent.cm)
	}
	t.Logf("the abandoned compile stopped %v after the run gave up", time.Since(gaveUp))
	// The next run compiles afresh and, with time, runs.
	r, err := e.Run(context.Background(), p, nil, 1000, [32]byte{}, Options{})
	if err != nil || r.Trap != TrapNone {
		t.Fatalf("second run: %v, %v", r, err)
	}
}
