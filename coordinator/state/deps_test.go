package state

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The chain's packages (this one and everything of ours it imports) must
// reach the same verdict on every replica from the transactions alone, so
// they depend on no WebAssembly runtime, network, filesystem or clock
// (docs/design.md §11). TestChainDependencies checks the import closure
// that `go list -deps` reports; TestChainReadsNoClock checks the sources
// for the clock, which imports cannot show (fmt already brings in time).

const ourModule = "github.com/lightkeeper-net/lightkeeper"

// forbiddenPackages may not appear anywhere in the chain's closure.
var forbiddenPackages = []string{"net/http", "os/exec", "os/signal", "plugin", "database/sql"}

// forbiddenPrefixes may not appear anywhere in the closure either.
var forbiddenPrefixes = []string{
	"github.com/tetratelabs/wazero",
	ourModule + "/devtools",
	ourModule + "/verifier/compute", // the WebAssembly runtime; the chain uses verifier/wasmcheck
	ourModule + "/keeper",
	ourModule + "/coordinator/service",
	ourModule + "/pebbledb",
}

// thirdPartyNet lists the only packages through which net may enter the
// closure, with why it is harmless: gnark's backend packages, which parse
// verifying keys, import gnark's logger, which imports zerolog, which
// formats IP addresses with net. Nothing in the chain logs through it. A
// new importer of net fails the test.
var thirdPartyNet = map[string]bool{
	"github.com/rs/zerolog":               true,
	"github.com/rs/zerolog/internal/json": true,
}

// ourForbiddenImports may not be imported directly by any package of ours
// in the closure: beyond what fmt already pulls in (os, time), the chain
// opens no file, socket or process.
var ourForbiddenImports = []string{"os", "net", "syscall", "io/fs", "path/filepath", "log", "log/slog", "crypto/rand", "math/rand", "math/rand/v2"}

// allowedImports are the exceptions, each with its reason. verifier draws
// the random coefficients of keepers' batch Groth16 checks (VerifyBatch);
// the machine calls only its key parser (CheckVerifyingKey), which draws
// nothing, so no chain verdict depends on the randomness.
var allowedImports = map[string][]string{
	ourModule + "/verifier": {"crypto/rand"},
}

func goList(t *testing.T, args ...string) []byte {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command(gobin, append([]string{"list"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// chainPackages returns every package in the closure of this package,
// with its direct imports.
func chainPackages(t *testing.T) map[string][]string {
	out := goList(t, "-deps", "-f", `{{.ImportPath}}|{{join .Imports " "}}`, ".")
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, "|")
		pkgs[path] = strings.Fields(imports)
	}
	return pkgs
}

func TestChainDependencies(t *testing.T) {
	pkgs := chainPackages(t)
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	var ours []string
	for path, imports := range pkgs {
		if slices.Contains(forbiddenPackages, path) {
			t.Errorf("the chain depends on %s", path)
		}
		for _, p := range forbiddenPrefixes {
			if path == p || strings.HasPrefix(path, p+"/") {
				t.Errorf("the chain depends on %s", path)
			}
		}
		if slices.Contains(imports, "net") && !thirdPartyNet[path] {
			t.Errorf("%s imports net", path)
		}
		if strings.HasPrefix(path, ourModule+"/") {
			ours = append(ours, path)
			for _, imp := range imports {
				if slices.Contains(ourForbiddenImports, imp) && !slices.Contains(allowedImports[path], imp) {
					t.Errorf("%s imports %s", path, imp)
				}
			}
		}
	}
	slices.Sort(ours)
	t.Logf("%d packages, %d of ours: %s", len(pkgs), len(ours), strings.Join(ours, " "))
}

// clockCalls are the functions of package time that read the clock or
// wait on it.
var clockCalls = []string{"Now", "Since", "Until", "After", "AfterFunc", "Tick", "NewTicker", "NewTimer", "Sleep"}

// TestChainReadsNoClock parses the non-test sources of every package of
// ours in the closure and fails on any call of a time function that reads
// the clock (block time comes in BlockInput).
func TestChainReadsNoClock(t *testing.T) {
	out := goList(t, "-deps", "-f", `{{.ImportPath}}|{{.Dir}}|{{join .GoFiles " "}}`, ".")
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 3)
		if len(f) != 3 || !strings.HasPrefix(f[0], ourModule+"/") {
			continue
		}
		for _, name := range strings.Fields(f[2]) {
			checked++
			for _, call := range clockCallsIn(t, filepath.Join(f[1], name)) {
				t.Errorf("%s: calls time.%s", call.pos, call.name)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}

type clockCall struct {
	pos  token.Position
	name string
}

func clockCallsIn(t *testing.T, path string) []clockCall {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	// The name the file gives package time (none if it does not import it).
	timeName := ""
	for _, imp := range file.Imports {
		if imp.Path.Value == `"time"` {
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	if timeName == "" {
		return nil
	}
	var calls []clockCall
	ast.Inspect(file, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == timeName && slices.Contains(clockCalls, sel.Sel.Name) {
			calls = append(calls, clockCall{fset.Position(sel.Pos()), sel.Sel.Name})
		}
		return true
	})
	return calls
}

// TestClockCheckCanFail runs the source check on a file that reads the
// clock, so a broken check cannot pass silently.
func TestClockCheckCanFail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock.go")
	src := "package x\n\nimport t \"time\"\n\nfunc f() int64 { return t.Now().Unix() }\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if calls := clockCallsIn(t, path); len(calls) != 1 || calls[0].name != "Now" {
		t.Fatalf("found %v, want one call of time.Now", calls)
	}
}
