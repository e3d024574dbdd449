//go:build ignore

// gen.go writes backend_bls12381.go, the BLS12-381 twin of backend_bn254.go,
// by renaming identifiers and import paths (gnark and gnark-crypto lay out
// their per-curve packages identically, so the twin calls the BLS12-381
// backends with the same code). Run it with go generate ./verifier/;
// TestGeneratedCurveFiles (gen_test.go, same transformation) fails when the
// twin is stale.
package main

import (
	"bytes"
	"log"
	"os"
)

var files = map[string]string{
	"backend_bn254.go":       "backend_bls12381.go",
	"groth16_batch_bn254.go": "groth16_batch_bls12381.go",
	"plonk_bn254.go":         "plonk_bls12381.go",
}

func main() {
	for from, to := range files {
		src, err := os.ReadFile(from)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(to, generate(src, from), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// generate drops the leading comment, renames identifiers and import paths,
// and adds !lightkeeper_nobls12381 to the source's build constraint (a
// single tag expression without ||, as plonk_bn254.go's), so that tag
// leaves every BLS12-381 backend out. Keep it identical to
// generateBls12381 in gen_test.go.
func generate(src []byte, from string) []byte {
	build := "!lightkeeper_nobls12381"
	if rest, ok := bytes.CutPrefix(src, []byte("//go:build ")); ok {
		line, _, _ := bytes.Cut(rest, []byte("\n"))
		if bytes.Contains(line, []byte("||")) {
			log.Fatal("build constraint with || in " + from)
		}
		build = string(line) + " && " + build
	}
	i := bytes.Index(src, []byte("\nimport ("))
	if i < 0 {
		log.Fatal("no import block in " + from)
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
