package replica

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// apiClients are one replica's Connect clients.
type apiClients struct {
	rounds lightkeeperv1connect.RoundServiceClient
	keys   lightkeeperv1connect.VerifyingKeyServiceClient
	ledger lightkeeperv1connect.LedgerServiceClient
	keeper lightkeeperv1connect.KeeperServiceClient
}

// TestReplicasServeAPI starts 4 replicas, each serving the Connect API on
// loopback, and native keepers connected to different replicas (keeper i
// to replica i mod 4), which register through their replica's API (the
// mempool) and vote on what it dispatches. A Groth16/BN254 round
// submitted through replica 0 is decided; replica 3's WatchRound sees the
// decision; every replica returns the same certificate, byte for byte,
// and it verifies offline; the replicas report equal app hashes through
// GetChainInfo.
func TestReplicasServeAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 4 CometBFT nodes")
	}
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	genesis := testGenesis(time.Now())
	// Rounds stay DECIDED (open to late votes) longer than the test.
	genesis.Params.VerificationTimeout = durationpb.New(10 * time.Minute)
	configs, err := InitTestnet(TestnetOptions{
		Dir:            t.TempDir(),
		Replicas:       4,
		Genesis:        genesis,
		TimeoutPropose: 500 * time.Millisecond,
		TimeoutCommit:  100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*Node, len(configs))
	clients := make([]apiClients, len(configs))
	urls := make([]string, len(configs))
	serveCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, len(configs))
	t.Cleanup(func() {
		stopServing()
		for range nodes {
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
		for i, n := range nodes {
			if err := n.Stop(); err != nil {
				t.Errorf("stop replica %d: %v", i, err)
			}
		}
	})
	for i, cfg := range configs {
		api, err := LoadAPIConfig(cfg.RootDir)
		if err != nil {
			t.Fatal(err)
		}
		n, err := NewNodeWith(cfg, NodeOptions{API: &api})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatalf("start replica %d: %v", i, err)
		}
		nodes[i] = n
		ln, err := net.Listen("tcp", api.Network.Listen)
		if err != nil {
			t.Fatal(err)
		}
		go func() { served <- n.Serve(serveCtx, ln) }()
		urls[i] = "http://" + api.Network.Listen
		clients[i] = apiClients{
			rounds: lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, urls[i]),
			keys:   lightkeeperv1connect.NewVerifyingKeyServiceClient(http.DefaultClient, urls[i]),
			ledger: lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, urls[i]),
			keeper: lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, urls[i]),
		}
	}

	// Keepers on different replicas: each registers through its own
	// replica's API, which answers once the registration is committed.
	keeperCtx, stopKeepers := context.WithCancel(ctx)
	keepersDone := make(chan struct{}, testKeepers)
	defer func() {
		stopKeepers()
		for range testKeepers {
			<-keepersDone
		}
	}()
	for i := range testKeepers {
		k := keeper.New(urls[i%len(urls)], keeperKey(i), keeper.NewConfig().WithBackoff(50*time.Millisecond, time.Second))
		go func() { k.Run(keeperCtx); keepersDone <- struct{}{} }()
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitUntil("every keeper registered and online on every replica", func() bool {
		for _, c := range clients {
			for i := range testKeepers {
				res, err := c.keeper.GetKeeper(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: keeperID(i)}))
				if err != nil || !res.Msg.GetKeeper().GetRegistered() || !res.Msg.GetKeeper().GetOnline() {
					return false
				}
			}
		}
		return true
	})

	// A submission is answered once committed (acknowledged means
	// durable).
	f := mustFixture(t)
	vk, err := clients[0].keys.RegisterVerifyingKey(ctx, connect.NewRequest(&lightkeeperv1.RegisterVerifyingKeyRequest{
		Scheme: lightkeeperv1.Scheme_SCHEME_GROTH16, Curve: lightkeeperv1.Curve_CURVE_BN254, Key: f.VerifyingKey,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := vk.Msg.GetVerifyingKey().GetId(); got != vkID(f) {
		t.Fatalf("verifying key id %s, want %s", got, vkID(f))
	}
	// The key is committed when the call returns: replica 0 serves it at
	// once, without waiting.
	if _, err := clients[0].keys.GetVerifyingKey(ctx, connect.NewRequest(&lightkeeperv1.GetVerifyingKeyRequest{VerifyingKeyId: vkID(f)})); err != nil {
		t.Fatalf("the acknowledged verifying key is not readable on the replica that acknowledged it: %v", err)
	}

	submit := submitTx(t, f, 42, "replicas-serve-api").GetSubmitRound().GetRequest()
	sub, err := clients[0].rounds.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: submit}))
	if err != nil {
		t.Fatal(err)
	}
	roundID := sub.Msg.GetRound().GetId()
	if !sub.Msg.GetCreated() || roundID != protocol.RoundID(testChain, submit) {
		t.Fatalf("SubmitRound: created %v, round %s", sub.Msg.GetCreated(), roundID)
	}

	// A client's retry of the same request through another replica is
	// answered with the committed round, not refused: the mempool's cache
	// knows the bytes, the replica its committed result.
	retry, err := clients[1].rounds.SubmitRound(ctx, connect.NewRequest(&lightkeeperv1.SubmitRoundRequest{Request: submit}))
	if err != nil {
		t.Fatalf("retry through replica 1: %v", err)
	}
	if retry.Msg.GetRound().GetId() != roundID {
		t.Fatalf("retry through replica 1: round %s, want %s", retry.Msg.GetRound().GetId(), roundID)
	}

	// WatchRound on replica 3 follows the round to its decision.
	waitUntil("replica 3 to hold the round", func() bool {
		_, err := clients[3].rounds.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: roundID}))
		return err == nil
	})
	watch, err := clients[3].rounds.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: roundID}))
	if err != nil {
		t.Fatal(err)
	}
	var decided *lightkeeperv1.Round
	for decided == nil && watch.Receive() {
		if r := watch.Msg().GetRound(); r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_UNSPECIFIED {
			decided = r
		}
	}
	watch.Close()
	if decided == nil {
		t.Fatalf("WatchRound on replica 3 ended without a decision: %v", watch.Err())
	}
	if decided.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED {
		t.Fatalf("round %s decided %v, want APPROVED", roundID, decided.GetOutcome())
	}

	// The same certificate, byte for byte, from every replica; it
	// verifies offline under the chain's parameters.
	info, err := clients[0].ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i, c := range clients {
		var cert *lightkeeperv1.Certificate
		waitUntil(fmt.Sprintf("replica %d's certificate", i), func() bool {
			res, err := c.rounds.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: roundID}))
			if err != nil {
				return false
			}
			cert = res.Msg.GetCertificate()
			return true
		})
		if err := protocol.VerifyCertificate(cert, info.Msg.GetParams()); err != nil {
			t.Fatalf("replica %d's certificate does not verify: %v", i, err)
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(cert)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			want = b
		} else if !bytes.Equal(b, want) {
			t.Fatalf("replica %d's certificate differs from replica 0's", i)
		}
	}

	// Equal app hashes through the API: blocks keep coming, so ask until
	// all four report the same height.
	var hashes [][]byte
	var height uint64
	waitUntil("the four replicas at one height", func() bool {
		hashes, height = nil, 0
		for i, c := range clients {
			res, err := c.ledger.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
			if err != nil {
				t.Fatalf("replica %d: GetChainInfo: %v", i, err)
			}
			if len(res.Msg.GetAppHash()) == 0 {
				t.Fatalf("replica %d reports no app hash", i)
			}
			if i > 0 && res.Msg.GetReplicaHeight() != height {
				return false
			}
			height = res.Msg.GetReplicaHeight()
			hashes = append(hashes, res.Msg.GetAppHash())
		}
		return true
	})
	for i, h := range hashes {
		if !bytes.Equal(h, hashes[0]) {
			t.Fatalf("height %d: replica %d's app hash %X, replica 0's %X", height, i, h, hashes[0])
		}
	}
	t.Logf("4 replicas, %d keepers on different replicas, round decided and certified identically; app hash %X at height %d; %s",
		testKeepers, hashes[0], height, time.Since(begin).Round(time.Millisecond))
}
