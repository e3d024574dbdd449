package wasmcheck

import (
	"testing"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// TestProtocolBoundsFitEngines: the chain's compute bounds (protocol) must
// stay within what every engine here can honour, and protocol's largest
// trap kind must be this package's, or a certificate checker would accept a
// result no engine can produce (or refuse one it can).
func TestProtocolBoundsFitEngines(t *testing.T) {
	if protocol.MaxComputeCallDepth > EngineCallDepthCeiling {
		t.Errorf("protocol.MaxComputeCallDepth %d above EngineCallDepthCeiling %d", protocol.MaxComputeCallDepth, EngineCallDepthCeiling)
	}
	if protocol.MaxComputeMemoryPages > maxMemoryCeiling || protocol.MaxComputeTableElements > maxTableCeiling {
		t.Errorf("protocol memory/table bounds %d/%d above the engine ceilings %d/%d", protocol.MaxComputeMemoryPages, protocol.MaxComputeTableElements, maxMemoryCeiling, maxTableCeiling)
	}
	if protocol.MaxComputeTrap != int(TrapIndirectCall) {
		t.Errorf("protocol.MaxComputeTrap %d, but the last trap kind is %d", protocol.MaxComputeTrap, TrapIndirectCall)
	}
	// The bounds themselves must make valid limits.
	max := protocol.ComputeLimits{MaxModuleBytes: protocol.MaxComputeModuleBytes, MaxMemoryPages: protocol.MaxComputeMemoryPages,
		MaxTableElements: protocol.MaxComputeTableElements, MaxCallDepth: protocol.MaxComputeCallDepth,
		MaxOutputBytes: protocol.MaxComputeOutputBytes, MaxFuel: 1 << 62}
	if err := Limits(max).Validate(); err != nil {
		t.Errorf("protocol's largest compute limits: %v", err)
	}
	if err := DefaultLimits().Validate(); err != nil {
		t.Errorf("default limits: %v", err)
	}
}
