// Package wasmhost runs Lightkeeper's keeper module (../wasip1, a GOOS=wasip1
// reactor) under wazero, and plugs it into the keeper core as a
// keeper.Engine whose every check happens inside the module: proofs with
// the verifier, compute jobs with verifier/compute on wazero's
// interpreter inside the module (Host.RunCompute).
//
// One Host holds one wazero runtime and one compiled module; instances of
// it are created on demand, up to a configured maximum, and pooled, so
// concurrent checks never share an instance's memory and an instance that
// fails is replaced rather than reused. Compiled machine code can be kept
// on disk (Config.WithCompilationCacheDir) so that a restart skips
// compilation.
//
// The module talks through the byte ABI of ../ABI.md; ../RATIONALE.md
// explains its shape, the pooling and the cache. The module file is built,
// never committed: `make wasm-keeper` writes bin/keeper-wasip1.wasm, and
// BuildModule does the same from Go (the tests use it).
//
//	h, err := wasmhost.Load(ctx, "bin/keeper-wasip1.wasm",
//		wasmhost.NewConfig().WithCompilationCacheDir(dir))
//	...
//	defer h.Close(ctx)
//	cfg := keeper.NewConfig().WithEngine(h.Engine())
package wasmhost
