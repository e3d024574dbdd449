package protocol

import "errors"

// Sentinel errors of the protocol's checks. The state machine reports the
// same values (state.ErrInvalidRequest is ErrInvalidRequest, and so on), so
// callers match either with errors.Is.
var (
	// ErrInvalidRequest: a malformed id, transaction or committee input.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrInvalidParams: ConsensusParams out of range (see ValidateParams).
	ErrInvalidParams = errors.New("invalid consensus parameters")
	// ErrNotEnoughKeepers: fewer eligible keepers than the threshold.
	ErrNotEnoughKeepers = errors.New("not enough eligible keepers")
	// ErrBadSignature: a signature does not verify.
	ErrBadSignature = errors.New("bad signature")
)

// ParamError names the ConsensusParams field that failed validation; its
// message starts with the configuration key, e.g.
// "consensus.threshold: must be in 1..total_validators (got 11, total_validators 10)".
// It matches ErrInvalidParams with errors.Is.
type ParamError struct {
	Field  string // parameter key, e.g. "consensus.threshold"
	Reason string
}

func (e *ParamError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap returns ErrInvalidParams.
func (e *ParamError) Unwrap() error { return ErrInvalidParams }
