package service

import (
	"os"
	"strings"
	"testing"

	"connectrpc.com/connect"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/snarkjs"
)

// TestConvertFormats: the API's conversion of snarkjs material (the one
// converter, verifier/snarkjs) and its refusals, each InvalidArgument
// naming the field.
func TestConvertFormats(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("../../verifier/snarkjs/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	vk, proof, public := read("mul_vk.json"), read("mul_proof.json"), read("mul_public.json")
	want, err := snarkjs.Convert(vk, proof, public)
	if err != nil {
		t.Fatal(err)
	}
	k, err := convertKeyFormat(&lightkeeperv1.RegisterVerifyingKeyRequest{Key: vk, Format: lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS})
	if err != nil || string(k.Key) != string(want.VerifyingKey) || k.Scheme != lightkeeperv1.Scheme_SCHEME_GROTH16 || k.Curve != lightkeeperv1.Curve_CURVE_BN254 {
		t.Fatalf("key: %v", err)
	}
	sub := func(format lightkeeperv1.ProofFormat, p *lightkeeperv1.ProofRequest, signed bool) (*lightkeeperv1.SubmitRoundRequest, error) {
		m := &lightkeeperv1.SubmitRoundRequest{ProofFormat: format, Request: &lightkeeperv1.RoundRequest{Payload: &lightkeeperv1.RoundRequest_Proof{Proof: p}}}
		if signed {
			m.Signed = &lightkeeperv1.SignedTx{}
		}
		return convertRoundFormat(m)
	}
	got, err := sub(lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS, &lightkeeperv1.ProofRequest{VerifyingKeyId: "x", Proof: proof, PublicInputs: public}, false)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.GetRequest().GetProof(); string(p.Proof) != string(want.Proof) || string(p.PublicInputs) != string(want.Public) || p.VerifyingKeyId != "x" {
		t.Fatalf("converted request: %v", p)
	}
	// Unspecified: untouched.
	orig := &lightkeeperv1.ProofRequest{Proof: []byte("gnark")}
	if got, err := sub(lightkeeperv1.ProofFormat_PROOF_FORMAT_UNSPECIFIED, orig, false); err != nil || got.GetRequest().GetProof() != orig {
		t.Fatalf("gnark request changed: %v", err)
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"signed", func() error {
			_, err := sub(lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS, &lightkeeperv1.ProofRequest{Proof: proof, PublicInputs: public}, true)
			return err
		}(), "proof_format: snarkjs applies to the unsigned request only"},
		{"plonk", func() error {
			_, err := sub(lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS, &lightkeeperv1.ProofRequest{Scheme: lightkeeperv1.Scheme_SCHEME_PLONK, Proof: proof, PublicInputs: public}, false)
			return err
		}(), "request.proof.scheme"},
		{"bad proof", func() error {
			_, err := sub(lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS, &lightkeeperv1.ProofRequest{Proof: vk, PublicInputs: public}, false)
			return err
		}(), "request.proof.proof: snarkjs proof.json: pi_a: missing"},
		{"bad public", func() error {
			_, err := sub(lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS, &lightkeeperv1.ProofRequest{Proof: proof, PublicInputs: []byte(`[1]`)}, false)
			return err
		}(), "request.proof.public_inputs: snarkjs public.json: [0]"},
		{"unknown format", func() error {
			_, err := sub(lightkeeperv1.ProofFormat(9), &lightkeeperv1.ProofRequest{}, false)
			return err
		}(), "proof_format: unknown value 9"},
		{"bad key", func() error {
			_, err := convertKeyFormat(&lightkeeperv1.RegisterVerifyingKeyRequest{Key: proof, Format: lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS})
			return err
		}(), "key: snarkjs verification_key.json: nPublic: missing"},
		{"key on bls", func() error {
			_, err := convertKeyFormat(&lightkeeperv1.RegisterVerifyingKeyRequest{Key: vk, Curve: lightkeeperv1.Curve_CURVE_BLS12_381, Format: lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS})
			return err
		}(), "curve: CURVE_BLS12_381"},
	} {
		if connect.CodeOf(c.err) != connect.CodeInvalidArgument || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v, want InvalidArgument containing %q", c.name, c.err, c.want)
		}
	}
}
