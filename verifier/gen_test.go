package verifier

import (
	"bytes"
	"os"
	"testing"
)

// generateBls12381 is gen.go's transformation (gen.go is a separate
// program, so it cannot be imported). Keep the two identical.
func generateBls12381(src []byte, from string) []byte {
	build := "!lightkeeper_nobls12381"
	if rest, ok := bytes.CutPrefix(src, []byte("//go:build ")); ok {
		line, _, _ := bytes.Cut(rest, []byte("\n"))
		if bytes.Contains(line, []byte("||")) {
			panic("build constraint with || in " + from)
		}
		build = string(line) + " && " + build
	}
	i := bytes.Index(src, []byte("\nimport ("))
	if i < 0 {
		panic("no import block in " + from)
	}
	body := src[i+1:]
	body = bytes.ReplaceAll(body, []byte("CurveBN254"), []byte("CurveBLS12_381"))
	body = bytes.ReplaceAll(body, []byte("Bn254"), []byte("Bls12381"))
	body = bytes.ReplaceAll(body, []byte("bn254"), []byte("bls12-381"))
	body = bytes.ReplaceAll(body, []byte("BN254"), []byte("BLS12-381"))
	var out bytes.Buffer
	out.WriteString("// Code generated from " + from + " by gen.go; DO NOT EDIT.\n\n")
	out.WriteString("//go:build " + build + "\n\n")
	out.WriteString("package verifier\n\n")
	out.Write(body)
	return out.Bytes()
}

func TestGeneratedCurveFiles(t *testing.T) {
	for from, to := range map[string]string{
		"backend_bn254.go":       "backend_bls12381.go",
		"groth16_batch_bn254.go": "groth16_batch_bls12381.go",
		"plonk_bn254.go":         "plonk_bls12381.go",
	} {
		src, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(to)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, generateBls12381(src, from)) {
			t.Errorf("%s is out of date with %s; run go generate ./verifier/", to, from)
		}
	}
}
