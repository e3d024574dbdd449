package wasmcheck

import (
	"fmt"
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
