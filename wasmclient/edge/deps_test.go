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
	compute := func(pkgs []string) (found []string) {
		for _, p := range pkgs {
			if strings.HasPrefix(p, "github.com/tetratelabs/wazero") || p == "github.com/lightkeeper-net/lightkeeper/verifier/compute" {
				found = append(found, p)
			}
		}
		return found
	}
	if found := compute(workerDeps(t, "lightkeeper_nohttpclient lightkeeper_nocompute")); len(found) > 0 {
		t.Errorf("the proofs-only worker imports %v", found)
	}
	if found := compute(workerDeps(t, "lightkeeper_nohttpclient")); len(found) == 0 {
		t.Error("the full worker imports no compute engine: the test looks for the wrong packages")
	}
}

// TestBN254BuildLeavesOutBLS12381 checks what make edge-worker-bn254 links:
// no BLS12-381 package of gnark or gnark-crypto other than the scalar
// field (gnark's witness package imports every curve's fr), and with
// GROTH16_ONLY=1 no PLONK backend either; the proofs-only build must
// still have both, or the test looks for the wrong packages.
func TestBN254BuildLeavesOutBLS12381(t *testing.T) {
	bls := func(p string) bool {
		return strings.Contains(p, "/bls12-381") && !strings.HasSuffix(p, "/bls12-381/fr")
	}
	plonk := func(p string) bool { return strings.HasPrefix(p, "github.com/consensys/gnark/backend/plonk") }
	filter := func(pkgs []string, f func(string) bool) (found []string) {
		for _, p := range pkgs {
			if f(p) {
				found = append(found, p)
			}
		}
		return found
	}
	const proofs = "lightkeeper_nohttpclient lightkeeper_nocompute"
	all := workerDeps(t, proofs)
	if len(filter(all, bls)) == 0 || len(filter(all, plonk)) == 0 {
		t.Fatal("the proofs-only worker links no BLS12-381 or no PLONK package: the test looks for the wrong packages")
	}
	bn254 := workerDeps(t, proofs+" lightkeeper_nobls12381")
	if found := filter(bn254, bls); len(found) > 0 {
		t.Errorf("the BN254 worker imports %v", found)
	}
	if len(filter(bn254, plonk)) == 0 {
		t.Error("the BN254 worker links no PLONK backend")
	}
	if found := filter(workerDeps(t, proofs+" lightkeeper_nobls12381 lightkeeper_noplonk"), plonk); len(found) > 0 {
		t.Errorf("the Groth16-BN254 worker imports %v", found)
	}
}

// workerDeps lists the packages the worker links under tags (GOOS=js).
func workerDeps(t *testing.T, tags string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", tags, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -tags %q: %v\n%s", tags, err, out)
	}
	return strings.Fields(string(out))
}
