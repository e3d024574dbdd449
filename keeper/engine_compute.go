//go:build !lightkeeper_nocompute

package keeper

import (
	"context"

	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// computeBuilt: this build runs compute jobs (Capabilities.Compute).
const computeBuilt = true

// computeEngineKind is NativeEngine.ComputeKind's type; an alias so that
// callers write compute.EngineInterpreter etc. (engine_nocompute.go has
// the build without compute).
type computeEngineKind = compute.EngineKind

// ComputeRunner runs a checked compute program: *compute.Engine (wazero)
// and, in GOOS=js builds, *compute.PlatformEngine. Run's contract is
// compute.Run's: a Result, the same on every runner, or an error wrapping
// compute.ErrAbstain.
type ComputeRunner interface {
	Run(ctx context.Context, p *compute.Program, input []byte, fuel uint64, seed [32]byte, opts compute.Options) (compute.Result, error)
}
