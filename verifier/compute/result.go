package compute

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/wasmcheck"
)

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

// TrapKind is how a run ended when it did not end by returning from _start
// or calling proc_exit (wasmcheck.TrapKind: the metering decides the
// first kinds, and the result hash carries them).
type TrapKind = wasmcheck.TrapKind

// The trap kinds (wasmcheck's).
const (
	TrapNone            = wasmcheck.TrapNone
	TrapOutOfFuel       = wasmcheck.TrapOutOfFuel
	TrapStackExhausted  = wasmcheck.TrapStackExhausted
	TrapOutputLimit     = wasmcheck.TrapOutputLimit
	TrapUnreachable     = wasmcheck.TrapUnreachable
	TrapMemoryAccess    = wasmcheck.TrapMemoryAccess
	TrapDivideByZero    = wasmcheck.TrapDivideByZero
	TrapIntegerOverflow = wasmcheck.TrapIntegerOverflow
	TrapIndirectCall    = wasmcheck.TrapIndirectCall
)
