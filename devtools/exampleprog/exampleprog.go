package exampleprog

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/lightkeeper-net/lightkeeper/examples"
)

// Names lists the examples, sorted.
func Names() []string {
	var names []string
	_ = fs.WalkDir(examples.Sources, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Base(p) == "main.go" {
			names = append(names, path.Dir(p))
		}
		return nil
	})
	slices.Sort(names)
	return names
}

// Build compiles every example with `go build` (GOOS=wasip1 GOARCH=wasm)
// in a module of its own under dir and returns the modules by name. The
// go command is the one on PATH (or $GOROOT/bin); its build cache makes
// later builds quick.
func Build(ctx context.Context, dir string) (map[string][]byte, error) {
	src := filepath.Join(dir, "src")
	out := filepath.Join(dir, "bin")
	for _, d := range []string{src, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module lightkeeper.examples\n\ngo 1.26\n"), 0o644); err != nil {
		return nil, err
	}
	names := Names()
	for _, name := range names {
		b, err := examples.Sources.ReadFile(name + "/main.go")
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(src, name), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(src, name, "main.go"), b, 0o644); err != nil {
			return nil, err
		}
	}
	goBin, err := goCommand()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", out+string(filepath.Separator), "./...")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the example programs (go build, GOOS=wasip1): %v\n%s", err, strings.TrimSpace(string(b)))
	}
	mods := make(map[string][]byte, len(names))
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			if b, err = os.ReadFile(filepath.Join(out, name+".wasm")); err != nil {
				return nil, fmt.Errorf("example %s: %w", name, err)
			}
		}
		mods[name] = b
	}
	return mods, nil
}

func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("the example programs are built with the go command, which is not on PATH")
}

var (
	once    sync.Once
	modules map[string][]byte
	onceErr error
)

// Modules builds the examples once per process (into a temporary
// directory it removes afterwards) and returns them by name.
func Modules(ctx context.Context) (map[string][]byte, error) {
	once.Do(func() {
		dir, err := os.MkdirTemp("", "lightkeeper-examples-")
		if err != nil {
			onceErr = err
			return
		}
		defer os.RemoveAll(dir)
		modules, onceErr = Build(ctx, dir)
	})
	return modules, onceErr
}
