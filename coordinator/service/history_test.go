package service_test

import (
	"context"
	"fmt"
	"google.golang.org/protobuf/types/known/durationpb"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// TestKeeperHistory: GetKeeperHistory starts with each keeper's record
// when the coordinator opens its data, then holds the last committed
// record of every epoch in which a block changed it, oldest first, and
// its last point is the keeper's current record; after a restart it
// starts again. Unknown and malformed ids are refused.
func TestKeeperHistory(t *testing.T) {
	cfg := testConfig()
	cfg.Params.Staking.EpochLength = durationpb.New(time.Second)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := func() *devnet.Devnet {
		t.Helper()
		byz := make([]byzantine.Strategy, 10)
		for i := range byz {
			byz[i] = byzantine.Silent
		}
		d, err := devnet.Start(ctx, devnet.Options{Dir: dir, Keepers: 10, Byzantine: byz, Config: &cfg.Config, Params: cfg.Params})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.WaitOnline(ctx, 10, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := start()
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	history := func(id string) []*lightkeeperv1.KeeperEpochPoint {
		t.Helper()
		res, err := kc.GetKeeperHistory(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperHistoryRequest{KeeperId: id}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.GetPoints()
	}
	current := func(id string) *lightkeeperv1.Keeper {
		t.Helper()
		res, err := kc.GetKeeper(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: id}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.GetKeeper()
	}
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	item := validItem(t)
	// Rounds decided by the test's own votes move the voters' reputation;
	// epochs of a second turn over between them. Go on until one keeper
	// has points in three epochs with its reputation changed.
	var id string
	var points []*lightkeeperv1.KeeperEpochPoint
	for i := 0; ; i++ {
		if ctx.Err() != nil {
			t.Fatalf("no keeper has a history over three epochs: %v", points)
		}
		r, err := sub.Submit(ctx, item, fmt.Sprint("history-", i))
		if err != nil {
			t.Fatal(err)
		}
		var votes []*lightkeeperv1.Vote
		for _, m := range r.GetCommittee() {
			votes = append(votes, signedVote(t, d.Genesis.GetChainId(), r.GetId(), keyByID(t, d, m), lightkeeperv1.VoteKind_VOTE_KIND_APPROVE))
		}
		submitVotes(t, kc, votes...)
		if _, err := sub.WaitDecided(ctx, r.GetId()); err != nil {
			t.Fatal(err)
		}
		if id == "" {
			id = r.GetCommittee()[0]
		}
		if points = history(id); len(points) >= 3 && points[0].GetReputation() != points[len(points)-1].GetReputation() {
			break
		}
	}
	for i := 1; i < len(points); i++ {
		if points[i].GetEpoch() <= points[i-1].GetEpoch() || points[i].GetHeight() <= points[i-1].GetHeight() {
			t.Fatalf("points out of order: %v", points)
		}
	}
	last, k := points[len(points)-1], current(id)
	if last.GetReputation() != k.GetReputation() || last.GetEffectiveStake() != k.GetEffectiveStake() || last.GetStake() != k.GetStake() {
		t.Fatalf("last point %v, current record reputation %d, effective stake %d, bond %d", last, k.GetReputation(), k.GetEffectiveStake(), k.GetStake())
	}
	for _, bad := range []struct {
		id   string
		code connect.Code
		want string
	}{
		{strings.Repeat("0", 64), connect.CodeNotFound, "keeper " + strings.Repeat("0", 64) + " not found"},
		{"xyz", connect.CodeInvalidArgument, "keeper_id: want 64 lowercase hex digits, got 3 characters"},
	} {
		_, err := kc.GetKeeperHistory(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperHistoryRequest{KeeperId: bad.id}))
		if connect.CodeOf(err) != bad.code || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: got %v, want %v %q", bad.id, err, bad.code, bad.want)
		}
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = start()
	defer d.Close()
	kc = lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	after := history(id)
	if len(after) != 1 || after[0].GetReputation() != k.GetReputation() || after[0].GetEpoch() < last.GetEpoch() {
		t.Fatalf("after a restart: %v, want one point with reputation %d", after, k.GetReputation())
	}
}
