package service

// Conversion of other proof formats at the API boundary (issue #13). The
// chain stores, and keepers verify, gnark's binary encodings only; a
// request in another format is converted here, before it is checked,
// hashed or stored, by the one converter (verifier/snarkjs).

import (
	"google.golang.org/protobuf/proto"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier/snarkjs"
)

// convertKeyFormat returns the verifying key in gnark's form.
func convertKeyFormat(m *lightkeeperv1.RegisterVerifyingKeyRequest) (*lightkeeperv1.RegisterVerifyingKeyRequest, error) {
	switch m.GetFormat() {
	case lightkeeperv1.ProofFormat_PROOF_FORMAT_UNSPECIFIED:
		return m, nil
	case lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS:
	default:
		return nil, invalidArgument("format: unknown value %d", m.GetFormat())
	}
	if err := snarkjsSchemeCurve("", m.GetScheme(), m.GetCurve()); err != nil {
		return nil, err
	}
	key, err := snarkjs.VerifyingKey(m.GetKey())
	if err != nil {
		return nil, invalidArgument("key: %v", err)
	}
	return &lightkeeperv1.RegisterVerifyingKeyRequest{
		Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254, Key: key,
	}, nil
}

// convertRoundFormat returns the submission with its proof in gnark's form.
func convertRoundFormat(m *lightkeeperv1.SubmitRoundRequest) (*lightkeeperv1.SubmitRoundRequest, error) {
	switch m.GetProofFormat() {
	case lightkeeperv1.ProofFormat_PROOF_FORMAT_UNSPECIFIED:
		return m, nil
	case lightkeeperv1.ProofFormat_PROOF_FORMAT_SNARKJS:
	default:
		return nil, invalidArgument("proof_format: unknown value %d", m.GetProofFormat())
	}
	if m.GetSigned() != nil {
		return nil, invalidArgument("proof_format: snarkjs applies to the unsigned request only; convert first (verifier/snarkjs, lightkeeper submit proof --format snarkjs) and sign the converted request")
	}
	p := m.GetRequest().GetProof()
	if p == nil {
		return nil, invalidArgument("request.proof: missing (proof_format snarkjs is for proof rounds)")
	}
	if err := snarkjsSchemeCurve("request.proof.", p.GetScheme(), p.GetCurve()); err != nil {
		return nil, err
	}
	proof, err := snarkjs.Proof(p.GetProof())
	if err != nil {
		return nil, invalidArgument("request.proof.proof: %v", err)
	}
	public, err := snarkjs.Public(p.GetPublicInputs())
	if err != nil {
		return nil, invalidArgument("request.proof.public_inputs: %v", err)
	}
	rr := proto.Clone(m.GetRequest()).(*lightkeeperv1.RoundRequest)
	cp := rr.GetProof()
	cp.Scheme, cp.Curve, cp.Proof, cp.PublicInputs = lightkeeperv1.Scheme_SCHEME_GROTH16, lightkeeperv1.Curve_CURVE_BN254, proof, public
	return &lightkeeperv1.SubmitRoundRequest{Request: rr}, nil
}

// snarkjsSchemeCurve accepts Groth16 on BN254, or either left unset.
func snarkjsSchemeCurve(prefix string, s lightkeeperv1.Scheme, c lightkeeperv1.Curve) error {
	if s != lightkeeperv1.Scheme_SCHEME_UNSPECIFIED && s != lightkeeperv1.Scheme_SCHEME_GROTH16 {
		return invalidArgument("%sscheme: %v; the snarkjs format is Groth16 only (docs/snarkjs.md)", prefix, s)
	}
	if c != lightkeeperv1.Curve_CURVE_UNSPECIFIED && c != lightkeeperv1.Curve_CURVE_BN254 {
		return invalidArgument("%scurve: %v; the snarkjs format is BN254 (bn128) only", prefix, c)
	}
	return nil
}
