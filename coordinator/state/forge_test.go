package state

import (
	"errors"
	"strings"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
)

// rejectedCert is the certificate of a round decided REJECTED by one
// approval and then rejections (issue #9 finding 2's starting point).
func rejectedCert(t *testing.T, h *harness) *lightkeeperv1.Certificate {
	t.Helper()
	r := h.submit()
	res := h.ok(h.apply(time.Second, append(votes(r, h, approve, 0), votes(r, h, reject, seatRange(1, 10)...)...)...))
	if len(res.Block.Certificates) != 1 || res.Block.Certificates[0].Outcome != lightkeeperv1.Outcome_OUTCOME_REJECTED {
		t.Fatalf("certificates %v", res.Block.Certificates)
	}
	return served(res.Block.Certificates[0])
}

// Finding 2: keep the one APPROVE vote of a REJECTED round, claim
// APPROVED with threshold 1 and reject_threshold = size: the thresholds
// must come from the chain's parameters, not from the certificate.
func TestForgedThresholdsRefused(t *testing.T) {
	h := newHarness(t, 10, 100, nil)
	cert := rejectedCert(t, h)
	if err := protocol.VerifyCertificate(cert, h.m.Params()); err != nil {
		t.Fatal(err)
	}
	forged := proto.Clone(cert).(*lightkeeperv1.Certificate)
	forged.Votes = forged.Votes[:1]
	if forged.Votes[0].Kind != approve {
		t.Fatal("first vote is not the approval")
	}
	forged.Outcome = lightkeeperv1.Outcome_OUTCOME_APPROVED
	forged.Threshold, forged.RejectThreshold = 1, uint32(len(forged.Committee))
	err := protocol.VerifyCertificate(forged, h.m.Params())
	if !errors.Is(err, protocol.ErrBadCertificate) || !strings.Contains(err.Error(), "threshold: 1, but the chain's rule gives 7") {
		t.Fatalf("forged APPROVED certificate: %v", err)
	}
	// Without the chain's parameters nothing is accepted.
	if err := protocol.VerifyCertificate(cert, nil); !errors.Is(err, protocol.ErrBadCertificate) {
		t.Fatalf("no parameters: %v", err)
	}
	// Parameters of another chain (here: a 1-of-10 threshold) do not match
	// the certificate's params_hash, so a verifier cannot be talked into
	// looser rules either.
	loose := h.m.Params()
	loose.Threshold = 1
	if err := protocol.VerifyCertificate(forged, loose); !errors.Is(err, protocol.ErrBadCertificate) || !strings.Contains(err.Error(), "params_hash") {
		t.Fatalf("forged certificate under looser parameters: %v", err)
	}
}
