package protocol

import (
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Limits bounds the work a single proof job may cause: the chain's size
// limits (ConsensusParams.size_limits, SizeLimitsOf), which the machine and
// the service's admission apply alike; keepers verify under them too. Sizes are checked
// before anything is parsed. A zero or negative field means the default
// value.
type Limits struct {
	MaxVerifyingKeyBytes int
	MaxProofBytes        int
	MaxPublicInputBytes  int
	MaxPublicInputs      int
}

// Default limits. A Groth16 key costs one compressed G1 point (32 or 48
// bytes) per public input, so 1 MiB allows ~20,000 inputs on BLS12-381;
// proofs of both schemes are well under 2 KiB.
const (
	DefaultMaxVerifyingKeyBytes = 1 << 20
	DefaultMaxProofBytes        = 64 << 10
	DefaultMaxPublicInputBytes  = 64 << 10
	DefaultMaxPublicInputs      = 1024
)

// Upper bounds of the size limits a chain may set. A signed transaction
// body is at most MaxTxBodyBytes and carries a key or a proof with its
// inputs, so no larger limit could ever be used.
const (
	MaxSizeLimitBytes = MaxTxBodyBytes
	MaxPublicInputs   = 1 << 16
)

// DefaultLimits returns 1 MiB keys, 64 KiB proofs, 64 KiB public inputs and
// at most 1024 public inputs.
func DefaultLimits() Limits {
	return Limits{
		MaxVerifyingKeyBytes: DefaultMaxVerifyingKeyBytes,
		MaxProofBytes:        DefaultMaxProofBytes,
		MaxPublicInputBytes:  DefaultMaxPublicInputBytes,
		MaxPublicInputs:      DefaultMaxPublicInputs,
	}
}

// DefaultSizeLimits is DefaultLimits as chain parameters.
func DefaultSizeLimits() *lightkeeperv1.SizeLimits {
	d := DefaultLimits()
	return &lightkeeperv1.SizeLimits{
		MaxVerifyingKeyBytes: uint32(d.MaxVerifyingKeyBytes),
		MaxProofBytes:        uint32(d.MaxProofBytes),
		MaxPublicInputBytes:  uint32(d.MaxPublicInputBytes),
		MaxPublicInputs:      uint32(d.MaxPublicInputs),
	}
}

// SizeLimitsOf returns the size limits of a chain's parameters: the one
// conversion the machine, the service's admission and the keepers (from
// the limits a task carries) use. Parameters without size_limits (a chain
// created before they were a parameter) get DefaultLimits, the limits
// such a chain always enforced.
func SizeLimitsOf(p *lightkeeperv1.ConsensusParams) Limits {
	s := p.GetSizeLimits()
	if s == nil {
		return DefaultLimits()
	}
	return Limits{
		MaxVerifyingKeyBytes: int(s.GetMaxVerifyingKeyBytes()),
		MaxProofBytes:        int(s.GetMaxProofBytes()),
		MaxPublicInputBytes:  int(s.GetMaxPublicInputBytes()),
		MaxPublicInputs:      int(s.GetMaxPublicInputs()),
	}
}

// Normalized replaces zero or negative fields with the defaults.
func (l Limits) Normalized() Limits {
	d := DefaultLimits()
	if l.MaxVerifyingKeyBytes <= 0 {
		l.MaxVerifyingKeyBytes = d.MaxVerifyingKeyBytes
	}
	if l.MaxProofBytes <= 0 {
		l.MaxProofBytes = d.MaxProofBytes
	}
	if l.MaxPublicInputBytes <= 0 {
		l.MaxPublicInputBytes = d.MaxPublicInputBytes
	}
	if l.MaxPublicInputs <= 0 {
		l.MaxPublicInputs = d.MaxPublicInputs
	}
	return l
}

// Validate checks that every limit is set and at most what every keeper
// verifies (DefaultLimits; a chain's size limits are explicit: genesis
// carries every number). Keepers check proofs under DefaultLimits, since
// tasks do not carry the chain's size limits: a chain may lower them, never
// raise them, or it would admit proofs its keepers refuse.
func (l Limits) Validate() error {
	d := DefaultLimits()
	for _, f := range []struct {
		key    string
		v, max int
	}{
		{"params.size_limits.max_verifying_key_bytes", l.MaxVerifyingKeyBytes, min(MaxSizeLimitBytes, d.MaxVerifyingKeyBytes)},
		{"params.size_limits.max_proof_bytes", l.MaxProofBytes, min(MaxSizeLimitBytes, d.MaxProofBytes)},
		{"params.size_limits.max_public_input_bytes", l.MaxPublicInputBytes, min(MaxSizeLimitBytes, d.MaxPublicInputBytes)},
		{"params.size_limits.max_public_inputs", l.MaxPublicInputs, min(MaxPublicInputs, d.MaxPublicInputs)},
	} {
		if f.v < 1 || f.v > f.max {
			return &ParamError{Field: f.key, Reason: fmt.Sprintf("must be in 1..%d (got %d)", f.max, f.v)}
		}
	}
	return nil
}
