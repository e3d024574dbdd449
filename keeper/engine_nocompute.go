//go:build lightkeeper_nocompute

package keeper

import (
	"context"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// The proofs-only build: nothing here imports verifier/compute, so wazero
// (and the compute checker) stay out of the binary. The edge worker's
// proofs-only bundles (make edge-worker-proofs, make edge-worker-bn254) are
// built this way, 0.6 MB smaller gzipped — still over the Workers Free
// plan's 3 MB (docs/benchmarks.md §7, "Edge bundle").

// computeBuilt: this build abstains on compute jobs (Capabilities.Compute).
const computeBuilt = false

// computeEngineKind stands in for compute.EngineKind: there is no compute
// engine to choose.
type computeEngineKind struct{}

// ComputeRunner cannot be implemented outside this package in this build:
// there is no compute program type to run.
type ComputeRunner interface{ noCompute() }

// checkCompute abstains as a keeper abstains on any task kind it does not
// support (TaskJob): a keeper that cannot run the job has no evidence
// about its result.
func (NativeEngine) checkCompute(context.Context, *lightkeeperv1.Task) Verdict {
	return abstain(lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED, "compute jobs are not built into this keeper (proofs-only build)")
}

// newProgramLoader has nothing to load programs for: the engine abstains
// on compute tasks without looking at the module, so the keeper does not
// fetch it.
func newProgramLoader(inner Engine, _ func(context.Context, string) ([]byte, error)) Engine {
	return inner
}
