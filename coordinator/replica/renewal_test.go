package replica

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/keeper"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// TestStreamingKeeperRenewsSession runs a replicated chain whose sessions
// last 2 s and two keepers that each hold one Subscribe stream open for
// four ttls: the one that renews its session (the default) stays online
// throughout; the one with renewal off goes offline once its first
// session, posted when the stream opened, runs out. The second is the
// control: without renewal the first would lapse the same way.
func TestStreamingKeeperRenewsSession(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node")
	}
	const ttl = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	genesis := testGenesis(time.Now())
	genesis.Params.Sessions = protocol.DefaultSessionParams()
	genesis.Params.Sessions.Ttl = durationpb.New(ttl)
	// One validator: sessions are chain state all the same (each renewal
	// is a transaction through the mempool and a block), at a fraction of
	// four replicas' CPU.
	configs, err := InitTestnet(TestnetOptions{
		Dir:            t.TempDir(),
		Replicas:       1,
		Genesis:        genesis,
		TimeoutPropose: 500 * time.Millisecond,
		TimeoutCommit:  100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	api, err := LoadAPIConfig(configs[0].RootDir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNodeWith(configs[0], NodeOptions{API: &api})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", api.Network.Listen)
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- n.Serve(serveCtx, ln) }()
	t.Cleanup(func() {
		stopServing()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := n.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	url := "http://" + api.Network.Listen

	keeperCtx, stopKeepers := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	defer func() {
		stopKeepers()
		<-done
		<-done
	}()
	renewing := keeper.New(url, keeperKey(0), keeper.NewConfig().WithBackoff(50*time.Millisecond, time.Second))
	lapsing := keeper.New(url, keeperKey(1), keeper.NewConfig().WithBackoff(50*time.Millisecond, time.Second).WithSessionRenewal(false))
	for _, k := range []*keeper.Keeper{renewing, lapsing} {
		go func() { k.Run(keeperCtx); done <- struct{}{} }()
	}
	online := func(i int) bool {
		k, err := n.App.mustStore(t).Keeper(keeperID(i))
		return err == nil && k.GetOnline()
	}
	for !online(0) || !online(1) {
		if ctx.Err() != nil {
			t.Fatal("timed out waiting for both keepers to come online")
		}
		time.Sleep(20 * time.Millisecond)
	}
	reconnects := renewing.Stats().Reconnects + lapsing.Stats().Reconnects

	// Four ttls on one stream each.
	end := time.Now().Add(4 * ttl)
	wentOffline := time.Duration(0)
	start := time.Now()
	for time.Now().Before(end) {
		if !online(0) {
			t.Fatalf("the renewing keeper went offline %v into its stream (renewals %d, failed %d)",
				time.Since(start).Round(time.Millisecond), renewing.Stats().Renewals, renewing.Stats().RenewalFailures)
		}
		if wentOffline == 0 && !online(1) {
			wentOffline = time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if wentOffline == 0 {
		t.Fatalf("the keeper without renewal is still online after %v on one stream with a %v ttl: the test cannot tell renewal from no renewal", 4*ttl, ttl)
	}
	if got := renewing.Stats().Reconnects + lapsing.Stats().Reconnects; got != reconnects {
		t.Fatalf("keepers reconnected %d times during the test: a new stream posts a new session, so the streams must stay open", got-reconnects)
	}
	st := renewing.Stats()
	if st.Renewals < 3 || st.RenewalFailures != 0 || lapsing.Stats().Renewals != 0 {
		t.Fatalf("renewals: renewing keeper %d (failed %d), lapsing keeper %d; want ≥ 3, 0, 0", st.Renewals, st.RenewalFailures, lapsing.Stats().Renewals)
	}
	t.Logf("ttl %v: renewing keeper online for %v with %d renewals; the other went offline %v in", ttl, 4*ttl, st.Renewals, wentOffline.Round(time.Millisecond))
}
