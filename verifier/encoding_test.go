package verifier_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// CheckProofEncoding reports trailing bytes, and only those: a truncated
// proof is left to the committee, which rejects it by vote; the keepers'
// verdict on a padded proof is the same rejection.
func TestCheckProofEncodingTrailingBytes(t *testing.T) {
	for _, c := range combos {
		t.Run(c.String(), func(t *testing.T) {
			k := getKit(t, c)
			for _, pair := range []struct {
				vk, p, public []byte
			}{{k.f.VerifyingKey, k.p.Proof, k.p.PublicInputs}, {k.committed.VerifyingKey, k.pc.Proof, k.pc.PublicInputs}} {
				p := pair.p
				if err := verifier.CheckProofEncoding(c.scheme, c.curve, p); err != nil {
					t.Fatalf("valid proof: %v", err)
				}
				padded := append(bytes.Clone(p), 0)
				err := verifier.CheckProofEncoding(c.scheme, c.curve, padded)
				if !errors.Is(err, verifier.ErrTrailingBytes) {
					t.Fatalf("one trailing byte: %v, want ErrTrailingBytes", err)
				}
				if err := verifier.CheckProofEncoding(c.scheme, c.curve, p[:len(p)-1]); err != nil {
					t.Fatalf("truncated proof: %v, want nil (the committee rejects it)", err)
				}
				job := verifier.ProofJob{Scheme: c.scheme, Curve: c.curve, VerifyingKey: pair.vk, Proof: padded, PublicInputs: pair.public}
				if v := verifier.VerifyProof(job, protocol.DefaultLimits()); v.Vote != protocol.VoteReject || v.Reason != verifier.ReasonMalformedProof {
					t.Fatalf("keeper verdict on a padded proof: %+v, want reject (malformed proof)", v)
				}
			}
		})
	}
}
