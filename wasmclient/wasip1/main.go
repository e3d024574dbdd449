// Command wasip1 is the Lightkeeper keeper module for WebAssembly hosts:
// a GOOS=wasip1 reactor that exposes the verifier, the compute core (run on
// wazero's interpreter inside the module) and the keeper's signatures
// through the byte ABI of ../ABI.md. Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o keeper-wasip1.wasm ./wasmclient/wasip1
//
// (or `make wasm-keeper`). As a reactor it has no _start: the host calls
// _initialize once, which starts the Go runtime and runs package
// initialisers, and then calls the lk_* exports as often as it likes.
// ../host runs it under wazero.
//
// Built for any other target the package is an empty program, so `go
// build ./...`, `go vet ./...` and the native unit tests of the ABI logic
// work on every platform.
package main

// main is never run in a c-shared (reactor) build; it exists because a
// main package needs one.
func main() {}
