package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"github.com/lightkeeper-net/lightkeeper/verifier/snarkjs"
)

// snarkjsItems is real circom/snarkjs Groth16 material (the fixtures of
// verifier/snarkjs, made by circom2 and snarkjs) converted the way the
// API converts it, as workload items: both circuits' valid proofs, which
// every keeper host must approve, and the multiplier's proof with a wrong
// public input, which it must reject. The browser and edge tests add them
// to their workload so that the JavaScript keepers verify snarkjs proofs
// too (tests/clients_test.go covers native and wasip1 keepers with
// material made in the run).
func snarkjsItems(t *testing.T) []workload.Item {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "verifier", "snarkjs", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	item := func(name, circuit string, public []byte, want workload.Expect) workload.Item {
		m, err := snarkjs.Convert(read(circuit+"_vk.json"), read(circuit+"_proof.json"), public)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return workload.Item{Name: "snarkjs/" + name, Scheme: verifier.SchemeGroth16, Curve: verifier.CurveBN254,
			VK: m.VerifyingKey, Proof: m.Proof, Public: m.Public, Want: want}
	}
	return []workload.Item{
		item("mul/valid", "mul", read("mul_public.json"), workload.Approved),
		item("range/valid", "range", read("range_public.json"), workload.Approved),
		item("mul/wrong-public-input", "mul", []byte(`["34"]`), workload.Rejected),
	}
}
