// Package compute is Lightkeeper's deterministic compute core (docs/design.md §3,
// COMPUTE rounds): registration checks for WebAssembly programs, fuel
// metering injected into the module itself, and a deterministic WASI host
// that runs the metered module under wazero.
//
// A program is an ordinary wasip1 command module: stdin is the job's input,
// stdout its output, the exit code part of the result. It is registered
// once and named by the SHA-256 of its bytes (ProgramID).
//
//	p, err := compute.Check(module, compute.DefaultLimits()) // refuse or accept; p.Metered is what runs
//	e, err := compute.NewEngine(ctx, compute.EngineConfig{})  // one per keeper; caches compiled programs
//	r, err := e.Run(ctx, p, input, fuel, roundID, compute.Options{Timeout: 10 * time.Second})
//	if errors.Is(err, compute.ErrAbstain) { /* vote ABSTAIN */ }
//	h := compute.ResultHash(r)                                // what the keeper votes on
//
// Everything a program can do (finish, exit with a code, trap, run out of
// fuel, write too much, recurse too deep) is a Result, the same on every
// honest keeper and every engine: wazero's compiler and interpreter, and
// the browser's own engine (V8, PlatformEngine in js builds) running the
// same metered module with the same host (Host, which is
// engine-independent). workerd refuses to compile WebAssembly at run time,
// so the edge keeper uses wazero's interpreter (RATIONALE.md). Only local conditions (a wall-clock limit, the
// keeper's own memory budget, an engine failure) are errors, and they mean
// ABSTAIN.
//
// The package is pure in the sense of docs/design.md §1: no network, no disk
// (but the compiled-code cache an engine may be given, which never reaches
// a result), no clock or randomness that reaches a result, no package state. It builds
// for linux, js/wasm and wasip1/wasm (where wazero runs its interpreter).
//
// docs/compute.md is the specification: the ABI, the WASI subset and the
// exact behaviour of each function, the fuel model, the float policy, the
// trap kinds, the result hash encoding, and the rationale.
package compute
