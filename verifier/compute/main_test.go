package compute

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The examples are built from source by the tests themselves (binaries are
// never committed): once per test binary, into a temporary directory.
var (
	examplesOnce sync.Once
	examplesDir  string
	examplesErr  error

	enginesOnce sync.Once
	engines     map[EngineKind]*Engine
	enginesErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if engines != nil {
		for _, e := range engines {
			_ = e.Close(context.Background())
		}
	}
	if examplesDir != "" {
		_ = os.RemoveAll(examplesDir)
	}
	os.Exit(code)
}

// exampleNames are the programs in examples/.
var exampleNames = []string{"sha256sum", "wordcount", "primes", "floats", "sandbox", "spin"}

// exampleModule returns the wasip1 module built from examples/<name>.
func exampleModule(tb testing.TB, name string) []byte {
	tb.Helper()
	examplesOnce.Do(func() {
		examplesDir, examplesErr = os.MkdirTemp("", "lightkeeper-examples-")
		if examplesErr != nil {
			return
		}
		goBin, err := exec.LookPath("go")
		if err != nil {
			examplesErr = err
			return
		}
		cmd := exec.Command(goBin, "build", "-trimpath", "-o", examplesDir+string(filepath.Separator), "./examples/...")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			examplesErr = fmt.Errorf("building the examples: %v\n%s", err, out)
		}
	})
	if examplesErr != nil {
		tb.Fatal(examplesErr)
	}
	b, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// testEngines returns one shared engine of each kind, so every program is
// compiled once per test binary.
func testEngines(tb testing.TB) map[EngineKind]*Engine {
	tb.Helper()
	enginesOnce.Do(func() {
		engines = map[EngineKind]*Engine{}
		for _, k := range []EngineKind{EngineCompiler, EngineInterpreter} {
			if k == EngineCompiler && !compilerSupported() {
				continue
			}
			e, err := NewEngine(context.Background(), EngineConfig{Kind: k, CacheSize: 64})
			if err != nil {
				enginesErr = err
				return
			}
			engines[k] = e
		}
	})
	if enginesErr != nil {
		tb.Fatal(enginesErr)
	}
	return engines
}

func mustCheck(tb testing.TB, module []byte, lim Limits) *Program {
	tb.Helper()
	p, err := Check(module, lim)
	if err != nil {
		tb.Fatalf("Check: %v", err)
	}
	return p
}

// runBoth runs the job on every engine, fails unless all results are
// byte-identical, and returns the result.
func runBoth(tb testing.TB, p *Program, input []byte, fuel uint64, seed [32]byte) Result {
	tb.Helper()
	var first Result
	var firstKind EngineKind
	n := 0
	for _, k := range []EngineKind{EngineCompiler, EngineInterpreter} {
		e := testEngines(tb)[k]
		if e == nil {
			continue
		}
		r, err := e.Run(context.Background(), p, input, fuel, seed, Options{})
		if err != nil {
			tb.Fatalf("%v: %v", k, err)
		}
		if n == 0 {
			first, firstKind = r, k
		} else if ResultHash(r) != ResultHash(first) || string(r.Output) != string(first.Output) {
			tb.Fatalf("engines disagree:\n%v: %v\n%v: %v", firstKind, first, k, r)
		}
		n++
	}
	return first
}
