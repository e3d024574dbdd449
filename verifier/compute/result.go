package compute

import (
	"crypto/sha256"

	"encoding/hex"
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// TrapKind is how a run ended when it did not end by returning from _start
// or calling proc_exit. Every kind is deterministic: all honest keepers
// report the same one for the same job. The numeric values are part of the
// result hash and never change.
//
// Engine errors are grouped so that no two engines can name one trap
// differently: wazero says "integer overflow" both for i32.div_s(MIN, -1)
// and for an out-of-range float-to-int conversion, V8 says different things
// for the two, so both are TrapIntegerOverflow together with the
// conversion of a NaN; every failed call_indirect (index out of the table,
// empty entry, wrong signature) is TrapIndirectCall.
type TrapKind uint8

const (
	TrapNone TrapKind = iota
	// TrapOutOfFuel: the fuel ran out. FuelUsed is the whole limit.
	TrapOutOfFuel
	// TrapStackExhausted: calls nested deeper than Limits.MaxCallDepth.
	TrapStackExhausted
	// TrapOutputLimit: the program wrote more than Limits.MaxOutputBytes
	// to stdout; Output holds the first MaxOutputBytes bytes.
	TrapOutputLimit
	// TrapUnreachable: the program executed unreachable.
	TrapUnreachable
	// TrapMemoryAccess: a load, store or bulk operation out of bounds.
	TrapMemoryAccess
	// TrapDivideByZero: integer division or remainder by zero.
	TrapDivideByZero
	// TrapIntegerOverflow: signed division overflow, or a float-to-int
	// conversion of a NaN or of a value out of range.
	TrapIntegerOverflow
	// TrapIndirectCall: call_indirect out of the table, to an empty entry
	// or with the wrong signature.
	TrapIndirectCall
)

var trapNames = [...]string{
	TrapNone:            "none",
	TrapOutOfFuel:       "out_of_fuel",
	TrapStackExhausted:  "stack_exhausted",
	TrapOutputLimit:     "output_limit",
	TrapUnreachable:     "unreachable",
	TrapMemoryAccess:    "memory_access",
	TrapDivideByZero:    "divide_by_zero",
	TrapIntegerOverflow: "integer_overflow",
	TrapIndirectCall:    "indirect_call",
}

func (t TrapKind) String() string {
	if int(t) < len(trapNames) {
		return trapNames[t]
	}
	return fmt.Sprintf("trap(%d)", uint8(t))
}

// Result is the deterministic outcome of one job: what every honest keeper
// computes for the same (program, input, fuel, seed).
type Result struct {
	// Output is what the program wrote to stdout (at most
	// Limits.MaxOutputBytes), including what it wrote before a trap.
	Output []byte
	// ExitCode is the proc_exit code, 0 when _start returned; 0 when the
	// run trapped.
	ExitCode uint32
	// FuelUsed is the fuel consumed; the whole limit when out of fuel.
	FuelUsed uint64
	// Trap is TrapNone unless the run trapped.
	Trap TrapKind
}

func (r Result) String() string {
	return fmt.Sprintf("exit=%d trap=%s fuel=%d output=%d bytes (sha256 %s)",
		r.ExitCode, r.Trap, r.FuelUsed, len(r.Output), hex.EncodeToString(sha256Sum(r.Output)))
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// OutputHash is SHA-256 of the output bytes.
func OutputHash(output []byte) [32]byte { return sha256.Sum256(output) }

// ResultHash is the hash keepers vote on: protocol.ComputeResultHash of
// the result, its output hashed first.
func ResultHash(r Result) [32]byte {
	oh := OutputHash(r.Output)
	return protocol.ComputeResultHash(uint32(r.Trap), r.ExitCode, r.FuelUsed, oh)
}
