package keeper

import (
	"context"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
	"github.com/lightkeeper-net/lightkeeper/verifier/wasmcheck"
)

// TestModuleOnlyWazeroRefuses: the chain registers modules that pass
// wasmcheck's structural check; one that wazero's full validation refuses
// (here _start leaves an i32 on the stack of a [] -> [] function) must get
// the same verdict from every engine: ABSTAIN, reason UNSUPPORTED, the same
// detail, so its rounds end TIMEOUT and never decide a result.
func TestModuleOnlyWazeroRefuses(t *testing.T) {
	mod := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" +
		"\x03\x02\x01\x00" +
		"\x05\x03\x01\x00\x01" +
		"\x07\x13\x02\x06_start\x00\x00\x06memory\x02\x00" +
		"\x0a\x06\x01\x04\x00\x41\x00\x0b") // body: i32.const 0, end
	if _, err := wasmcheck.Check(mod, compute.DefaultLimits()); err != nil {
		t.Fatalf("the chain's check refuses the module: %v", err)
	}
	if _, err := compute.Check(mod, compute.DefaultLimits()); compute.ReasonOf(err) != compute.ReasonInvalidModule {
		t.Fatalf("compute.Check: %v, want an invalid module", err)
	}
	kinds := []compute.EngineKind{compute.EngineInterpreter, compute.EngineAuto}
	var details []string
	for _, kind := range kinds {
		v := NativeEngine{ComputeKind: kind}.Check(context.Background(), exampleprog.Task(mod, "", 1000, true, 9))
		if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || v.Reason != lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED || v.Compute != nil {
			t.Fatalf("%v: verdict %v %v %q, want ABSTAIN UNSUPPORTED", kind, v.Kind, v.Reason, v.Detail)
		}
		details = append(details, v.Detail)
	}
	if details[0] != details[1] {
		t.Fatalf("engines disagree: %q / %q", details[0], details[1])
	}
	t.Log(details[0])
}
