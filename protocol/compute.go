package protocol

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Bounds of the [compute] parameters.
const (
	// MaxComputeModuleBytes bounds compute.max_module_bytes, and
	// ComputeLimits caps the module size it gives at it (docs/design.md §13,
	// "One module-size cap").
	MaxComputeModuleBytes = 64 << 20
	// MaxComputeOutputBytes bounds compute.max_output_bytes: the output
	// rides in the leader's vote.
	MaxComputeOutputBytes = 64 << 10
	// MaxComputeInputBytes bounds compute.max_input_bytes.
	MaxComputeInputBytes = 16 << 20
	// MaxComputeCallDepth bounds compute.max_call_depth. Every engine must
	// trap on the metered depth before its own stack gives out (wazero's
	// interpreter stops at 2,000 frames; verifier/compute checks that this
	// bound stays below its EngineCallDepthCeiling).
	MaxComputeCallDepth = 1900
	// MaxComputeMemoryPages bounds compute.max_memory_pages: 4 GiB, the
	// wasm32 maximum.
	MaxComputeMemoryPages = 65_536
	// MaxComputeTableElements bounds compute.max_table_elements.
	MaxComputeTableElements = 10_000_000
	// maxFuelParam is the largest fuel a module's i64 counter can hold.
	maxFuelParam = uint64(1) << 62
	// minModuleBytes is one byte more than the 8-byte WebAssembly header.
	minModuleBytes = 9
)

// ComputeLimits bounds what a registered program may be and do: the plain
// numbers a compute engine (verifier/compute, whose Limits has exactly
// these fields) checks and runs programs under. ComputeLimitsOf is the one
// conversion from the chain's ComputeParams, used by the chain and every
// keeper host alike.
type ComputeLimits struct {
	MaxModuleBytes   int
	MaxMemoryPages   uint32
	MaxTableElements uint32
	MaxCallDepth     uint32
	MaxOutputBytes   int
	MaxFuel          uint64
}

// DefaultComputeParams returns the [compute] defaults: 8 MiB modules,
// 128 MiB memory, 65,536 table elements, call depth 1,024, 64 KiB of
// output, fuel up to 2⁴⁰ and inputs up to 1 MiB.
func DefaultComputeParams() *lightkeeperv1.ComputeParams {
	return &lightkeeperv1.ComputeParams{
		MaxModuleBytes:   8 << 20,
		MaxMemoryPages:   2048,
		MaxTableElements: 1 << 16,
		MaxCallDepth:     1024,
		MaxOutputBytes:   64 << 10,
		MaxFuel:          1 << 40,
		MaxInputBytes:    1 << 20,
	}
}

// ComputeLimitsOf turns the chain's compute parameters into the limits
// programs are checked and run under. The module size is capped at
// MaxComputeModuleBytes, the bound ValidateParams enforces, so that a
// keeper handed unvalidated parameters never accepts a module the chain
// cannot register.
func ComputeLimitsOf(p *lightkeeperv1.ComputeParams) ComputeLimits {
	return ComputeLimits{
		MaxModuleBytes:   int(min(p.GetMaxModuleBytes(), MaxComputeModuleBytes)),
		MaxMemoryPages:   p.GetMaxMemoryPages(),
		MaxTableElements: p.GetMaxTableElements(),
		MaxCallDepth:     p.GetMaxCallDepth(),
		MaxOutputBytes:   int(p.GetMaxOutputBytes()),
		MaxFuel:          p.GetMaxFuel(),
	}
}

// validateCompute checks the [compute] parameters and staking.fuel_per_unit.
func validateCompute(p *lightkeeperv1.ConsensusParams) error {
	bad := func(field, format string, args ...any) error {
		return &ParamError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if f := p.GetStaking().GetFuelPerUnit(); f < 1 || f > maxFuelParam {
		return bad("params.staking.fuel_per_unit", "must be in 1..%d (got %d)", maxFuelParam, f)
	}
	c := p.Compute
	if c == nil {
		return bad("params.compute", "missing")
	}
	for _, r := range []struct {
		field  string
		v, lo  uint64
		hi     uint64
		suffix string
	}{
		{"params.compute.max_module_bytes", c.MaxModuleBytes, minModuleBytes, MaxComputeModuleBytes, " bytes"},
		{"params.compute.max_memory_pages", uint64(c.MaxMemoryPages), 1, MaxComputeMemoryPages, " pages"},
		{"params.compute.max_table_elements", uint64(c.MaxTableElements), 0, MaxComputeTableElements, ""},
		{"params.compute.max_call_depth", uint64(c.MaxCallDepth), 1, MaxComputeCallDepth, ""},
		{"params.compute.max_output_bytes", uint64(c.MaxOutputBytes), 0, MaxComputeOutputBytes, " bytes"},
		{"params.compute.max_fuel", c.MaxFuel, 1, maxFuelParam, ""},
		{"params.compute.max_input_bytes", c.MaxInputBytes, 0, MaxComputeInputBytes, " bytes"},
	} {
		if r.v < r.lo || r.v > r.hi {
			return bad(r.field, "must be in %d..%d%s (got %d)", r.lo, r.hi, r.suffix, r.v)
		}
	}
	return nil
}

// MaxComputeTrap is the largest trap kind a compute result may carry
// (verifier/compute's TrapIndirectCall; its tests check the two agree).
const MaxComputeTrap = 8

// ComputeResultDomain prefixes the compute result hash.
const ComputeResultDomain = "lightkeeper/compute/result/v1\x00"

// ComputeResultHash is the hash keepers vote on in a compute round:
//
//	SHA-256( ComputeResultDomain
//	         || trap       (1 byte)
//	         || exit code  (4 bytes, big-endian)
//	         || fuel used  (8 bytes, big-endian)
//	         || SHA-256(output) (32 bytes) )
//
// Hashing the output's hash (not the output) lets a coordinator that holds
// only the leader's uploaded output and the other fields recompute it.
// trap must be at most MaxComputeTrap (callers check it first: it is
// hashed as one byte).
func ComputeResultHash(trap, exitCode uint32, fuelUsed uint64, outputHash [32]byte) [32]byte {
	b := make([]byte, 0, len(ComputeResultDomain)+1+4+8+32)
	b = append(b, ComputeResultDomain...)
	b = append(b, byte(trap))
	b = binary.BigEndian.AppendUint32(b, exitCode)
	b = binary.BigEndian.AppendUint64(b, fuelUsed)
	b = append(b, outputHash[:]...)
	return sha256.Sum256(b)
}
