package compute

import "errors"

// Run errors. A Run that returns a non-nil error produced no result: the
// keeper could not execute the job and votes ABSTAIN. Everything the program
// itself can cause (a trap, running out of fuel, too much output, exiting
// with a code) is a Result, never an error.
var (
	// ErrAbstain wraps every local failure: the wall-clock limit, the local
	// memory budget, the engine's own stack or resource limits, an engine
	// failure. errors.Is(err, ErrAbstain) tells the keeper to abstain.
	ErrAbstain = errors.New("compute: abstain")
	// ErrBadRequest: the job itself is malformed (nil program, fuel above
	// MaxFuel). The coordinator refuses such jobs at submit, so a keeper
	// that sees one abstains too; it wraps ErrAbstain.
	ErrBadRequest = errors.New("compute: bad request")
)

type abstainError struct {
	msg   string
	cause error
}

func (e *abstainError) Error() string {
	if e.cause != nil {
		return "compute: abstain: " + e.msg + ": " + e.cause.Error()
	}
	return "compute: abstain: " + e.msg
}

func (e *abstainError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrAbstain, e.cause}
	}
	return []error{ErrAbstain}
}

func abstain(msg string, cause error) error { return &abstainError{msg: msg, cause: cause} }
