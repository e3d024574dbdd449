package devtools

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/lightkeeper-net/lightkeeper"

// production lists the production package trees, relative to the module:
// none of them may depend on devtools/, which holds development tools only.
var production = []string{
	"coordinator", "keeper", "verifier", "pebbledb", "shielded", "wasmclient", "proto", "internal",
}

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
