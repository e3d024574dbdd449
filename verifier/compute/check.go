package compute

import (
	"context"

	"github.com/lightkeeper-net/lightkeeper/verifier/wasmcheck"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// wazeroFeatures is WebAssembly 2.0 without SIMD. wazero enables
// bulk-memory and reference types only together; the reference-type and
// table instructions are refused by wasmcheck's own walker, so only
// what docs/compute.md lists reaches an engine.
const wazeroFeatures = api.CoreFeaturesV2 &^ api.CoreFeatureSIMD

// Check is wasmcheck.Check (the chain's registration rules and the
// metering) followed by wazero's full validation of the module as written
// (types, stack discipline, indices), which needs a WebAssembly runtime and
// so is not part of the chain's rules: a module the chain registered but
// wazero refuses is refused here, identically on every keeper host (every
// host links this same wazero, the browser and edge builds included), and
// keepers abstain on its rounds (keeper/compute.go).
func Check(module []byte, limits Limits) (*Program, error) {
	p, err := wasmcheck.Check(module, limits)
	if err != nil {
		return nil, err
	}
	if err := Validate(module); err != nil {
		return nil, err
	}
	return p, nil
}

// Validate is wazero's full validation of module alone, refused as
// ReasonInvalidModule: what Check adds to wasmcheck.Check.
func Validate(module []byte) error {
	if err := validate(module); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// validate compiles b with wazero's interpreter, which validates the whole
// module, and discards the result.
func validate(b []byte) error {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(wazeroFeatures))
	defer rt.Close(ctx)
	cm, err := rt.CompileModule(ctx, b)
	if err != nil {
		return err
	}
	return cm.Close(ctx)
}

// invalid is a ReasonInvalidModule refusal.
func invalid(format string, args ...any) *CheckError {
	return &CheckError{Reason: ReasonInvalidModule, Detail: sprintf(format, args...)}
}
