package shielded

import (
	"encoding/hex"
	"errors"
	"fmt"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// WithdrawalPublicInputs builds the public inputs of a withdrawal's proof
// from its request (root, nullifier, amount, and the recipient's account
// id mapped by RecipientFromAddress), checking their shape: the one rule
// the chain and every keeper apply, so neither takes the inputs from a
// submitter. It lives here rather than in protocol because the inputs are
// field elements (gnark-crypto's fr), which protocol may not import.
// Errors name the request field ("root: ...").
func WithdrawalPublicInputs(w *lightkeeperv1.WithdrawalRequest) (PublicInputs, error) {
	var pub PublicInputs
	root, err := ParseScalar(w.GetRoot())
	if err != nil {
		return pub, fmt.Errorf("root: %v", err)
	}
	nf, err := ParseScalar(w.GetNullifier())
	if err != nil {
		return pub, fmt.Errorf("nullifier: %v", err)
	}
	if w.GetAmount() == 0 {
		return pub, errors.New("amount: must be positive")
	}
	r := w.GetRecipient()
	if !protocol.ValidID(r) {
		if len(r) > 80 {
			r = r[:80] + "..."
		}
		return pub, fmt.Errorf("recipient: want 64 lowercase hex digits, got %q", r)
	}
	addr, _ := hex.DecodeString(r)
	return PublicInputs{Root: root, Nullifier: nf, Amount: w.GetAmount(), Recipient: RecipientFromAddress(addr)}, nil
}
