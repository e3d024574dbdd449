package verifier

import "fmt"

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
