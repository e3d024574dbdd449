package protocol

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestLeaf enforces the package's rule (doc.go): protocol depends only on
// the standard library, the generated protobuf types and
// google.golang.org/protobuf, and its own files import nothing that reads
// a clock, a source of randomness, the network or the filesystem.
func TestLeaf(t *testing.T) {
	const self = "github.com/lightkeeper-net/lightkeeper/protocol"
	out, err := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard,Imports", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := []string{
		"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1",
		"google.golang.org/protobuf/",
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Standard   bool
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		seen++
		switch {
		case p.ImportPath == self:
			for _, imp := range p.Imports {
				if forbiddenDirect(imp) {
					t.Errorf("protocol imports %s: it must use no clock, randomness, network or filesystem", imp)
				}
			}
		case p.Standard:
		case allowedPath(p.ImportPath, allowed):
		default:
			t.Errorf("protocol depends on %s: it must stay a leaf (standard library, proto/lightkeeper/v1, google.golang.org/protobuf)", p.ImportPath)
		}
	}
	if seen < 10 {
		t.Fatalf("go list listed %d packages: the check saw nothing", seen)
	}
}

func allowedPath(path string, allowed []string) bool {
	for _, a := range allowed {
		if path == a || strings.HasSuffix(a, "/") && strings.HasPrefix(path, a) {
			return true
		}
	}
	return false
}

func forbiddenDirect(imp string) bool {
	switch imp {
	case "os", "os/exec", "io/fs", "io/ioutil", "net", "syscall", "unsafe", "math/rand", "math/rand/v2", "crypto/rand", "runtime":
		return true
	}
	return strings.HasPrefix(imp, "net/") || strings.HasPrefix(imp, "os/")
}
