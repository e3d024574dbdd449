package service_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// bigProof returns a max-size Groth16 BN254 proof that submission accepts
// but keepers reject: three compressed points, then a commitment count
// larger than the bytes left, then random filler (it must not compress)
// up to size bytes. Its size is a client's choice, which is what a
// listing must not depend on.
func bigProof(size int, salt int) []byte {
	p := make([]byte, size)
	rand.NewChaCha8([32]byte{byte(salt), byte(salt >> 8), byte(salt >> 16)}).Read(p)
	p[0], p[32], p[96] = 0x80, 0x80, 0x80 // compressed points: 32+64+32 bytes
	binary.BigEndian.PutUint32(p[128:], 0xffffffff)
	return p
}

// fillRounds submits n rounds carrying proofs of proofBytes bytes, from
// a few goroutines, and returns their ids.
func fillRounds(t *testing.T, url string, n, proofBytes int) map[string]bool {
	return fillRoundsFrom(t, url, n, proofBytes, 8)
}

// fillRoundsFrom is fillRounds from the given number of goroutines.
func fillRoundsFrom(t *testing.T, url string, n, proofBytes, workers int) map[string]bool {
	t.Helper()
	sub := workload.NewSubmitter(http.DefaultClient, url)
	it := validItem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var (
		mu   sync.Mutex
		ids  = map[string]bool{}
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= n && ctx.Err() == nil; i = int(next.Add(1)) {
				item := it
				item.Proof = bigProof(proofBytes, i)
				r, err := sub.Submit(ctx, item, fmt.Sprint("fill-", i))
				if err != nil {
					errs <- err
					cancel()
					return
				}
				mu.Lock()
				ids[r.GetId()] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	return ids
}

// Issue #9, finding 3: rounds whose requests are as large as the limits
// allow used to make ListRounds fail for everyone ("message size …
// exceeds sendMaxBytes"). Listings are summaries and the documented
// largest page works.
func TestListRoundsMaxPageOfMaxSizeRounds(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a coordinator with 1000 rounds")
	}
	cfg := testConfig()
	cfg.Limits.SubmitBurst = 2000
	cfg.Limits.SubmitRate = 2000
	cfg.Params.VerificationTimeout = durationpb.New(600 * time.Second) // stay open: nothing votes
	d := startDevnet(t, cfg, 10, 0)
	const maxPage = 1000
	// 200 at once: group commit puts many of them in each block.
	ids := fillRoundsFrom(t, d.URL, maxPage, int(cfg.Params.SizeLimits.MaxProofBytes), 200)

	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	ctx := context.Background()
	res, err := rc.ListRounds(ctx, connect.NewRequest(&lightkeeperv1.ListRoundsRequest{}))
	if err != nil {
		t.Fatalf("ListRounds {} over %d max-size rounds: %v", len(ids), err)
	}
	if got := len(res.Msg.GetRounds()); got != 100 {
		t.Fatalf("default page: %d rounds, want 100", got)
	}
	res, err = rc.ListRounds(ctx, connect.NewRequest(&lightkeeperv1.ListRoundsRequest{PageSize: maxPage}))
	if err != nil {
		t.Fatalf("ListRounds page_size %d: %v", maxPage, err)
	}
	seen := map[string]bool{}
	for _, r := range res.Msg.GetRounds() {
		if !ids[r.GetId()] || seen[r.GetId()] {
			t.Fatalf("round %s listed unexpectedly or twice", r.GetId())
		}
		seen[r.GetId()] = true
	}
	if len(seen) != maxPage || res.Msg.GetNextPageToken() != "" {
		t.Fatalf("max page: %d rounds, next %q; want all %d in one page", len(seen), res.Msg.GetNextPageToken(), maxPage)
	}
	// The JSON encoding is larger; the page must fit there too.
	body, err := postJSON(d.URL+"/lightkeeper.v1.RoundService/ListRounds", fmt.Sprintf(`{"pageSize":%d}`, maxPage))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Rounds []struct {
			ID string `json:"id"`
		} `json:"rounds"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Rounds) != maxPage {
		t.Fatalf("JSON max page: %d rounds, %v (%d bytes)", len(page.Rounds), err, len(body))
	}
	t.Logf("max page of %d max-size rounds: %d bytes as JSON", maxPage, len(body))

	// Blocks hold the requests themselves: they are bounded in bytes too,
	// so every block can still be read (verify-cert reads them).
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	info, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for h := uint64(1); h <= info.Msg.GetHeadHeight(); h++ {
		b, err := lc.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: h}))
		if err != nil {
			t.Fatalf("GetBlock %d: %v", h, err)
		}
		most = max(most, len(b.Msg.GetBlock().GetTransactions()))
	}
	t.Logf("%d blocks, at most %d transactions in one", info.Msg.GetHeadHeight(), most)
}

// A small send limit gives shorter pages, never an error: the page stops
// at the byte budget and next_page_token continues exactly after it.
func TestListRoundsByteBudget(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxRequestBytes = 32 << 10 // a byte budget of 8 KiB
	cfg.Params.SizeLimits.MaxProofBytes = 16 << 10
	cfg.Params.SizeLimits.MaxPublicInputBytes = 1 << 10
	cfg.Params.SizeLimits.MaxVerifyingKeyBytes = 16 << 10
	cfg.Params.VerificationTimeout = durationpb.New(600 * time.Second)
	d := startDevnet(t, cfg, 10, 0)
	const n = 120
	ids := fillRounds(t, d.URL, n, int(cfg.Params.SizeLimits.MaxProofBytes))
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	seen, token, pages := map[string]bool{}, "", 0
	for pages = 1; pages <= n; pages++ {
		res, err := rc.ListRounds(context.Background(), connect.NewRequest(&lightkeeperv1.ListRoundsRequest{PageSize: 1000, PageToken: token}))
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		for _, r := range res.Msg.GetRounds() {
			if !ids[r.GetId()] || seen[r.GetId()] {
				t.Fatalf("page %d: round %s listed unexpectedly or twice", pages, r.GetId())
			}
			seen[r.GetId()] = true
		}
		if token = res.Msg.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(seen) != n || pages < 2 {
		t.Fatalf("%d pages listed %d of %d rounds; want every round, over more than one page", pages, len(seen), n)
	}
	t.Logf("%d rounds in %d pages under an 8 KiB budget", n, pages)
}

// Proofs with bytes after their encoding are refused at submission: the
// committee would reject them anyway (verifier.CheckProofEncoding).
func TestSubmitRefusesTrailingProofBytes(t *testing.T) {
	d := startDevnet(t, testConfig(), 10, 0)
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	it := validItem(t)
	if err := verifier.CheckProofEncoding(it.Scheme, it.Curve, it.Proof); err != nil {
		t.Fatalf("valid proof: %v", err)
	}
	it.Proof = append(bytes.Clone(it.Proof), make([]byte, 1000)...)
	_, err := sub.Submit(context.Background(), it, "padded")
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "trailing bytes") {
		t.Fatalf("padded proof: %v, want InvalidArgument naming trailing bytes", err)
	}
}

func postJSON(url, body string) ([]byte, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("%s: %s", resp.Status, b)
	}
	return b, nil
}

// ListKeepers pages by count and by bytes; following next_page_token
// lists every keeper exactly once, in id order.
func TestListKeepersPages(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxRequestBytes = 8 << 10 // a 2 KiB budget: a few keepers a page
	cfg.Params.SizeLimits.MaxProofBytes, cfg.Params.SizeLimits.MaxPublicInputBytes, cfg.Params.SizeLimits.MaxVerifyingKeyBytes = 4<<10, 1<<10, 4<<10
	d := startDevnet(t, cfg, 10, 20)
	kc := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	for _, size := range []uint32{0, 3} {
		var ids []string
		token, pages := "", 0
		for pages = 1; pages <= 100; pages++ {
			res, err := kc.ListKeepers(context.Background(), connect.NewRequest(&lightkeeperv1.ListKeepersRequest{PageSize: size, PageToken: token}))
			if err != nil {
				t.Fatalf("page size %d, page %d: %v", size, pages, err)
			}
			if size > 0 && len(res.Msg.GetKeepers()) > int(size) {
				t.Fatalf("page size %d: %d keepers", size, len(res.Msg.GetKeepers()))
			}
			for _, k := range res.Msg.GetKeepers() {
				ids = append(ids, k.GetId())
			}
			if token = res.Msg.GetNextPageToken(); token == "" {
				break
			}
		}
		if len(ids) != 30 || pages < 2 || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != 30 {
			t.Fatalf("page size %d: %d keepers over %d pages, want each of 30 once, sorted, over several pages", size, len(ids), pages)
		}
	}
}
