package protocol

import (
	"errors"
	"testing"
)

// TestSizeLimitsNeverAboveKeepers: keepers verify proofs under
// DefaultLimits, so a chain whose size limits exceed them would admit
// proofs its keepers refuse. Every limit may be lowered, none raised.
func TestSizeLimitsNeverAboveKeepers(t *testing.T) {
	d := DefaultLimits()
	if err := d.Validate(); err != nil {
		t.Fatalf("the keepers' own limits: %v", err)
	}
	lower := Limits{MaxVerifyingKeyBytes: 1, MaxProofBytes: 1, MaxPublicInputBytes: 1, MaxPublicInputs: 1}
	if err := lower.Validate(); err != nil {
		t.Errorf("lowered limits: %v", err)
	}
	for name, raise := range map[string]func(*Limits){
		"max_verifying_key_bytes": func(l *Limits) { l.MaxVerifyingKeyBytes++ },
		"max_proof_bytes":         func(l *Limits) { l.MaxProofBytes++ },
		"max_public_input_bytes":  func(l *Limits) { l.MaxPublicInputBytes++ },
		"max_public_inputs":       func(l *Limits) { l.MaxPublicInputs++ },
	} {
		l := d
		raise(&l)
		var pe *ParamError
		if err := l.Validate(); !errors.As(err, &pe) || pe.Field != "params.size_limits."+name {
			t.Errorf("%s one above the keepers' limit: %v, want a ParamError naming params.size_limits.%s", name, err, name)
		}
	}
}
