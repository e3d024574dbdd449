package devtools

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/lightkeeper-net/lightkeeper"

// production lists the production package trees, relative to the module:
// none of them may depend on devtools/, which holds development tools only.
var production = []string{
	"coordinator", "keeper", "verifier", "pebbledb", "shielded", "wasmclient", "proto", "internal", "client",
}

// cliDir is the production binary. Its files are production code too,
// except the development commands, which may import devtools/:
// dev_demo.go (lightkeeper demo: the script is devtools/demo), dev_bench.go
// (bench: devtools/loadgen, proofgen, devnet), dev_devnet.go (devnet:
// devtools/devnet) and dev_strategy.go (keeper --strategy: the Byzantine
// behaviours of devtools/byzantine, which tests and the demo run). They
// register themselves with the command tree; no other file names them.
const cliDir = "cmd/lightkeeper"

func isDevFile(name string) bool { return strings.HasPrefix(name, "dev_") }

func isProduction(pkg string) bool {
	rel, ok := strings.CutPrefix(pkg, module+"/")
	if !ok {
		return false
	}
	for _, p := range production {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

func isDevtools(pkg string) bool {
	return pkg == module+"/devtools" || strings.HasPrefix(pkg, module+"/devtools/")
}

// TestProductionDoesNotImportDevtools runs `go list` over the module (the
// non-test imports of each package, and everything they depend on) for
// the native target and for both WebAssembly ones, and fails naming every
// production package that depends on a devtools package and the import
// that brings it in. go test cannot see what the go command it runs reads,
// so a cached pass may be stale: run it with -count=1 after moving imports.
func TestProductionDoesNotImportDevtools(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	for _, target := range [][]string{nil, {"GOOS=wasip1", "GOARCH=wasm"}, {"GOOS=js", "GOARCH=wasm"}} {
		name := "native"
		if target != nil {
			name = strings.Join(target, " ")
		}
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(gobin, "list", "-e", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, module+"/...")
			cmd.Dir = ".."
			cmd.Env = append(os.Environ(), target...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
			}
			checked := 0
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(nil, 1<<24)
			for sc.Scan() {
				pkg, rest, _ := strings.Cut(sc.Text(), "|")
				imports, deps, _ := strings.Cut(rest, "|")
				if !isProduction(pkg) {
					continue
				}
				checked++
				for _, imp := range strings.Fields(imports) {
					if isDevtools(imp) {
						t.Errorf("production package %s imports %s (development tools only)", pkg, imp)
					}
				}
				for _, dep := range strings.Fields(deps) {
					if isDevtools(dep) && !strings.Contains(" "+imports+" ", " "+dep+" ") {
						t.Errorf("production package %s depends on %s through another import (development tools only)", pkg, dep)
					}
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if checked < 10 {
				t.Fatalf("only %d production packages listed; is the module layout as expected?", checked)
			}
		})
	}
}

// TestCLIDoesNotImportDevtools checks cmd/lightkeeper file by file: every
// file but the dev_*.go development commands is production code, so
// neither it nor any package it imports may depend on devtools/. The
// dev_*.go files must import devtools/ (else the exception has no reason
// to exist and should go).
func TestCLIDoesNotImportDevtools(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command(gobin, "list", "-e", "-f", `{{.ImportPath}}|{{join .Deps " "}}`, module+"/...")
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	deps := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, d, _ := strings.Cut(line, "|")
		deps[pkg] = d
	}
	files, err := filepath.Glob(filepath.Join("..", cliDir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	checked, devImports := 0, 0
	for _, path := range files {
		name := filepath.Base(path)
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if isDevFile(name) {
				if isDevtools(imp) {
					devImports++
				}
				continue
			}
			checked++
			if isDevtools(imp) {
				t.Errorf("%s/%s imports %s: only the dev_*.go development commands may", cliDir, name, imp)
				continue
			}
			for _, dep := range strings.Fields(deps[imp]) {
				if isDevtools(dep) {
					t.Errorf("%s/%s imports %s, which depends on %s (development tools only)", cliDir, name, imp, dep)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d imports of %s's production files checked; is the layout as expected?", checked, cliDir)
	}
	if devImports == 0 {
		t.Errorf("no dev_*.go file of %s imports devtools/: drop the exception", cliDir)
	}
}
