package service

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/protocol"
)

func TestParamsDiffNamesKeys(t *testing.T) {
	a, b := protocol.DefaultParams(), protocol.DefaultParams()
	if d := paramsDiff(a, b); len(d) != 0 {
		t.Fatalf("equal params: %v", d)
	}
	b.Threshold = 6
	b.VerificationTimeout = durationpb.New(45 * time.Second)
	b.Staking.MinSelfBond = 7
	b.SizeLimits.MaxProofBytes = 1 << 20
	got := strings.Join(paramsDiff(a, b), "\n")
	for _, want := range []string{
		"params.threshold: the chain has 7, genesis.json has 6",
		"params.verification_timeout: the chain has 30s, genesis.json has 45s",
		"params.staking.min_self_bond: the chain has 100, genesis.json has 7",
		"params.size_limits.max_proof_bytes: the chain has 65536, genesis.json has 1048576",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	if n := len(paramsDiff(a, b)); n != 4 {
		t.Errorf("%d differences, want 4:\n%s", n, got)
	}
}
