package verifier_test

import (
	"errors"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// built is what this test binary's tags link: BN254 and Groth16 always,
// BLS12-381 and PLONK unless lightkeeper_nobls12381 / lightkeeper_noplonk
// (supported_bls12381_test.go, supported_plonk_test.go add them).
var built = struct {
	curves  map[verifier.Curve]bool
	schemes map[verifier.Scheme]bool
}{
	curves:  map[verifier.Curve]bool{verifier.CurveBN254: true},
	schemes: map[verifier.Scheme]bool{verifier.SchemeGroth16: true},
}

// TestSupportedByBuild runs in every build (go test -tags
// lightkeeper_nobls12381 ./verifier/ and so on): every supported pair
// verifies a real proof through every entry point, and every pair the
// build leaves out gets an *Error with ReasonUnsupported from each of them,
// never a panic or a verdict about the proof.
func TestSupportedByBuild(t *testing.T) {
	lim := protocol.DefaultLimits()
	for _, c := range combos {
		t.Run(c.String(), func(t *testing.T) {
			want := built.curves[c.curve] && built.schemes[c.scheme]
			if got := verifier.Supported(c.scheme, c.curve); got != want {
				t.Fatalf("Supported = %v, want %v", got, want)
			}
			// Fixtures come from gnark itself, which links every curve
			// whatever the verifier's tags.
			f, err := proofgen.New(c.scheme, c.curve)
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.Prove(3)
			if err != nil {
				t.Fatal(err)
			}
			job := f.Job(p)
			_, keyErr := verifier.CheckVerifyingKey(c.scheme, c.curve, job.VerifyingKey, lim)
			n, inputsErr := verifier.CheckPublicInputs(c.curve, job.PublicInputs, lim)
			single := verifier.VerifyProof(job, lim)
			batch := verifier.NewKeyCache(2).VerifyBatch([]verifier.ProofJob{job, job}, lim)
			if want {
				if keyErr != nil || single.Vote != protocol.VoteApprove {
					t.Fatalf("supported pair: CheckVerifyingKey %v, VerifyProof %v", keyErr, single)
				}
				for i, v := range batch {
					if v.Vote != protocol.VoteApprove {
						t.Errorf("VerifyBatch[%d] = %v, want approve", i, v)
					}
				}
				return
			}
			if !errors.Is(keyErr, verifier.ErrUnsupported) {
				t.Errorf("CheckVerifyingKey = %v, want ErrUnsupported", keyErr)
			}
			// Public inputs only depend on the curve.
			if built.curves[c.curve] {
				if inputsErr != nil || n != proofgen.NumPublic {
					t.Errorf("CheckPublicInputs = %d, %v on a built curve", n, inputsErr)
				}
			} else if !errors.Is(inputsErr, verifier.ErrUnsupported) {
				t.Errorf("CheckPublicInputs = %v, want ErrUnsupported", inputsErr)
			}
			for i, v := range append([]verifier.Verdict{single}, batch...) {
				if v.Vote != protocol.VoteReject || v.Reason != verifier.ReasonUnsupported || v.Detail == "" {
					t.Errorf("verdict %d = %+v, want reject/unsupported with a detail", i, v)
				}
			}
			// Unsupported comes first, as for an unknown scheme or curve:
			// an oversized job of a left-out pair is still unsupported.
			big := job
			big.Proof = make([]byte, lim.MaxProofBytes+1)
			if v := verifier.VerifyProof(big, lim); v.Reason != verifier.ReasonUnsupported {
				t.Errorf("oversized job of a left-out pair: %+v, want unsupported", v)
			}
		})
	}
}
