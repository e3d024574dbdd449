package compute

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// diskEngine is a tiered compiler engine on dir whose runs wait as long
// as it takes for a program marked as on disk (the test is about which
// tier runs, not about how fast loading is).
func diskEngine(t *testing.T, dir string, log *logBuffer) *Engine {
	t.Helper()
	e, err := NewEngine(context.Background(), EngineConfig{Kind: EngineCompiler, Tiered: true, CacheDir: dir, Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.diskWait = time.Minute
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// cacheFiles are wazero's files in dir (not the engine's markers).
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && filepath.Base(filepath.Dir(path)) != "programs" {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDiskCache: a program compiled by one engine is run on the compiler
// by the first run of a new engine on the same directory (a restarted
// keeper), with the same result; a corrupt cache file or an unusable
// directory costs a compile and a log line, never the run.
func TestDiskCache(t *testing.T) {
	if !compilerSupported() {
		t.Skip("no compiler on this platform")
	}
	ctx := context.Background()
	p := mustCheck(t, writeModule(64), DefaultLimits())
	want, err := testEngines(t)[EngineInterpreter].Run(ctx, p, nil, 1000, seedA, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run := func(e *Engine) {
		t.Helper()
		got, err := e.Run(ctx, p, nil, 1000, seedA, Options{})
		if err != nil || ResultHash(got) != ResultHash(want) {
			t.Fatalf("run: %v, %v; want %v", got, err, want)
		}
	}
	dir := t.TempDir()

	var log logBuffer
	first := diskEngine(t, dir, &log)
	run(first)
	if s := first.Stats(); s != (EngineStats{InterpreterRuns: 1}) {
		t.Fatalf("cold engine, cold cache: %+v; want one interpreter run", s)
	}
	if err := first.Prepare(ctx, p); err != nil { // joins the background compile
		t.Fatal(err)
	}
	if len(cacheFiles(t, dir)) == 0 {
		t.Fatal("nothing written to the cache directory")
	}

	restarted := diskEngine(t, dir, &log)
	run(restarted)
	if s := restarted.Stats(); s != (EngineStats{CompilerRuns: 1}) {
		t.Fatalf("restarted engine, warm cache: %+v; want its first run on the compiler", s)
	}
	if log.String() != "" {
		t.Fatalf("a healthy cache logged: %s", log.String())
	}

	// Flip a byte in the middle of every cache file (the machine code,
	// which wazero checksums).
	for _, f := range cacheFiles(t, dir) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	corrupt := diskEngine(t, dir, &log)
	run(corrupt)
	if s := corrupt.Stats(); s != (EngineStats{CompilerRuns: 1}) {
		t.Fatalf("corrupt cache: %+v; want the run compiled anyway", s)
	}
	if !strings.Contains(log.String(), "compilation cache failed; compiling without it") {
		t.Fatalf("corrupt cache not logged: %q", log.String())
	}
	if corrupt.onDisk(p) {
		t.Fatal("the program is still marked as on disk after its file failed")
	}

	// A directory that cannot be created: the engine runs without cache.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var log2 logBuffer
	nodir := diskEngine(t, file, &log2)
	run(nodir)
	if !strings.Contains(log2.String(), "compilation cache unusable") {
		t.Fatalf("unusable directory not logged: %q", log2.String())
	}
}
