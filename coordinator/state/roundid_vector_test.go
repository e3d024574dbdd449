package state

import (
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// TestRoundIDOneofOrder pins one protocol.RoundID that clients/ts/test/roundid.test.ts
// pins too: Go's deterministic encoding writes a oneof's field after the
// plain fields (client_nonce, 15, before proof, 1), which a checker in
// another language must reproduce to match a seed block's submission.
func TestRoundIDOneofOrder(t *testing.T) {
	req := &lightkeeperv1.RoundRequest{
		ClientNonce: "n1",
		Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
			Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254,
			VerifyingKeyId: "ab", Proof: []byte{1, 2}, PublicInputs: []byte(`["1"]`),
		}},
	}
	if got, want := protocol.RoundID("lightkeeper-test", req), "dd96d7472ed9b5c9d2cdf9f2a69af48ecff065b815937fb9dfd9c8200f8d151c"; got != want {
		t.Fatalf("protocol.RoundID %s, want %s", got, want)
	}
}
