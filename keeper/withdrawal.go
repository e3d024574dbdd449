package keeper

import (
	"bytes"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// WithdrawalJob checks a withdrawal task's root against the task's root
// list and returns the proof job to verify (Groth16 on BN254 against the
// pool's key). A non-nil verdict is the answer without a proof check.
func WithdrawalJob(w *lightkeeperv1.WithdrawalTask) (verifier.ProofJob, *Verdict) {
	req := w.GetRequest()
	pub, err := shielded.WithdrawalPublicInputs(req)
	if err != nil {
		return verifier.ProofJob{}, &Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT,
			Reason: lightkeeperv1.RejectReason_REJECT_REASON_MALFORMED_PUBLIC_INPUTS, Detail: err.Error()}
	}
	known := false
	for _, r := range w.GetRoots() {
		if bytes.Equal(r, req.GetRoot()) {
			known = true
			break
		}
	}
	if !known {
		return verifier.ProofJob{}, &Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT,
			Reason: lightkeeperv1.RejectReason_REJECT_REASON_INVALID_PROOF, Detail: "root is not one of the pool's known roots"}
	}
	public, err := pub.MarshalBinary()
	if err != nil {
		return verifier.ProofJob{}, &Verdict{Kind: lightkeeperv1.VoteKind_VOTE_KIND_REJECT,
			Reason: lightkeeperv1.RejectReason_REJECT_REASON_MALFORMED_PUBLIC_INPUTS, Detail: err.Error()}
	}
	return verifier.ProofJob{
		Scheme:       verifier.SchemeGroth16,
		Curve:        verifier.CurveBN254,
		VerifyingKey: w.GetVerifyingKey(),
		Proof:        req.GetProof(),
		PublicInputs: public,
	}, nil
}
