package verifier

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var updateGenerated = flag.Bool("update", false, "rewrite the generated BLS12-381 files")

// generatedCurveFiles maps each hand-written BN254 file to its generated
// BLS12-381 twin.
var generatedCurveFiles = map[string]string{
	"groth16_bn254.go": "groth16_bls12381.go",
	"plonk_bn254.go":   "plonk_bls12381.go",
}

// generateBls12381 derives the BLS12-381 file from the BN254 one: drop the
// leading comment, rename identifiers and import paths.
func generateBls12381(src []byte, from string) []byte {
	i := bytes.Index(src, []byte("\nimport ("))
	if i < 0 {
		panic("no import block in " + from)
	}
	body := src[i+1:]
	body = bytes.ReplaceAll(body, []byte("Bn254"), []byte("Bls12381"))
	body = bytes.ReplaceAll(body, []byte("bn254"), []byte("bls12-381"))
	body = bytes.ReplaceAll(body, []byte("BN254"), []byte("BLS12-381"))
	var out bytes.Buffer
	out.WriteString("// Code generated from " + from + " by TestGeneratedCurveFiles (go generate); DO NOT EDIT.\n\n")
	out.WriteString("package verifier\n\n")
	out.Write(body)
	return out.Bytes()
}

func TestGeneratedCurveFiles(t *testing.T) {
	for from, to := range generatedCurveFiles {
		src, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		want := generateBls12381(src, from)
		if *updateGenerated {
			if err := os.WriteFile(to, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(to)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date with %s; run go generate ./verifier/", to, from)
		}
	}
}
