package tests

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// Issue #9, finding 4: after a coordinator restart every submission was
// refused for seconds ("have 0 eligible keepers") while keepers waited out
// their backoff, and clients did not retry. Here the coordinator is killed
// (-9) and restarted while clients submit in a loop, with keepers on their
// default backoff: every submission must be acknowledged exactly once and
// decided.
func TestRestartLosesNoSubmission(t *testing.T) {
	dir := initChain(t, 10)
	cfg := filepath.Join(dir, setup.ConfigFile)
	data := filepath.Join(dir, "data")
	coord, url := startCoordinator(t, "--config", cfg, "--data", data, "--listen", "127.0.0.1:0")
	addr := strings.TrimPrefix(url, "http://")

	keys, err := setup.ReadKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	kctx, stopKeepers := context.WithCancel(context.Background())
	var kwg sync.WaitGroup
	for _, k := range keys {
		kp := keeper.New(url, k, keeper.NewConfig().WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
		kwg.Add(1)
		go func() { defer kwg.Done(); kp.Run(kctx) }()
	}
	t.Cleanup(func() { stopKeepers(); kwg.Wait() })
	waitOnline(t, url, len(keys))

	item := allItems(t)[0]
	var retries atomic.Int64
	retried := map[string]int{}
	var mu sync.Mutex
	sub := workload.NewSubmitter(&http.Client{Transport: &http.Transport{}}, url)
	sub.OnRetry = func(op string, err error) {
		retries.Add(1)
		mu.Lock()
		retried[fmt.Sprintf("%s: %v", op, err)[:min(90, len(op)+2+len(err.Error()))]]++
		mu.Unlock()
	}
	type result struct {
		nonce, id string
		err       error
	}
	var (
		results []result
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	for c := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && i < 10000; i++ {
				nonce := fmt.Sprintf("loop-%d-%d", c, i)
				// Each submission gets the budget a CLI --timeout would.
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				r, err := sub.Submit(ctx, item, nonce)
				cancel()
				mu.Lock()
				results = append(results, result{nonce, r.GetId(), err})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	coord.kill()
	killed := time.Now()
	coord, _ = startCoordinator(t, "--config", cfg, "--data", data, "--listen", addr)
	restarted := time.Since(killed)
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()

	ids := map[string]string{}
	lost := 0
	for _, r := range results {
		if r.err != nil {
			lost++
			t.Errorf("submission %s lost: %v", r.nonce, r.err)
			continue
		}
		if prev, ok := ids[r.id]; ok {
			t.Errorf("submissions %s and %s got the same round %s", prev, r.nonce, r.id)
		}
		ids[r.id] = r.nonce
	}
	waitCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for id := range ids {
		r, err := sub.WaitDecided(waitCtx, id)
		if err != nil {
			t.Fatalf("acknowledged round %s: %v", id, err)
		}
		if r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED && r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_TIMEOUT {
			t.Errorf("round %s: outcome %v", id, r.GetOutcome())
		}
	}
	certs := certificatesByRound(t, url)
	for id := range ids {
		if certs[id] != 1 {
			t.Errorf("round %s has %d certificates, want 1", id, certs[id])
		}
	}
	t.Logf("coordinator back after %v; %d submissions, %d acknowledged and decided once, %d lost, %d retries: %v",
		restarted.Round(time.Millisecond), len(results), len(ids), lost, retries.Load(), retried)
	if len(results) < 20 {
		t.Fatalf("only %d submissions: the loop did not run across the restart", len(results))
	}
}
