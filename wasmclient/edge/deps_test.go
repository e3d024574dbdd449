package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestProofsOnlyBuildLeavesOutCompute checks what make edge-worker-proofs
// links: neither verifier/compute nor wazero may be among the packages of
// the proofs-only worker (keeper/engine_nocompute.go), and the full worker
// must still have them. go list only, no build: cheap enough for every
// test run. The size itself is measured by make edge-worker-proofs.
func TestProofsOnlyBuildLeavesOutCompute(t *testing.T) {
	deps := func(tags string) []string {
		cmd := exec.Command("go", "list", "-deps", "-tags", tags, ".")
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -tags %q: %v\n%s", tags, err, out)
		}
		return strings.Fields(string(out))
	}
	compute := func(pkgs []string) (found []string) {
		for _, p := range pkgs {
			if strings.HasPrefix(p, "github.com/tetratelabs/wazero") || p == "github.com/lightkeeper-net/lightkeeper/verifier/compute" {
				found = append(found, p)
			}
		}
		return found
	}
	if found := compute(deps("lightkeeper_nohttpclient lightkeeper_nocompute")); len(found) > 0 {
		t.Errorf("the proofs-only worker imports %v", found)
	}
	if found := compute(deps("lightkeeper_nohttpclient")); len(found) == 0 {
		t.Error("the full worker imports no compute engine: the test looks for the wrong packages")
	}
}
