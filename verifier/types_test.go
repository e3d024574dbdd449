package verifier_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

func TestSchemeCurveStrings(t *testing.T) {
	for _, s := range []verifier.Scheme{verifier.SchemeGroth16, verifier.SchemePlonk} {
		got, err := verifier.ParseScheme(s.String())
		if err != nil || got != s {
			t.Fatalf("ParseScheme(%q) = %v, %v", s, got, err)
		}
	}
	for _, c := range []verifier.Curve{verifier.CurveBN254, verifier.CurveBLS12_381} {
		got, err := verifier.ParseCurve(c.String())
		if err != nil || got != c {
			t.Fatalf("ParseCurve(%q) = %v, %v", c, got, err)
		}
	}
	if verifier.SchemeGroth16.String() != "groth16" || verifier.SchemePlonk.String() != "plonk" ||
		verifier.CurveBN254.String() != "bn254" || verifier.CurveBLS12_381.String() != "bls12_381" {
		t.Fatal("names changed")
	}
	if c, err := verifier.ParseCurve("BLS12-381"); err != nil || c != verifier.CurveBLS12_381 {
		t.Fatal("alias not accepted")
	}
	if _, err := verifier.ParseScheme("marlin"); !errors.Is(err, verifier.ErrUnsupported) {
		t.Fatalf("ParseScheme(marlin) = %v", err)
	}
	if _, err := verifier.ParseCurve("secp256k1"); !errors.Is(err, verifier.ErrUnsupported) {
		t.Fatalf("ParseCurve(secp256k1) = %v", err)
	}
	if verifier.Scheme(9).String() != "scheme(9)" || verifier.Curve(9).String() != "curve(9)" {
		t.Fatal("unknown values")
	}
}

func TestReasonStrings(t *testing.T) {
	want := []string{"none", "malformed_verifying_key", "malformed_proof", "malformed_public_inputs",
		"wrong_input_count", "invalid_proof", "oversized", "unsupported"}
	for i, w := range want {
		if got := verifier.RejectReason(i).String(); got != w {
			t.Errorf("reason %d = %q, want %q", i, got, w)
		}
	}
}

func TestErrorIs(t *testing.T) {
	err := &verifier.Error{Reason: verifier.ReasonInvalidProof, Detail: "pairing check failed"}
	wrapped := fmt.Errorf("round 7: %w", err)
	if !errors.Is(wrapped, verifier.ErrInvalidProof) {
		t.Fatal("errors.Is failed through wrapping")
	}
	if errors.Is(wrapped, verifier.ErrMalformedProof) {
		t.Fatal("matched the wrong sentinel")
	}
	if !errors.Is(err, &verifier.Error{Reason: verifier.ReasonInvalidProof, Detail: "pairing check failed"}) {
		t.Fatal("equal error does not match")
	}
	if errors.Is(err, &verifier.Error{Reason: verifier.ReasonInvalidProof, Detail: "other"}) {
		t.Fatal("different detail matched")
	}
	if verifier.ReasonOf(wrapped) != verifier.ReasonInvalidProof || verifier.ReasonOf(errors.New("x")) != verifier.ReasonNone || verifier.ReasonOf(nil) != verifier.ReasonNone {
		t.Fatal("ReasonOf")
	}
	if got := err.Error(); got != "verifier: invalid_proof: pairing check failed" {
		t.Fatalf("Error() = %q", got)
	}
	if got := verifier.ErrOversized.Error(); got != "verifier: oversized" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestDefaultLimits(t *testing.T) {
	l := protocol.DefaultLimits()
	if l.MaxVerifyingKeyBytes != 1<<20 || l.MaxProofBytes != 64<<10 || l.MaxPublicInputBytes != 64<<10 || l.MaxPublicInputs != 1024 {
		t.Fatalf("DefaultLimits = %+v", l)
	}
}

func TestVerdictString(t *testing.T) {
	v := verifier.Verdict{Vote: protocol.VoteReject, Reason: verifier.ReasonOversized, Detail: "proof is 9 bytes"}
	if v.String() != "reject(oversized): proof is 9 bytes" {
		t.Fatal(v.String())
	}
	if (verifier.Verdict{Vote: protocol.VoteApprove}).String() != "approve" {
		t.Fatal("approve")
	}
}
