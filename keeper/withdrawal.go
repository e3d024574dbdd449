package keeper

import (
	"bytes"
	"encoding/hex"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/shielded"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// WithdrawalPublicInputs builds the public inputs of a withdrawal's proof
// from its request (root, nullifier, amount, and the recipient's account
// id mapped by shielded.RecipientFromAddress): the keeper never takes them
// from the coordinator or the submitter.
func WithdrawalPublicInputs(w *lightkeeperv1.WithdrawalRequest) (shielded.PublicInputs, error) {
	var pub shielded.PublicInputs
	root, err := shielded.ParseScalar(w.GetRoot())
	if err != nil {
		return pub, fmt.Errorf("root: %v", err)
	}
	nf, err := shielded.ParseScalar(w.GetNullifier())
	if err != nil {
		return pub, fmt.Errorf("nullifier: %v", err)
	}
	addr, err := hex.DecodeString(w.GetRecipient())
	if err != nil || len(addr) != 32 {
		return pub, fmt.Errorf("recipient: %q is not an account id", w.GetRecipient())
	}
	return shielded.PublicInputs{Root: root, Nullifier: nf, Amount: w.GetAmount(), Recipient: shielded.RecipientFromAddress(addr)}, nil
}

// WithdrawalJob checks a withdrawal task's root against the task's root
// list and returns the proof job to verify (Groth16 on BN254 against the
// pool's key). A non-nil verdict is the answer without a proof check.
func WithdrawalJob(w *lightkeeperv1.WithdrawalTask) (verifier.ProofJob, *Verdict) {
	req := w.GetRequest()
	pub, err := WithdrawalPublicInputs(req)
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
