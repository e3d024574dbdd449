// Package wasmcheck is the chain's half of compute: the registration check
// of a WebAssembly program (a strict decoder of the binary format, the
// deterministic WASI subset, memory/table/export policy and the
// compile-complexity limits), the metering it injects (fuel, call depth,
// canonical NaNs), the trap kinds and the result hash. It imports no
// WebAssembly runtime, network, filesystem or clock, so the state machine
// checks every program itself (docs/design.md §5, §11). verifier/compute
// runs what this package accepts, and adds wazero's full validation on
// keepers.
package wasmcheck
