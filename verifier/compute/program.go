package compute

import (
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/verifier/wasmcheck"
)

// The registration rules, the limits and the metering are wasmcheck's,
// which the chain imports without a WebAssembly runtime; this package runs
// what they accept. The names below keep one vocabulary for the keepers,
// which check and run programs through this package only.

type (
	// ProgramID names a program: SHA-256 of the module bytes as registered.
	ProgramID = wasmcheck.ProgramID
	// Program is a module that passed the registration checks, in its
	// metered form (wasmcheck.Program).
	Program = wasmcheck.Program
	// Limits are the consensus limits of compute jobs (wasmcheck.Limits).
	Limits = wasmcheck.Limits
	// Reason says why a module was refused (wasmcheck.Reason).
	Reason = wasmcheck.Reason
	// CheckError is the error Check and Instrument return.
	CheckError = wasmcheck.CheckError
)

const (
	ReasonNone          = wasmcheck.ReasonNone
	ReasonInvalidModule = wasmcheck.ReasonInvalidModule
	ReasonTooLarge      = wasmcheck.ReasonTooLarge
	ReasonImport        = wasmcheck.ReasonImport
	ReasonMemory        = wasmcheck.ReasonMemory
	ReasonTable         = wasmcheck.ReasonTable
	ReasonFeature       = wasmcheck.ReasonFeature
	ReasonEntryPoint    = wasmcheck.ReasonEntryPoint
	ReasonFloat         = wasmcheck.ReasonFloat

	// EngineCallDepthCeiling is the largest MaxCallDepth allowed.
	EngineCallDepthCeiling = wasmcheck.EngineCallDepthCeiling
	// ExportFuel and ExportDepth are the metering globals' export names.
	ExportFuel  = wasmcheck.ExportFuel
	ExportDepth = wasmcheck.ExportDepth
)

// Sentinels, one per reason, for errors.Is (wasmcheck's).
var (
	ErrInvalidModule = wasmcheck.ErrInvalidModule
	ErrTooLarge      = wasmcheck.ErrTooLarge
	ErrImport        = wasmcheck.ErrImport
	ErrMemory        = wasmcheck.ErrMemory
	ErrTable         = wasmcheck.ErrTable
	ErrFeature       = wasmcheck.ErrFeature
	ErrEntryPoint    = wasmcheck.ErrEntryPoint
	ErrFloat         = wasmcheck.ErrFloat
)

// ProgramIDOf returns the id of module.
func ProgramIDOf(module []byte) ProgramID { return wasmcheck.ProgramIDOf(module) }

// ParseProgramID parses the 64-hex-digit form.
func ParseProgramID(s string) (ProgramID, error) { return wasmcheck.ParseProgramID(s) }

// DefaultLimits are the defaults of the [compute] parameters.
func DefaultLimits() Limits { return wasmcheck.DefaultLimits() }

// ReasonOf returns the Reason carried by err, or ReasonNone.
func ReasonOf(err error) Reason { return wasmcheck.ReasonOf(err) }

// Instrument returns the metered form of module under DefaultLimits
// (wasmcheck.Instrument).
func Instrument(module []byte) ([]byte, error) { return wasmcheck.Instrument(module) }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
