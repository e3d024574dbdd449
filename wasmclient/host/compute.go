package wasmhost

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// computeHeader is the size of lk_compute's fixed header (ABI.md).
const computeHeader = 128

// computeResultHeader is the size of lk_compute's output before the
// program's output bytes: trap, exit code, fuel used.
const computeResultHeader = 16

// ProgramRefusedError is a compute program that compute.Check, inside the
// module, refused under the job's limits. A keeper abstains on it, as it
// does natively when a program cannot be loaded.
type ProgramRefusedError struct {
	Message string // compute.Check's error text
}

func (e *ProgramRefusedError) Error() string {
	return "wasm keeper module: compute program refused: " + e.Message
}

// Unwrap makes the refusal an abstention (compute.ErrAbstain), like every
// error of RunCompute.
func (e *ProgramRefusedError) Unwrap() error { return compute.ErrAbstain }

// AbstainError is a compute job that ran inside the module to no result:
// compute.Run returned an error there (fuel over the limit, the local
// memory budget, an engine failure).
type AbstainError struct {
	Message string // compute.Run's error text
}

func (e *AbstainError) Error() string { return "wasm keeper module: " + e.Message }

// Unwrap returns compute.ErrAbstain.
func (e *AbstainError) Unwrap() error { return compute.ErrAbstain }

// RunCompute runs a compute job inside the module with wazero's
// interpreter: module is the program as registered (its id is its
// SHA-256), checked there with compute.Check under limits; input, fuel
// and seed are compute.Run's. The result is byte for byte the native one
// (compute.ResultHash, FuelUsed, output).
//
// ctx's deadline is the wall-clock limit. The module cannot be
// interrupted mid-run (ABI.md, "lk_compute"), so it keeps the deadline by
// running the job with the fuel it can burn in the time left, and
// abstains when that is not the job's whole fuel; a result that arrives
// after ctx ended is not returned either. A non-nil error always means the
// keeper abstains and wraps compute.ErrAbstain; it is a
// *ProgramRefusedError when compute.Check refused the program.
//
// The instance that runs the job keeps the checked and compiled program
// for later jobs; another instance checks and compiles it again the first
// time it gets the program (RATIONALE.md, "Compute jobs").
func (h *Host) RunCompute(ctx context.Context, module []byte, limits compute.Limits, input []byte, fuel uint64, seed [32]byte) (compute.Result, error) {
	return h.runCompute(ctx, compute.ProgramIDOf(module), module, limits, input, fuel, seed)
}

// runCompute is RunCompute for a caller that knows the program id already.
func (h *Host) runCompute(ctx context.Context, id compute.ProgramID, module []byte, limits compute.Limits, input []byte, fuel uint64, seed [32]byte) (compute.Result, error) {
	n := int64(computeHeader) + int64(len(module)) + int64(len(input))
	if n > MaxInput {
		return compute.Result{}, fmt.Errorf("%w: %w", compute.ErrAbstain, ErrInputTooLarge)
	}
	wallClock := func() (compute.Result, error) {
		return compute.Result{}, fmt.Errorf("%w: wasm keeper module: wall-clock limit: %w", compute.ErrAbstain, context.Cause(ctx))
	}
	if ctx.Err() != nil {
		return wallClock()
	}
	var budget uint64 // nanoseconds; 0: no deadline
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if left <= 0 {
			return wallClock()
		}
		budget = uint64(left)
	}
	out, err := h.run(ctx, "compute", func(in *instance) api.Function { return in.fn.compute }, int(n), func(b []byte) {
		le := binary.LittleEndian
		copy(b[0:32], id[:])
		copy(b[32:64], seed[:])
		le.PutUint64(b[64:], fuel)
		le.PutUint64(b[72:], budget)
		le.PutUint64(b[80:], uint64(int64(limits.MaxModuleBytes))) // two's complement: the module reads int64
		le.PutUint64(b[88:], uint64(int64(limits.MaxOutputBytes)))
		le.PutUint64(b[96:], limits.MaxFuel)
		le.PutUint32(b[104:], limits.MaxMemoryPages)
		le.PutUint32(b[108:], limits.MaxTableElements)
		le.PutUint32(b[112:], limits.MaxCallDepth)
		le.PutUint32(b[116:], h.cfg.memoryLimitPages)
		le.PutUint32(b[120:], uint32(len(module)))
		le.PutUint32(b[124:], uint32(len(input)))
		copy(b[computeHeader:], module)
		copy(b[computeHeader+len(module):], input)
	})
	var se *StatusError
	switch {
	case ctx.Err() != nil:
		// The context ended while waiting for an instance, or while the
		// job ran: the vote would be too late, as a native run would have
		// been stopped by then.
		return wallClock()
	case err == nil:
	case errors.As(err, &se) && se.Status == StatusProgramRefused:
		return compute.Result{}, &ProgramRefusedError{Message: se.Message}
	case errors.As(err, &se) && se.Status == StatusAbstain:
		return compute.Result{}, &AbstainError{Message: se.Message}
	default:
		return compute.Result{}, fmt.Errorf("%w: %w", compute.ErrAbstain, err)
	}
	res, err := decodeComputeResult(out)
	if err != nil {
		return compute.Result{}, fmt.Errorf("%w: wasm keeper module: compute: %w", compute.ErrAbstain, err)
	}
	return res, nil
}

// decodeComputeResult reads lk_compute's output: u32 trap, u32 exit code,
// u64 fuel used, then the program's output. The bytes come from the
// module, so it checks their length and the trap's range, and never
// panics.
func decodeComputeResult(out []byte) (compute.Result, error) {
	if len(out) < computeResultHeader {
		return compute.Result{}, fmt.Errorf("result of %d bytes, want at least %d", len(out), computeResultHeader)
	}
	le := binary.LittleEndian
	trap := le.Uint32(out)
	if trap > uint32(compute.TrapIndirectCall) {
		return compute.Result{}, fmt.Errorf("result has trap kind %d, beyond the known ones", trap)
	}
	res := compute.Result{
		Trap:     compute.TrapKind(trap),
		ExitCode: le.Uint32(out[4:]),
		FuelUsed: le.Uint64(out[8:]),
	}
	if len(out) > computeResultHeader { // no output is nil, as compute.Run returns it
		res.Output = out[computeResultHeader:]
	}
	return res, nil
}
