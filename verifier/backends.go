package verifier

import (
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// The backends this build links, by scheme and curve. Each backend file
// fills its own cells from init (backend_bn254.go, plonk_bn254.go,
// curve_bn254.go and their BLS12-381 twins), so a build that leaves a file
// out with a tag leaves its cells nil, and a nil cell is the one place
// that says a scheme or curve is not supported:
//
//   - lightkeeper_nobls12381 leaves out every BLS12-381 backend and
//     gnark-crypto's BLS12-381 curve;
//   - lightkeeper_noplonk leaves out PLONK on both curves and gnark's PLONK
//     packages.
//
// The edge worker's small build uses them (make edge-worker-bn254;
// docs/benchmarks.md, "Edge bundle"). Scheme.Valid and Curve.Valid are the
// protocol's and do not change with the build: a coordinator built with
// these tags would refuse to register keys it cannot check, not treat them
// as unknown.
var (
	// keyParsers decodes a verifying key, indexed by Scheme then Curve.
	keyParsers [3][3]func(b []byte, limits protocol.Limits) (parsedKey, *Error)
	// inputCounters parses public inputs for a curve and counts them.
	inputCounters [3]func(b []byte, limits protocol.Limits) (int, *Error)
	// encodings is each curve's point encoding, for the pre-check.
	encodings [3]*pointEncoding
)

// Supported reports whether this build verifies proofs of scheme s on
// curve c. Every valid pair is supported unless the build leaves its
// backend out (tags lightkeeper_nobls12381 and lightkeeper_noplonk); jobs
// of an unsupported pair get an *Error with ReasonUnsupported, on which a
// keeper abstains.
func Supported(s Scheme, c Curve) bool {
	return s.Valid() && c.Valid() && keyParsers[s][c] != nil
}

// checkSupported is the first check of every job and key: the protocol's
// enums, then what this build links.
func checkSupported(s Scheme, c Curve) *Error {
	switch {
	case !s.Valid():
		return unsupportedScheme(s)
	case !c.Valid():
		return unsupportedCurve(c)
	case inputCounters[c] == nil:
		return curveNotBuilt(c)
	case keyParsers[s][c] == nil:
		return newError(ReasonUnsupported, fmt.Sprintf("%s proofs are not built into this verifier (built with lightkeeper_noplonk)", s))
	}
	return nil
}

func curveNotBuilt(c Curve) *Error {
	return newError(ReasonUnsupported, fmt.Sprintf("curve %s is not built into this verifier (built with lightkeeper_nobls12381)", c))
}

// parseKey decodes a verifying key of a supported scheme and curve.
func parseKey(s Scheme, c Curve, b []byte, limits protocol.Limits) (parsedKey, *Error) {
	if e := checkSupported(s, c); e != nil {
		return nil, e
	}
	return keyParsers[s][c](b, limits)
}
