package compute

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/tetratelabs/wazero"
)

// The disk cache (EngineConfig.CacheDir) is wazero's compilation cache,
// which keys a compiled module on the module's bytes (their SHA-256),
// wazero's version (a file from another version is deleted, not used) and
// the CPU's features, and checks a CRC of the machine code. It does not
// key on the runtime's configuration: code compiled without
// CloseOnContextDone, say, would load into a runtime that expects it. So
// the engine gives wazero a subdirectory named after everything of its
// own configuration that shapes the code (diskCacheTag): a directory
// written under another configuration is never read.
//
// wazero also fails a compile outright when the cache fails — an
// unreadable or corrupt file, a directory it cannot write — instead of
// compiling. The engine checks at start that it can write the directory
// (else it runs without the cache) and, when a compile fails with the
// cache, compiles again on a runtime without it (Engine.plainRuntime).
//
// Which programs are on disk is not something wazero tells, so the
// engine keeps an empty marker file per metered module it compiled into
// the cache; a tiered engine loads a marked program on its first run
// instead of sending it to the interpreter (Engine.onDisk).

// diskLoadWait bounds how long a tiered engine's run waits for a program
// marked as on disk: loading it takes milliseconds, compiling it again
// (the file is gone or corrupt) takes seconds, which the run then spends
// on the interpreter instead while the compile goes on in the background.
const diskLoadWait = time.Second

// diskCacheTag names the cache subdirectory for this build's runtime
// configuration and wazero version.
func diskCacheTag() string {
	return fmt.Sprintf("compute-wazero-%s-%s-%s-f%x-closeondone", wazeroVersion(), runtime.GOOS, runtime.GOARCH, uint64(wazeroFeatures))
}

func wazeroVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				if d.Replace != nil {
					d = d.Replace
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

// openDiskCache returns wazero's cache in dir's subdirectory for this
// configuration and the directory of markers, or nil (logged) when the
// directory cannot be used.
func openDiskCache(dir string, log *slog.Logger) (wazero.CompilationCache, string) {
	root := filepath.Join(dir, diskCacheTag())
	markers := filepath.Join(root, "programs")
	fail := func(err error) (wazero.CompilationCache, string) {
		log.Warn("compute: compilation cache unusable; compiled programs are kept in memory only", "dir", root, "err", err)
		return nil, ""
	}
	if err := os.MkdirAll(markers, 0o755); err != nil {
		return fail(err)
	}
	probe, err := os.CreateTemp(root, "probe-*")
	if err != nil {
		return fail(err)
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	c, err := wazero.NewCompilationCacheWithDir(root)
	if err != nil {
		return fail(err)
	}
	return c, markers
}

func (e *Engine) markerPath(p *Program) string {
	return filepath.Join(e.markersDir, hex.EncodeToString(p.MeteredHash[:]))
}

// onDisk reports whether p was compiled into the disk cache before.
func (e *Engine) onDisk(p *Program) bool {
	if e.markersDir == "" {
		return false
	}
	_, err := os.Stat(e.markerPath(p))
	return err == nil
}

func (e *Engine) markOnDisk(p *Program, stored bool) {
	path := e.markerPath(p)
	if !stored {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			e.log.Warn("compute: compilation cache marker", "err", err)
		}
		return
	}
	if _, err := os.Stat(path); err == nil {
		return
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		e.log.Warn("compute: compilation cache marker", "err", err)
	}
}

// plainRuntime is the engine's runtime without the disk cache, created
// the first time the cache fails a compile.
func (e *Engine) plainRuntime() (wazero.Runtime, error) {
	e.plainMu.Lock()
	defer e.plainMu.Unlock()
	if e.plain == nil {
		rt, err := newRuntime(context.Background(), runtimeConfig(wazero.NewRuntimeConfigCompiler()))
		if err != nil {
			return nil, err
		}
		e.plain = rt
	}
	return e.plain, nil
}
