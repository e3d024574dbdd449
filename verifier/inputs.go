package verifier

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Both scalar fields encode an element in 32 big-endian bytes.
const scalarBytes = 32

// maxDecimalDigits bounds a JSON value: 2²⁵⁶ has 78 decimal digits.
const maxDecimalDigits = 78

// witnessHeaderBytes is u32 nbPublic || u32 nbSecret || u32 vector length.
const witnessHeaderBytes = 12

// CheckPublicInputs parses public inputs for curve without verifying
// anything, and returns how many there are. Errors are *Error with
// ReasonMalformedPublicInputs, ReasonOversized or ReasonUnsupported (also
// for a curve this build leaves out, see Supported).
func CheckPublicInputs(curve Curve, b []byte, limits protocol.Limits) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, newError(ReasonMalformedPublicInputs, fmt.Sprintf("internal verifier error: %v", r))
		}
	}()
	if !curve.Valid() {
		return 0, unsupportedCurve(curve)
	}
	count := inputCounters[curve]
	if count == nil {
		return 0, curveNotBuilt(curve)
	}
	n, e := count(b, limits.Normalized())
	if e != nil {
		return 0, e
	}
	return n, nil
}

func notCanonical(i int, c Curve) *Error {
	return newError(ReasonMalformedPublicInputs, fmt.Sprintf("public input %d is not less than the %s scalar field modulus", i, c))
}

// decodePublicInputs turns either encoding into 32-byte big-endian values
// (not yet checked against a modulus).
func decodePublicInputs(b []byte, limits protocol.Limits) ([][scalarBytes]byte, *Error) {
	if err := checkSize("public inputs", len(b), limits.MaxPublicInputBytes); err != nil {
		return nil, err.(*Error)
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return decodeJSONInputs(b, limits)
	}
	return decodeWitnessInputs(b, limits)
}

// decodeWitnessInputs parses gnark's public witness binary form:
// u32 nbPublic || u32 nbSecret (0) || u32 n (= nbPublic) || n × 32 bytes.
func decodeWitnessInputs(b []byte, limits protocol.Limits) ([][scalarBytes]byte, *Error) {
	if len(b) < witnessHeaderBytes {
		return nil, newError(ReasonMalformedPublicInputs, fmt.Sprintf("witness is %d bytes, shorter than its %d-byte header", len(b), witnessHeaderBytes))
	}
	nbPublic := binary.BigEndian.Uint32(b[0:4])
	nbSecret := binary.BigEndian.Uint32(b[4:8])
	n := binary.BigEndian.Uint32(b[8:12])
	if nbSecret != 0 {
		return nil, newError(ReasonMalformedPublicInputs, fmt.Sprintf("witness has %d secret values; send the public witness only", nbSecret))
	}
	if n != nbPublic {
		return nil, newError(ReasonMalformedPublicInputs, fmt.Sprintf("witness header says %d public values but its vector holds %d", nbPublic, n))
	}
	if uint64(n) > uint64(limits.MaxPublicInputs) {
		return nil, newError(ReasonOversized, fmt.Sprintf("%d public inputs, limit %d", n, limits.MaxPublicInputs))
	}
	if want := witnessHeaderBytes + uint64(n)*scalarBytes; uint64(len(b)) != want {
		return nil, newError(ReasonMalformedPublicInputs, fmt.Sprintf("witness with %d values must be %d bytes, got %d", n, want, len(b)))
	}
	out := make([][scalarBytes]byte, n)
	for i := range out {
		copy(out[i][:], b[witnessHeaderBytes+i*scalarBytes:])
	}
	return out, nil
}

// decodeJSONInputs parses a JSON list of decimal strings such as
// ["35","7"]: digits only, no sign, no leading zeros (except "0" itself).
func decodeJSONInputs(b []byte, limits protocol.Limits) ([][scalarBytes]byte, *Error) {
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, newError(ReasonMalformedPublicInputs, "JSON: "+err.Error())
	}
	if len(list) > limits.MaxPublicInputs {
		return nil, newError(ReasonOversized, fmt.Sprintf("%d public inputs, limit %d", len(list), limits.MaxPublicInputs))
	}
	out := make([][scalarBytes]byte, len(list))
	var v big.Int
	for i, raw := range list {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, newError(ReasonMalformedPublicInputs, fmt.Sprintf("JSON value %d is not a string of decimal digits", i))
		}
		if !isCanonicalDecimal(s) {
			return nil, newError(ReasonMalformedPublicInputs, fmt.Sprintf("JSON value %d (%.80q) is not a canonical decimal number", i, s))
		}
		v.SetString(s, 10)
		if v.BitLen() > 8*scalarBytes {
			return nil, newError(ReasonMalformedPublicInputs, fmt.Sprintf("JSON value %d does not fit in %d bytes", i, scalarBytes))
		}
		v.FillBytes(out[i][:])
	}
	return out, nil
}

func isCanonicalDecimal(s string) bool {
	if len(s) == 0 || len(s) > maxDecimalDigits || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func wrongInputCount(got, want int) *Error {
	return newError(ReasonWrongInputCount, fmt.Sprintf("got %d public inputs, verifying key expects %d", got, want))
}

func unsupportedCurve(c Curve) *Error {
	return newError(ReasonUnsupported, fmt.Sprintf("unsupported curve %s", c))
}

func unsupportedScheme(s Scheme) *Error {
	return newError(ReasonUnsupported, fmt.Sprintf("unsupported scheme %s", s))
}
