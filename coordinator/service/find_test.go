package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
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

// TestFindRoundsByProofHash: rounds are found by the SHA-256 of their
// proof, newest first, within page_size, and again after a restart (the
// index is rebuilt from the store); malformed hashes and page sizes are
// refused naming the field, an unknown hash finds nothing.
func TestFindRoundsByProofHash(t *testing.T) {
	cfg := testConfig()
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
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	item := validItem(t)
	other := validItem(t) // a fresh proof of the same statement: other bytes
	var same []string     // submission order
	for _, nonce := range []string{"a", "b", "c"} {
		r, err := sub.Submit(ctx, item, nonce)
		if err != nil {
			t.Fatal(err)
		}
		same = append(same, r.GetId())
	}
	r, err := sub.Submit(ctx, other, "d")
	if err != nil {
		t.Fatal(err)
	}
	otherID := r.GetId()
	hashOf := func(p []byte) string { h := sha256.Sum256(p); return hex.EncodeToString(h[:]) }

	check := func(rc lightkeeperv1connect.RoundServiceClient) {
		t.Helper()
		res, err := rc.FindRounds(ctx, connect.NewRequest(&lightkeeperv1.FindRoundsRequest{ProofHash: hashOf(item.Proof)}))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range res.Msg.GetRounds() {
			got = append(got, s.GetId())
			if s.GetKind() != lightkeeperv1.RoundKind_ROUND_KIND_PROOF || s.GetVerifyingKeyId() == "" {
				t.Errorf("summary %s: kind %v, verifying key %q", s.GetId(), s.GetKind(), s.GetVerifyingKeyId())
			}
		}
		// SubmitRound answers once the round's block is durable, so
		// the three are in successive blocks: newest first is c, b, a.
		want := slices.Clone(same)
		slices.Reverse(want)
		if !slices.Equal(got, want) || res.Msg.GetTotal() != 3 {
			t.Fatalf("FindRounds: got %v (total %d), want %v (total 3)", got, res.Msg.GetTotal(), want)
		}
		page, err := rc.FindRounds(ctx, connect.NewRequest(&lightkeeperv1.FindRoundsRequest{ProofHash: hashOf(item.Proof), PageSize: 2}))
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Msg.GetRounds()) != 2 || page.Msg.GetTotal() != 3 || page.Msg.GetRounds()[0].GetId() != got[0] {
			t.Fatalf("page_size 2: %d rounds, total %d", len(page.Msg.GetRounds()), page.Msg.GetTotal())
		}
		res, err = rc.FindRounds(ctx, connect.NewRequest(&lightkeeperv1.FindRoundsRequest{ProofHash: hashOf(other.Proof)}))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Msg.GetRounds()) != 1 || res.Msg.GetRounds()[0].GetId() != otherID {
			t.Fatalf("other proof: %v, want [%s]", res.Msg.GetRounds(), otherID)
		}
		res, err = rc.FindRounds(ctx, connect.NewRequest(&lightkeeperv1.FindRoundsRequest{ProofHash: strings.Repeat("0", 64)}))
		if err != nil || len(res.Msg.GetRounds()) != 0 || res.Msg.GetTotal() != 0 {
			t.Fatalf("unknown hash: %v, %v", res, err)
		}
		for _, bad := range []struct {
			req  *lightkeeperv1.FindRoundsRequest
			want string
		}{
			{&lightkeeperv1.FindRoundsRequest{ProofHash: "abc"}, "proof_hash: want 64 lowercase hex digits, got 3 characters"},
			{&lightkeeperv1.FindRoundsRequest{ProofHash: strings.ToUpper(hashOf(item.Proof))}, "proof_hash: want 64 lowercase hex digits"},
			{&lightkeeperv1.FindRoundsRequest{ProofHash: hashOf(item.Proof), PageSize: 101}, "page_size: 101 is over the limit of 100"},
		} {
			_, err := rc.FindRounds(ctx, connect.NewRequest(bad.req))
			if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("%v: got %v, want InvalidArgument %q", bad.req, err, bad.want)
			}
		}
	}
	check(lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL))
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = start()
	defer d.Close()
	check(lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL))
}
