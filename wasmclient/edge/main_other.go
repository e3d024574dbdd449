//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// The worker runs only as WebAssembly under a Workers runtime; natively
// this package builds only so its tests (config_test.go) can run.
func main() {
	fmt.Fprintln(os.Stderr, "the edge worker is built with GOOS=js GOARCH=wasm: run `make edge-worker` (see README.md)")
	os.Exit(2)
}
