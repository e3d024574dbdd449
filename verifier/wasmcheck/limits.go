package wasmcheck

import (
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Limits are the consensus limits of compute jobs. They are chain
// parameters: every keeper must use the same values, because Check bakes
// some of them into the metered module (the memory maximum) and Run uses the
// others to decide results (output cap, call depth). A Program remembers the
// Limits it was checked with. Its fields are those of
// protocol.ComputeLimits, so the chain's limits convert to it directly:
// compute.Limits(protocol.ComputeLimitsOf(params)).
type Limits struct {
	// MaxModuleBytes bounds the size of the registered module.
	MaxModuleBytes int
	// MaxMemoryPages bounds the linear memory (64 KiB pages). A module
	// declaring more (minimum or maximum) is refused; a module declaring no
	// maximum gets this one written into its metered form, so that
	// memory.grow fails at the same size on every engine.
	MaxMemoryPages uint32
	// MaxTableElements bounds the single funcref table.
	MaxTableElements uint32
	// MaxCallDepth bounds the depth of nested calls. Exceeding it is the
	// deterministic trap TrapStackExhausted. It must stay below every
	// engine's own limit (wazero's interpreter stops at 2,000 frames), so
	// that no engine overflows first; see EngineCallDepthCeiling.
	MaxCallDepth uint32
	// MaxOutputBytes caps what the program writes to stdout. Writing more
	// ends the run with TrapOutputLimit and the first MaxOutputBytes bytes.
	MaxOutputBytes int
	// MaxFuel bounds the fuel a job may ask for.
	MaxFuel uint64
}

// EngineCallDepthCeiling is the largest MaxCallDepth allowed: wazero's
// interpreter raises its own (non-deterministic from the network's point of
// view) stack overflow at 2,000 frames, and the metering must trap first.
const EngineCallDepthCeiling = 1900

// Hard ceilings that no Limits can raise: they follow the implementation
// limits of the JavaScript embedding (V8, workerd), which every browser and
// edge keeper is bound by, so a module that one keeper host cannot even
// load is refused at registration rather than splitting a committee.
const (
	maxFuelCeiling     = 1 << 62 // fuel is a signed i64 in the module
	maxTypes           = 1_000_000
	MaxFunctions       = 1_000_000
	maxImports         = 100_000
	maxExports         = 100_000
	maxGlobals         = 1_000_000
	maxDataSegments    = 100_000
	maxElemSegments    = 10_000_000
	maxParams          = 1_000
	maxResults         = 1_000
	MaxLocals          = 50_000 // per function, including the metering's scratch locals
	MaxFunctionBytes   = 7_654_321
	MaxBrTableEntries  = 65_520
	maxTableCeiling    = 10_000_000
	maxMemoryCeiling   = 65_536 // 4 GiB, the wasm32 maximum
	ScratchLocalsAdded = 3
)

// Compile-complexity limits: consensus rules, like the ceilings above, but
// chosen for a different reason. wazero's optimising compiler is
// super-linear in the nesting of control flow (a function of 5,000 nested
// blocks took 11.5 s of CPU, one of 20,000 more than 8 minutes, in
// passBuildLoopNestingForest), and a compile cannot be interrupted inside
// one function. These limits refuse at registration the shapes no honest
// program has and that make a compile long, so that every accepted module
// compiles within the bound documented in docs/compute.md ("Compile
// limits"), which lists the values measured on real Go programs beside each
// one. A module is refused with ReasonTooLarge, naming the function.
const (
	// MaxBlockDepth bounds the nesting of block, loop and if in one body
	// (Go: at most 549, in its runtime's dispatch loops).
	MaxBlockDepth = 1_000
	// MaxNestingWork bounds, over the whole module, the sum of each body's
	// block count times its deepest nesting: the compile cost that a deep
	// body has beyond its size. One body at MaxBlockDepth costs up to
	// about 10^6; Go programs of 2.6–6.2 MB total 3.2–8.0 million.
	MaxNestingWork = 16_000_000
	// MaxBodyBytes bounds one function body as written (Go: 50,636 bytes).
	MaxBodyBytes = 512 << 10
	// MaxFunctionLocals bounds params plus declared locals of one function
	// (Go: 18).
	MaxFunctionLocals = 10_000
	// MaxBrTableTargets bounds the targets of one br_table, default
	// included (Go: 1,145).
	MaxBrTableTargets = 16_384
	// MaxDefinedFunctions bounds the functions a module defines
	// (Go: 1,760–3,481).
	MaxDefinedFunctions = 100_000
)

// DefaultLimits are the limits of the chain's default compute parameters
// (protocol.DefaultComputeParams, through protocol.ComputeLimitsOf).
func DefaultLimits() Limits {
	return Limits(protocol.ComputeLimitsOf(protocol.DefaultComputeParams()))
}

// Validate reports whether the limits are usable.
func (l Limits) Validate() error {
	switch {
	case l.MaxModuleBytes <= 8:
		return fmt.Errorf("compute: limits: MaxModuleBytes %d too small", l.MaxModuleBytes)
	case l.MaxMemoryPages == 0 || l.MaxMemoryPages > maxMemoryCeiling:
		return fmt.Errorf("compute: limits: MaxMemoryPages %d not in 1..%d", l.MaxMemoryPages, maxMemoryCeiling)
	case l.MaxTableElements > maxTableCeiling:
		return fmt.Errorf("compute: limits: MaxTableElements %d over %d", l.MaxTableElements, maxTableCeiling)
	case l.MaxCallDepth == 0 || l.MaxCallDepth > EngineCallDepthCeiling:
		return fmt.Errorf("compute: limits: MaxCallDepth %d not in 1..%d", l.MaxCallDepth, EngineCallDepthCeiling)
	case l.MaxOutputBytes < 0:
		return fmt.Errorf("compute: limits: MaxOutputBytes %d negative", l.MaxOutputBytes)
	case l.MaxFuel == 0 || l.MaxFuel > maxFuelCeiling:
		return fmt.Errorf("compute: limits: MaxFuel %d not in 1..2^62", l.MaxFuel)
	}
	return nil
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
