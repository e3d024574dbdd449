package verifier

import (
	"fmt"
	"strings"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Scheme is a proof system. The numbers match the protobuf enum.
type Scheme int32

const (
	SchemeGroth16 Scheme = 1
	SchemePlonk   Scheme = 2
)

// String returns "groth16" or "plonk" (or "scheme(N)" for unknown values).
func (s Scheme) String() string {
	switch s {
	case SchemeGroth16:
		return "groth16"
	case SchemePlonk:
		return "plonk"
	}
	return fmt.Sprintf("scheme(%d)", int32(s))
}

// Valid reports whether s is a supported scheme.
func (s Scheme) Valid() bool { return s == SchemeGroth16 || s == SchemePlonk }

// ParseScheme parses "groth16" or "plonk" (case-insensitive).
func ParseScheme(s string) (Scheme, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "groth16":
		return SchemeGroth16, nil
	case "plonk":
		return SchemePlonk, nil
	}
	return 0, &Error{Reason: ReasonUnsupported, Detail: fmt.Sprintf("unknown scheme %q (want groth16 or plonk)", s)}
}

// Curve is an elliptic curve. The numbers match the protobuf enum.
type Curve int32

const (
	CurveBN254     Curve = 1
	CurveBLS12_381 Curve = 2
)

// String returns "bn254" or "bls12_381" (or "curve(N)" for unknown values).
func (c Curve) String() string {
	switch c {
	case CurveBN254:
		return "bn254"
	case CurveBLS12_381:
		return "bls12_381"
	}
	return fmt.Sprintf("curve(%d)", int32(c))
}

// Valid reports whether c is a supported curve.
func (c Curve) Valid() bool { return c == CurveBN254 || c == CurveBLS12_381 }

// ParseCurve parses "bn254" or "bls12_381" (case-insensitive; "bls12-381"
// and "bls12381" are accepted too).
func ParseCurve(s string) (Curve, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "bn254":
		return CurveBN254, nil
	case "bls12_381", "bls12-381", "bls12381":
		return CurveBLS12_381, nil
	}
	return 0, &Error{Reason: ReasonUnsupported, Detail: fmt.Sprintf("unknown curve %q (want bn254 or bls12_381)", s)}
}

// RejectReason says why a job was rejected. The numbers match the protobuf
// enum and are part of the protocol: keepers report them in REJECT votes.
type RejectReason int32

const (
	ReasonNone                  RejectReason = 0
	ReasonMalformedVerifyingKey RejectReason = 1
	ReasonMalformedProof        RejectReason = 2
	ReasonMalformedPublicInputs RejectReason = 3
	ReasonWrongInputCount       RejectReason = 4
	ReasonInvalidProof          RejectReason = 5
	ReasonOversized             RejectReason = 6
	ReasonUnsupported           RejectReason = 7
)

// String returns a snake_case name such as "malformed_proof".
func (r RejectReason) String() string {
	switch r {
	case ReasonNone:
		return "none"
	case ReasonMalformedVerifyingKey:
		return "malformed_verifying_key"
	case ReasonMalformedProof:
		return "malformed_proof"
	case ReasonMalformedPublicInputs:
		return "malformed_public_inputs"
	case ReasonWrongInputCount:
		return "wrong_input_count"
	case ReasonInvalidProof:
		return "invalid_proof"
	case ReasonOversized:
		return "oversized"
	case ReasonUnsupported:
		return "unsupported"
	}
	return fmt.Sprintf("reason(%d)", int32(r))
}

// ProofJob is one proof to check. VerifyingKey and Proof are gnark binary
// encodings; PublicInputs is a gnark public witness or a JSON list of
// decimal strings (see the package documentation).
type ProofJob struct {
	Scheme       Scheme
	Curve        Curve
	VerifyingKey []byte
	Proof        []byte
	PublicInputs []byte
}

// Verdict is the outcome of VerifyProof. Vote is protocol.VoteApprove (Reason is
// ReasonNone) or protocol.VoteReject (Reason says why). protocol.VoteAbstain is returned only
// if the verifier itself failed (an internal panic, which is a bug): an
// honest keeper that could not check a job must not vote against it.
type Verdict struct {
	Vote   protocol.VoteKind
	Reason RejectReason
	Detail string
}

// String renders the verdict for logs, e.g. "reject(invalid_proof): ...".
func (v Verdict) String() string {
	if v.Vote == protocol.VoteApprove {
		return "approve"
	}
	s := v.Vote.String()
	if v.Reason != ReasonNone {
		s += "(" + v.Reason.String() + ")"
	}
	if v.Detail != "" {
		s += ": " + v.Detail
	}
	return s
}
