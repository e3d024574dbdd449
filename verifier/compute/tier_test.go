package compute

import (
	"context"
	"testing"
	"time"
)

// TestTieredEngine: a tiered compiler engine runs a program the compiler
// has not compiled yet on the interpreter at once — the same result — and
// compiles it in the background for the runs after, which then use the
// compiler and drop the interpreter's copy.
func TestTieredEngine(t *testing.T) {
	if !compilerSupported() {
		t.Skip("no compiler on this platform")
	}
	// Eight bodies at the deepest nesting: seconds for the compiler,
	// milliseconds for the interpreter. The program exits with code 3.
	m := command(func(w *wMod) {
		w.wasi("proc_exit") // function 0
		for range 8 {
			w.fn(nil, nil, nil, nested(0x03, maxBlockDepth)...)
		}
	}, cat(i32c(3), call(0), []byte{opEnd})...)
	p, err := Check(m, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want, err := testEngines(t)[EngineInterpreter].Run(context.Background(), p, nil, 10_000, [32]byte{1}, Options{})
	if err != nil || want.ExitCode != 3 {
		t.Fatalf("interpreter: %v, %v", want, err)
	}

	e, err := NewEngine(context.Background(), EngineConfig{Kind: EngineCompiler, Tiered: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	got, err := e.Run(context.Background(), p, nil, 10_000, [32]byte{1}, Options{Timeout: 30 * time.Second})
	if err != nil || ResultHash(got) != ResultHash(want) {
		t.Fatalf("first run: %v, %v; want %v", got, err, want)
	}
	e.tier.mu.Lock()
	onTier := e.tier.cache[p.ID] != nil
	e.tier.mu.Unlock()
	if !onTier {
		t.Fatal("the first run did not run on the interpreter tier")
	}
	// Wait for the background compile (Prepare joins it).
	if err := e.Prepare(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		e.tier.mu.Lock()
		n := len(e.tier.cache)
		e.tier.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the interpreter kept its copy after the compiler finished")
		}
	}
	got, err = e.Run(context.Background(), p, nil, 10_000, [32]byte{1}, Options{})
	if err != nil || ResultHash(got) != ResultHash(want) {
		t.Fatalf("compiled run: %v, %v; want %v", got, err, want)
	}
	if ent := e.ready(p); ent == nil {
		t.Fatal("not compiled after the background compile")
	} else {
		e.release(ent)
	}
}
