package tests

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// initChain runs `lightkeeper init` and sets the verification timeout in
// the genesis's params.
func initChain(t *testing.T, timeoutSeconds int) string {
	t.Helper()
	dir := t.TempDir()
	if out, errOut, code := run(t, context.Background(), "init", "--dir", dir, "--keepers", "10"); code != 0 {
		t.Fatalf("init: %d %s %s", code, out, errOut)
	}
	editGenesis(t, dir, func(g *lightkeeperv1.Genesis) {
		g.Params.VerificationTimeout = durationpb.New(time.Duration(timeoutSeconds) * time.Second)
	})
	return dir
}

// editGenesis rewrites the genesis.json of an init directory.
func editGenesis(t *testing.T, dir string, edit func(*lightkeeperv1.Genesis)) {
	t.Helper()
	path := filepath.Join(dir, setup.GenesisFile)
	g, err := setup.ReadGenesis(path)
	if err != nil {
		t.Fatal(err)
	}
	edit(g)
	if err := setup.WriteGenesis(path, g); err != nil {
		t.Fatal(err)
	}
}

// runKeepers runs the chain's 10 keepers in this process until the
// returned stop is called. They reconnect by themselves after a crash.
func runKeepers(t *testing.T, dir, url string, st byzantine.Strategy) (stop func()) {
	t.Helper()
	keys, err := setup.ReadKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, k := range keys {
		kp := keeper.New(url, k, keeper.NewConfig().WithBehaviour(st).WithBackoff(50*time.Millisecond, 300*time.Millisecond).
			WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
		wg.Add(1)
		go func() { defer wg.Done(); kp.Run(ctx) }()
	}
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	waitOnline(t, url, len(keys))
	return stop
}

func waitOnline(t *testing.T, url string, n int) {
	t.Helper()
	waitKeepers(t, url, fmt.Sprintf("at least %d online", n), func(online int) bool { return online >= n })
}

// waitKeepers waits until the number of online keepers satisfies ok.
func waitKeepers(t *testing.T, url, what string, ok func(online int) bool) {
	t.Helper()
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, url)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := kc.ListKeepers(context.Background(), connect.NewRequest(&lightkeeperv1.ListKeepersRequest{}))
		online := 0
		if err == nil {
			for _, k := range res.Msg.GetKeepers() {
				if k.GetOnline() {
					online++
				}
			}
		}
		if ok(online) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %s keepers, have %d online (%v)", what, online, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrashRestart kills the coordinator with SIGKILL while rounds are
// being submitted and voted on, restarts it on the same data directory,
// and checks that every round whose submission was acknowledged is still
// there and is decided exactly once; then that a deadline passing while
// the coordinator is down is honoured after the restart.
func TestCrashRestart(t *testing.T) {
	dir := initChain(t, 5)
	cfg := filepath.Join(dir, setup.ConfigFile)
	data := filepath.Join(dir, "data")
	coord, url := startCoordinator(t, "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	addr := strings.TrimPrefix(url, "http://")
	stopKeepers := runKeepers(t, dir, url, byzantine.Honest)

	// Submit continuously from 4 clients; remember what was acknowledged.
	item := allItems(t)[0]
	sub := workload.NewSubmitter(http.DefaultClient, url)
	var mu sync.Mutex
	var accepted []string
	ctx, stopSubmitting := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				r, err := sub.Submit(ctx, item, fmt.Sprintf("crash-%d-%d", c, i))
				if err != nil {
					continue
				}
				mu.Lock()
				accepted = append(accepted, r.GetId())
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	coord.kill()
	stopSubmitting()
	wg.Wait()
	if len(accepted) < 5 {
		t.Fatalf("only %d rounds accepted before the crash", len(accepted))
	}

	coord, url = startCoordinator(t, "--config", cfg, "--data", data, "--listen", addr)
	waitCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, id := range accepted {
		r, err := sub.WaitDecided(waitCtx, id)
		if err != nil {
			t.Fatalf("acknowledged round %s after restart: %v", id, err)
		}
		if r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED && r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_TIMEOUT {
			t.Errorf("round %s: outcome %v", id, r.GetOutcome())
		}
	}
	// Exactly one certificate per round across the whole chain.
	certs := certificatesByRound(t, url)
	for _, id := range accepted {
		if certs[id] != 1 {
			t.Errorf("round %s has %d certificates in the ledger, want 1", id, certs[id])
		}
	}
	for id, n := range certs {
		if n != 1 {
			t.Errorf("round %s has %d certificates", id, n)
		}
	}
	t.Logf("%d acknowledged rounds survived the crash, each decided once", len(accepted))

	// A round left open across a crash longer than its deadline ends as
	// TIMEOUT once the coordinator is back, not later, not never.
	stopKeepers()
	waitKeepers(t, url, "no", func(online int) bool { return online == 0 })
	stopKeepers = runKeepers(t, dir, url, byzantine.Silent)
	r, err := sub.Submit(context.Background(), item, "deadline")
	if err != nil {
		t.Fatal(err)
	}
	coord.kill()
	stopKeepers()
	time.Sleep(time.Until(r.GetDeadline().AsTime()) + 200*time.Millisecond)
	_, url = startCoordinator(t, "--config", cfg, "--data", data, "--listen", addr)
	decided, err := sub.WaitDecided(waitCtx, r.GetId())
	if err != nil {
		t.Fatal(err)
	}
	if decided.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_TIMEOUT || decided.GetDecidedAt().AsTime().Before(r.GetDeadline().AsTime()) {
		t.Fatalf("round open across the crash: %v at %v, deadline %v", decided.GetOutcome(), decided.GetDecidedAt().AsTime(), r.GetDeadline().AsTime())
	}
}

// certificatesByRound counts the certificates of each round over every
// block of the chain.
func certificatesByRound(t *testing.T, url string) map[string]int {
	t.Helper()
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, url)
	ctx := context.Background()
	info, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	var prev []byte
	for h := uint64(1); h <= info.Msg.GetHeadHeight(); h++ {
		res, err := lc.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: h}))
		if err != nil {
			var ce *connect.Error
			if errors.As(err, &ce) {
				t.Fatalf("block %d: %v", h, ce)
			}
			t.Fatal(err)
		}
		b := res.Msg.GetBlock()
		if prev != nil && string(b.GetHeader().GetPreviousHash()) != string(prev) {
			t.Fatalf("block %d does not link to block %d", h, h-1)
		}
		prev = b.GetHash()
		for _, c := range b.GetCertificates() {
			counts[c.GetRoundId()]++
		}
	}
	return counts
}
