package service_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// A node marked halted (a replica whose CometBFT consensus stopped) says
// so in GetChainInfo, health and metrics, ends its keepers' streams and
// refuses sessions and votes with Unavailable, the code that moves a
// keeper to another coordinator; reads go on.
func TestHaltedNodeSaysSo(t *testing.T) {
	d := startDevnet(t, testConfig(), 0, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key := d.Keys[len(d.Keys)-1]
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	health := grpchealth.NewClient(http.DefaultClient, d.URL)
	id := setup.KeyID(key)
	if _, err := kc.RegisterKeeper(ctx, connect.NewRequest(&lightkeeperv1.RegisterKeeperRequest{KeeperId: id, Signature: protocol.SignRegistration(key, d.Genesis.GetChainId())})); err != nil {
		t.Fatal(err)
	}
	ms := time.Now().UnixMilli()
	auth := func() *lightkeeperv1.SessionAuth {
		ms++
		return &lightkeeperv1.SessionAuth{KeeperId: id, Time: timestamppb.New(time.UnixMilli(ms)), Signature: protocol.SignSession(key, d.Genesis.GetChainId(), ms)}
	}
	stream, err := kc.Subscribe(ctx, connect.NewRequest(&lightkeeperv1.SubscribeRequest{Auth: auth()}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if res, err := health.Check(ctx, &grpchealth.CheckRequest{}); err != nil || res.Status != grpchealth.StatusServing {
		t.Fatalf("before the halt: health %v, %v", res, err)
	}

	d.Node.MarkHalted("test: wrong Block.Header.AppHash")

	for stream.Receive() {
	}
	if connect.CodeOf(stream.Err()) != connect.CodeUnavailable || !strings.Contains(stream.Err().Error(), "halted") {
		t.Errorf("open Subscribe stream ended with %v, want Unavailable naming the halt", stream.Err())
	}
	info, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		t.Fatalf("reads must go on: %v", err)
	}
	if !info.Msg.GetConsensusHalted() || !strings.Contains(info.Msg.GetHaltReason(), "AppHash") {
		t.Errorf("GetChainInfo: halted %v reason %q", info.Msg.GetConsensusHalted(), info.Msg.GetHaltReason())
	}
	for _, svc := range []string{"", lightkeeperv1connect.KeeperServiceName, lightkeeperv1connect.RoundServiceName} {
		if res, err := health.Check(ctx, &grpchealth.CheckRequest{Service: svc}); err != nil || res.Status != grpchealth.StatusNotServing {
			t.Errorf("health of %q: %v, %v; want NOT_SERVING", svc, res, err)
		}
	}
	_, err = kc.PullTasks(ctx, connect.NewRequest(&lightkeeperv1.PullTasksRequest{Auth: auth(), WaitMs: 1}))
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("PullTasks: %v, want Unavailable", err)
	}
	_, err = kc.SubmitVotes(ctx, connect.NewRequest(&lightkeeperv1.SubmitVotesRequest{Votes: []*lightkeeperv1.Vote{{RoundId: strings.Repeat("0", 64), KeeperId: id}}}))
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("SubmitVotes: %v, want Unavailable", err)
	}
	res, err := http.Get(d.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "\nlightkeeper_consensus_halted 1\n") {
		t.Errorf("metrics lack lightkeeper_consensus_halted 1")
	}
}
