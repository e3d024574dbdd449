package verifier

import (
	"fmt"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// VerifyProof checks one proof job and returns the keeper's verdict:
// protocol.VoteApprove with ReasonNone, or protocol.VoteReject with the first problem found, in
// this order: unsupported scheme or curve, oversized inputs (checked before
// anything is parsed), malformed verifying key, malformed proof, malformed
// public inputs, wrong number of public inputs, invalid proof.
//
// It never panics: a panic inside the verifier (a bug) is recovered and
// reported as protocol.VoteAbstain, since a keeper that could not check a job must
// not vote against it. Its running time is bounded by the limits (a few
// pairings plus work linear in the number of public inputs).
func VerifyProof(job ProofJob, limits protocol.Limits) (v Verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = Verdict{Vote: protocol.VoteAbstain, Reason: ReasonNone, Detail: fmt.Sprintf("internal verifier error: %v", r)}
		}
	}()
	if e := verifyProof(&job, limits.Normalized()); e != nil {
		return Verdict{Vote: protocol.VoteReject, Reason: e.Reason, Detail: e.Detail}
	}
	return Verdict{Vote: protocol.VoteApprove, Reason: ReasonNone}
}

func verifyProof(job *ProofJob, limits protocol.Limits) *Error {
	if e := checkJobShape(job, limits); e != nil {
		return e
	}
	k, e := parseKey(job.Scheme, job.Curve, job.VerifyingKey, limits)
	if e != nil {
		return e
	}
	return k.verify(job, limits)
}

// checkJobShape is what is checked before anything is parsed: scheme and
// curve (including whether this build has them, see Supported) and sizes.
func checkJobShape(job *ProofJob, limits protocol.Limits) *Error {
	if e := checkSupported(job.Scheme, job.Curve); e != nil {
		return e
	}
	if err := checkSize("verifying key", len(job.VerifyingKey), limits.MaxVerifyingKeyBytes); err != nil {
		return err.(*Error)
	}
	if err := checkSize("proof", len(job.Proof), limits.MaxProofBytes); err != nil {
		return err.(*Error)
	}
	if err := checkSize("public inputs", len(job.PublicInputs), limits.MaxPublicInputBytes); err != nil {
		return err.(*Error)
	}
	return nil
}

// CheckVerifyingKey parses a verifying key, as the coordinator does when a
// key is registered, and returns the number of public inputs its proofs
// take. Errors are *Error with ReasonUnsupported (also for keys with more
// than 64 commitments, and for a scheme or curve this build leaves out,
// see Supported), ReasonOversized (the key is too large, or needs more
// public inputs than limits allow) or ReasonMalformedVerifyingKey.
func CheckVerifyingKey(scheme Scheme, curve Curve, vk []byte, limits protocol.Limits) (numPublicInputs int, err error) {
	defer func() {
		if r := recover(); r != nil {
			numPublicInputs, err = 0, newError(ReasonMalformedVerifyingKey, fmt.Sprintf("internal verifier error: %v", r))
		}
	}()
	limits = limits.Normalized()
	if e := checkSupported(scheme, curve); e != nil {
		return 0, e
	}
	if err := checkSize("verifying key", len(vk), limits.MaxVerifyingKeyBytes); err != nil {
		return 0, err
	}
	k, e := parseKey(scheme, curve, vk, limits)
	if e != nil {
		return 0, e
	}
	n := k.nbPublic()
	if n > limits.MaxPublicInputs {
		return 0, newError(ReasonOversized, fmt.Sprintf("verifying key takes %d public inputs, limit %d", n, limits.MaxPublicInputs))
	}
	return n, nil
}
