package verifier

// Error is the error type of this package: a RejectReason plus a
// human-readable detail. Match it with errors.Is against the sentinels below
// (which compares the Reason), or errors.As to read the Reason.
type Error struct {
	Reason RejectReason
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "verifier: " + e.Reason.String()
	}
	return "verifier: " + e.Reason.String() + ": " + e.Detail
}

// Is reports whether target is an *Error with the same Reason. A target with
// a non-empty Detail must match the Detail too, so the sentinels (empty
// Detail) match every error of their reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || e == nil || t == nil {
		return false
	}
	return t.Reason == e.Reason && (t.Detail == "" || t.Detail == e.Detail)
}

// Sentinels, one per reason, for errors.Is. Do not modify them.
var (
	ErrMalformedVerifyingKey = &Error{Reason: ReasonMalformedVerifyingKey}
	ErrMalformedProof        = &Error{Reason: ReasonMalformedProof}
	ErrMalformedPublicInputs = &Error{Reason: ReasonMalformedPublicInputs}
	ErrWrongInputCount       = &Error{Reason: ReasonWrongInputCount}
	ErrInvalidProof          = &Error{Reason: ReasonInvalidProof}
	ErrOversized             = &Error{Reason: ReasonOversized}
	ErrUnsupported           = &Error{Reason: ReasonUnsupported}
)

// ReasonOf returns the RejectReason carried by err (ReasonNone for nil or for
// errors that are not from this package).
func ReasonOf(err error) RejectReason {
	for err != nil {
		if e, ok := err.(*Error); ok {
			return e.Reason
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return ReasonNone
		}
		err = u.Unwrap()
	}
	return ReasonNone
}

func newError(reason RejectReason, detail string) *Error {
	return &Error{Reason: reason, Detail: detail}
}

// asError keeps an *Error as it is and turns any other error into an *Error
// with the given reason.
func asError(reason RejectReason, err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return newError(reason, err.Error())
}
