package wasmhost

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

var (
	// wasmFile is the module under test: $LIGHTKEEPER_WASM when set (make
	// builds it once for every package that needs it), else built here.
	wasmFile string
	// cacheDir is one compilation cache for the whole run, so only the
	// first host compiles and the rest load machine code from it.
	cacheDir string
)

func TestMain(m *testing.M) {
	// go test runs packages in parallel. On a two-core CI machine these
	// tests (proving fixtures, compiling the module, verifying in wasm)
	// would otherwise take both cores for half a minute and starve the
	// end-to-end tests in tests/, whose rounds time out after 3 s. One
	// core is plenty for them; benchmarks keep every core (the native
	// verifier may use several).
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		runtime.GOMAXPROCS(1)
	}
	dir, err := os.MkdirTemp("", "lightkeeper-wasmhost-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wasmFile = os.Getenv("LIGHTKEEPER_WASM")
	if wasmFile == "" {
		wasmFile = filepath.Join(dir, "keeper-wasip1.wasm")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		err := BuildModule(ctx, wasmFile)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	cacheDir = filepath.Join(dir, "wazero")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// newHost loads the module with the shared cache; the host is closed when
// the test ends.
func newHost(tb testing.TB, cfg Config) *Host {
	tb.Helper()
	h, err := Load(context.Background(), wasmFile, cfg.WithCompilationCacheDir(cacheDir))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := h.Close(context.Background()); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return h
}
