package verifier

import "fmt"

// Limits bounds the work a single job may cause. Sizes are checked before
// anything is parsed. A zero or negative field means the default value.
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

// normalized replaces zero or negative fields with the defaults.
func (l Limits) normalized() Limits {
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

func checkSize(what string, n, max int) error {
	if n > max {
		return newError(ReasonOversized, fmt.Sprintf("%s is %d bytes, limit %d", what, n, max))
	}
	return nil
}

// maxCommitments bounds the BSB22 commitments of a key or proof. gnark
// circuits have one or two; the bound keeps hostile keys from making the
// verifier decode (and subgroup-check) thousands of points.
const maxCommitments = 64

func tooManyCommitments(n int64) *Error {
	return newError(ReasonUnsupported, fmt.Sprintf("%d commitments, more than the %d supported", n, maxCommitments))
}

func tooManyKeyInputs(n int64, max int) *Error {
	return newError(ReasonOversized, fmt.Sprintf("verifying key takes at least %d public inputs, limit %d", n, max))
}
