package keeper

import (
	"context"
	"slices"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// TestEngineAbstainsOnUnbuiltProofs runs in every build (go test -tags
// lightkeeper_nobls12381 ./keeper/ and so on): a valid proof of a pair the
// verifier links is approved, one of a pair the build leaves out gets
// ABSTAIN (UNSUPPORTED), alone and in a batch, as a compute job does in the
// proofs-only build; BuildCapabilities lists exactly the approved pairs.
func TestEngineAbstainsOnUnbuiltProofs(t *testing.T) {
	e := NativeEngine{Limits: protocol.DefaultLimits(), Keys: verifier.NewKeyCache(4)}
	var tasks []*lightkeeperv1.Task
	var want []lightkeeperv1.VoteKind
	var approved []string
	for _, s := range []verifier.Scheme{verifier.SchemeGroth16, verifier.SchemePlonk} {
		for _, c := range []verifier.Curve{verifier.CurveBN254, verifier.CurveBLS12_381} {
			f, err := proofgen.New(s, c)
			if err != nil {
				t.Fatal(err)
			}
			ts := proofTasks(t, f, 1, byte(len(tasks)))
			tasks = append(tasks, ts...)
			v := e.Check(context.Background(), ts[0])
			if verifier.Supported(s, c) {
				approved = append(approved, s.String()+"/"+c.String())
				want = append(want, lightkeeperv1.VoteKind_VOTE_KIND_APPROVE)
				if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_APPROVE {
					t.Errorf("%s/%s: %+v, want APPROVE", s, c, v)
				}
				continue
			}
			want = append(want, lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN)
			if v.Kind != lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || v.Reason != lightkeeperv1.RejectReason_REJECT_REASON_UNSUPPORTED {
				t.Errorf("%s/%s not built: %+v, want ABSTAIN (UNSUPPORTED)", s, c, v)
			}
		}
	}
	for i, v := range e.CheckBatch(context.Background(), tasks) {
		if v.Kind != want[i] {
			t.Errorf("CheckBatch[%d] = %+v, want %v", i, v, want[i])
		}
	}
	if got := BuildCapabilities().Proofs; !slices.Equal(got, approved) {
		t.Errorf("BuildCapabilities().Proofs = %v, want %v", got, approved)
	}
}
