package state

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// ErrBadCertificate is wrapped by every error of VerifyCertificate.
var ErrBadCertificate = errors.New("bad certificate")

// VerifyCertificate checks a certificate offline, with nothing but its own
// content: the committee is recomputed from seed, round id and the eligible
// list (size = len(committee)); reject_threshold must be
// size − threshold + 1; every vote must be for this round, from a distinct
// committee member, well formed and validly signed over c.ChainId; and the
// tally must match the outcome (APPROVED: approvals ≥ threshold; REJECTED:
// rejections ≥ reject_threshold, or for a WITHDRAWAL voided at the
// decision approvals ≥ threshold; TIMEOUT: neither). A COMPUTE certificate
// instead has reject_threshold = threshold, at least ComputeThreshold(committee size);
// every APPROVE or REJECT vote must open its result hash with its compute
// result; and APPROVED (REJECTED) needs threshold APPROVE (REJECT) votes
// for the certificate's result_hash, which its result must open (TIMEOUT:
// no result reached the threshold). It returns an error
// (wrapping ErrBadCertificate) naming the first problem found.
func VerifyCertificate(c *lightkeeperv1.Certificate) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadCertificate, fmt.Sprintf(format, args...))
	}
	if c == nil {
		return bad("missing")
	}
	if c.ChainId == "" {
		return bad("chain_id: empty")
	}
	rid, ok := parseID(c.RoundId)
	if !ok {
		return bad("round_id: %q is not 64 lowercase hex digits", c.RoundId)
	}
	switch c.Outcome {
	case lightkeeperv1.Outcome_OUTCOME_APPROVED, lightkeeperv1.Outcome_OUTCOME_REJECTED, lightkeeperv1.Outcome_OUTCOME_TIMEOUT:
	default:
		return bad("outcome: %v is not a decision", c.Outcome)
	}
	size := len(c.Committee)
	if size == 0 {
		return bad("committee: empty")
	}
	if c.Threshold < 1 || int(c.Threshold) > size {
		return bad("threshold: %d not in 1..%d (committee size)", c.Threshold, size)
	}
	compute := c.Kind == lightkeeperv1.RoundKind_ROUND_KIND_COMPUTE
	if want := uint32(size) - c.Threshold + 1; !compute && c.RejectThreshold != want {
		return bad("reject_threshold: %d, want committee size %d - threshold %d + 1 = %d", c.RejectThreshold, size, c.Threshold, want)
	}
	committee, err := DrawCommittee(c.Seed, c.RoundId, c.Eligible, size)
	if err != nil {
		return bad("committee: cannot recompute: %v", err)
	}
	seat := make(map[string]int, size)
	for i, id := range committee {
		if c.Committee[i] != id {
			return bad("committee[%d]: %s, recomputed %s", i, c.Committee[i], id)
		}
		seat[id] = i
	}
	voted := make(map[string]bool, len(c.Votes))
	var approvals, rejections uint32
	for i, v := range c.Votes {
		if v.GetRoundId() != c.RoundId {
			return bad("votes[%d]: round_id %q, want %s", i, v.GetRoundId(), c.RoundId)
		}
		kid := v.GetKeeperId()
		if _, ok := seat[kid]; !ok {
			return bad("votes[%d]: keeper %q is not in the committee", i, kid)
		}
		if voted[kid] {
			return bad("votes[%d]: second vote by keeper %s", i, kid)
		}
		voted[kid] = true
		kind := verifier.VoteKind(v.GetKind())
		if !kind.Valid() {
			return bad("votes[%d]: kind %v", i, v.GetKind())
		}
		if len(v.GetResultHash()) != 32 {
			return bad("votes[%d]: result_hash is %d bytes, want 32", i, len(v.GetResultHash()))
		}
		kb, _ := parseID(kid)
		if !verifier.VerifyVote(c.ChainId, rid, ed25519.PublicKey(kb[:]), kind, [32]byte(v.GetResultHash()), v.GetSignature()) {
			return bad("votes[%d]: bad signature by keeper %s", i, kid)
		}
		switch kind {
		case verifier.VoteApprove:
			approvals++
		case verifier.VoteReject:
			rejections++
		}
	}
	if compute {
		return verifyComputeCertificate(c, bad)
	}
	if len(c.ResultHash) != 0 || c.Result != nil {
		return bad("result: set on a %s round", c.Kind)
	}
	approved := approvals >= c.Threshold
	rejected := rejections >= c.RejectThreshold
	switch c.Outcome {
	case lightkeeperv1.Outcome_OUTCOME_APPROVED:
		if !approved {
			return bad("outcome APPROVED with %d approvals, threshold %d", approvals, c.Threshold)
		}
	case lightkeeperv1.Outcome_OUTCOME_REJECTED:
		// A WITHDRAWAL approved by the committee but not payable at the
		// decision (nullifier spent meanwhile, root expired) is REJECTED
		// with approvals at the threshold: see Voided.
		voided := c.Kind == lightkeeperv1.RoundKind_ROUND_KIND_WITHDRAWAL && approved
		if !rejected && !voided {
			return bad("outcome REJECTED with %d rejections, reject_threshold %d", rejections, c.RejectThreshold)
		}
	case lightkeeperv1.Outcome_OUTCOME_TIMEOUT:
		if approved || rejected {
			return bad("outcome TIMEOUT with %d approvals (threshold %d) and %d rejections (reject_threshold %d)", approvals, c.Threshold, rejections, c.RejectThreshold)
		}
	}
	return nil
}

// sameVote reports whether two votes say the same thing: same kind and
// result hash (the reason and signature bytes are not compared: the reason
// is not signed, and a keeper may produce several valid signatures of one
// message).
func sameVote(a, b *lightkeeperv1.Vote) bool {
	return a.GetKind() == b.GetKind() && bytes.Equal(a.GetResultHash(), b.GetResultHash())
}
