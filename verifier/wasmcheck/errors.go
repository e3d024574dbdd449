package wasmcheck

import "errors"

// Reason says why a module was refused at registration. The numeric values
// are stable: the state machine and the API may carry them as a reject code.
type Reason uint8

const (
	ReasonNone Reason = iota
	// ReasonInvalidModule: not a well-formed, valid WebAssembly 2.0 module.
	ReasonInvalidModule
	// ReasonTooLarge: the module or one of its parts is over a size limit.
	ReasonTooLarge
	// ReasonImport: an import outside the deterministic WASI subset, or one
	// of its functions imported with the wrong signature.
	ReasonImport
	// ReasonMemory: no memory, more than one, an imported, shared or 64-bit
	// memory, or one over the page limit.
	ReasonMemory
	// ReasonTable: more than one table, an imported or non-funcref table,
	// or one over the element limit.
	ReasonTable
	// ReasonFeature: a feature that could make two honest keepers disagree,
	// or that not every keeper host runs: SIMD, threads, reference-type and
	// table instructions, tail calls, exceptions, a start function.
	ReasonFeature
	// ReasonEntryPoint: no "_start" function of type [] -> [] or no
	// "memory" export, or an export name reserved for the metering.
	ReasonEntryPoint
	// ReasonFloat is reserved: floating point is accepted and its NaNs are
	// canonicalised (docs/compute.md), so Check never returns it today.
	ReasonFloat
)

var reasonNames = [...]string{
	ReasonNone:          "none",
	ReasonInvalidModule: "invalid module",
	ReasonTooLarge:      "too large",
	ReasonImport:        "import outside the deterministic WASI subset",
	ReasonMemory:        "memory not allowed",
	ReasonTable:         "table not allowed",
	ReasonFeature:       "feature not allowed",
	ReasonEntryPoint:    "bad entry point or exports",
	ReasonFloat:         "floating point not allowed",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown reason"
}

// CheckError is the error Check and Instrument return. Match it with
// errors.Is against the sentinels below (which compares the Reason only), or
// errors.As to read the Reason and the Detail.
type CheckError struct {
	Reason Reason
	Detail string
}

func (e *CheckError) Error() string {
	if e.Detail == "" {
		return "compute: " + e.Reason.String()
	}
	return "compute: " + e.Reason.String() + ": " + e.Detail
}

// Is reports whether target is a *CheckError with the same Reason; a target
// with a Detail must match it too, so the sentinels match every error of
// their reason.
func (e *CheckError) Is(target error) bool {
	t, ok := target.(*CheckError)
	if !ok || e == nil || t == nil {
		return false
	}
	return t.Reason == e.Reason && (t.Detail == "" || t.Detail == e.Detail)
}

// Sentinels, one per reason, for errors.Is. Do not modify them.
var (
	ErrInvalidModule = &CheckError{Reason: ReasonInvalidModule}
	ErrTooLarge      = &CheckError{Reason: ReasonTooLarge}
	ErrImport        = &CheckError{Reason: ReasonImport}
	ErrMemory        = &CheckError{Reason: ReasonMemory}
	ErrTable         = &CheckError{Reason: ReasonTable}
	ErrFeature       = &CheckError{Reason: ReasonFeature}
	ErrEntryPoint    = &CheckError{Reason: ReasonEntryPoint}
	ErrFloat         = &CheckError{Reason: ReasonFloat}
)

// ReasonOf returns the Reason carried by err, or ReasonNone.
func ReasonOf(err error) Reason {
	var e *CheckError
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonNone
}

func refuse(r Reason, format string, args ...any) *CheckError {
	if len(args) == 0 {
		return &CheckError{Reason: r, Detail: format}
	}
	return &CheckError{Reason: r, Detail: sprintf(format, args...)}
}
