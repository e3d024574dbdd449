package state

import (
	"errors"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// TestRealProofRound runs a round on a real Groth16 proof end to end: the
// key is registered with the input count the service would have parsed,
// the round opens with either public-input encoding, each committee member
// checks the proof with the verifier as a keeper would and votes its
// verdict, and a tampered proof is rejected by its committee.
func TestRealProofRound(t *testing.T) {
	if testing.Short() {
		t.Skip("gnark setup")
	}
	f, err := proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	if err != nil {
		t.Fatal(err)
	}
	n, err := verifier.CheckVerifyingKey(f.Scheme, f.Curve, f.VerifyingKey, protocol.DefaultLimits())
	if err != nil || n != f.NumPublic {
		t.Fatalf("key: %d inputs, %v", n, err)
	}
	p, err := f.Prove(42)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 10, 100, nil)
	res := h.ok(h.apply(0, vkTx(f.VerifyingKey, lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BN254)))
	vk := res.TxResults[0].VerifyingKey.Id
	req := func(proof, inputs []byte, nonce string) *lightkeeperv1.RoundRequest {
		return &lightkeeperv1.RoundRequest{
			Payload: &lightkeeperv1.RoundRequest_Proof{Proof: &lightkeeperv1.ProofRequest{
				Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254,
				VerifyingKeyId: vk, Proof: proof, PublicInputs: inputs,
			}},
			ClientNonce: nonce,
		}
	}
	bad := proofgen.FlipBit(p)
	res = h.apply(0,
		submitTx(req(p.Proof, p.PublicInputs, "binary")),
		submitTx(req(p.Proof, p.PublicJSON, "json")),
		submitTx(req(bad.Proof, p.PublicInputs, "tampered")),
		submitTx(req(p.Proof, []byte(`["1"]`), "short")),
	)
	for i := 0; i < 3; i++ {
		if res.TxResults[i].Err != nil {
			t.Fatalf("submit %d: %v", i, res.TxResults[i].Err)
		}
	}
	if !errors.Is(res.TxResults[3].Err, ErrInvalidRequest) {
		t.Fatalf("one public input for a 2-input key: %v", res.TxResults[3].Err)
	}
	// Keepers verify and vote.
	var txs []*lightkeeperv1.Transaction
	for _, tr := range res.TxResults[:3] {
		r := tr.Round
		pr := r.Request.GetProof()
		job := verifier.ProofJob{Scheme: verifier.Scheme(pr.Scheme), Curve: verifier.Curve(pr.Curve), VerifyingKey: f.VerifyingKey, Proof: pr.Proof, PublicInputs: pr.PublicInputs}
		verdict := verifier.VerifyProof(job, protocol.DefaultLimits())
		for _, id := range r.Committee {
			txs = append(txs, voteTx(r.Id, h.index[id], lightkeeperv1.VoteKind(verdict.Vote)))
		}
	}
	res = h.ok(h.apply(time.Second, txs...))
	want := []lightkeeperv1.Outcome{lightkeeperv1.Outcome_OUTCOME_APPROVED, lightkeeperv1.Outcome_OUTCOME_APPROVED, lightkeeperv1.Outcome_OUTCOME_REJECTED}
	if len(res.Block.Certificates) != 3 {
		t.Fatalf("%d certificates", len(res.Block.Certificates))
	}
	for i, c := range res.Block.Certificates {
		if c.Outcome != want[i] {
			t.Errorf("round %d: %v, want %v", i, c.Outcome, want[i])
		}
		if err := protocol.VerifyCertificate(served(c), h.m.Params()); err != nil {
			t.Error(err)
		}
	}
}
