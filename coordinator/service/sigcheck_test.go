package service_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// A batch large enough to be checked on several goroutines before its
// block, with forged and altered votes between good ones: every vote gets
// the status of its own signature, in its own place.
func TestVoteBatchCheckedBeforeTheBlock(t *testing.T) {
	d := startDevnet(t, testConfig(), 10, 0)
	ctx := context.Background()
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	chainID := d.Genesis.GetChainId()
	round, err := sub.Submit(ctx, validItem(t), "batch")
	if err != nil {
		t.Fatal(err)
	}
	const (
		approve = lightkeeperv1.VoteKind_VOTE_KIND_APPROVE
		reject  = lightkeeperv1.VoteKind_VOTE_KIND_REJECT
	)
	var batch []*lightkeeperv1.Vote
	var want []lightkeeperv1.VoteStatus
	// Three approvals and three rejections: below both thresholds (7 and
	// 4), so the round stays open and every vote is judged on its own.
	for i, id := range round.GetCommittee()[:6] {
		key := keyByID(t, d, id)
		kind := approve
		if i%2 == 1 {
			kind = reject
		}
		forged := signedVote(t, chainID, round.GetId(), key, kind)
		forged.Signature[9] ^= 1
		flipped := signedVote(t, chainID, round.GetId(), key, approve)
		flipped.Kind = reject // signed as an approval
		if kind == reject {
			flipped.Kind = approve
			flipped.Signature = signedVote(t, chainID, round.GetId(), key, reject).Signature
		}
		batch = append(batch, forged, signedVote(t, chainID, round.GetId(), key, kind), flipped)
		want = append(want, lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE,
			lightkeeperv1.VoteStatus_VOTE_STATUS_ACCEPTED, lightkeeperv1.VoteStatus_VOTE_STATUS_BAD_SIGNATURE)
	}
	got := submitVotes(t, kc, batch...)
	if len(got) != len(want) {
		t.Fatalf("%d results for %d votes", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("vote %d: %v, want %v", i, got[i], want[i])
		}
	}
}
