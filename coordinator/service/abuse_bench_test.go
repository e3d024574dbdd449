package service_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/cputime"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// BenchmarkJunkVotes measures what a flood of votes that cannot count
// costs the coordinator (process CPU, client included, per vote; and the
// votes written into blocks), through the real API on loopback with
// Pebble: batches of 100 votes on an open round from a key outside its
// committee ("outsider"), or with a member's id and a bad signature
// ("forged"), each batch from a new loopback address; and "one-address",
// every batch from one address, which limits.bad_vote_rate cuts off.
func BenchmarkJunkVotes(b *testing.B) {
	cfg := testConfig()
	cfg.Params.VerificationTimeout = durationpb.New(3600 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	silent := make([]byzantine.Strategy, 10)
	for i := range silent {
		silent[i] = byzantine.Silent
	}
	d, err := devnet.Start(ctx, devnet.Options{Keepers: 10, Byzantine: silent, Config: &cfg.Config, Params: cfg.Params})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if err := d.WaitOnline(ctx, 10, 30*time.Second); err != nil {
		b.Fatal(err)
	}
	fx, err := proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	if err != nil {
		b.Fatal(err)
	}
	p, err := fx.Prove(3)
	if err != nil {
		b.Fatal(err)
	}
	round, err := workload.NewSubmitter(http.DefaultClient, d.URL).Submit(ctx, workload.Item{Scheme: fx.Scheme, Curve: fx.Curve, VK: fx.VerifyingKey,
		Proof: p.Proof, Public: p.PublicInputs, Want: workload.Approved}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	chainID := d.Genesis.GetChainId()
	rid, _ := hex.DecodeString(round.GetId())
	_, outsider, _ := ed25519.GenerateKey(nil)
	vote := func(key ed25519.PrivateKey, id string, forge bool) *lightkeeperv1.Vote {
		var zero [32]byte
		v := &lightkeeperv1.Vote{RoundId: round.GetId(), KeeperId: id, Kind: lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, ResultHash: zero[:],
			Signature: protocol.SignVote(key, chainID, [32]byte(rid), protocol.VoteApprove, zero)}
		if forge {
			v.Signature[0] ^= 1
		}
		return v
	}
	var member ed25519.PrivateKey
	for _, k := range d.Keys {
		if setup.KeyID(k) == round.GetCommittee()[0] {
			member = k
		}
	}
	batches := map[string][]*lightkeeperv1.Vote{}
	for range 100 {
		batches["outsider"] = append(batches["outsider"], vote(outsider, setup.KeyID(outsider), false))
		batches["forged"] = append(batches["forged"], vote(member, setup.KeyID(member), true))
	}
	batches["one-address"] = batches["outsider"]
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, d.URL)
	head := func() uint64 {
		info, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
		if err != nil {
			b.Fatal(err)
		}
		return info.Msg.GetHeadHeight()
	}
	inBlocks := func(from, to uint64) (n int) {
		for h := from + 1; h <= to; h++ {
			blk, err := lc.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: h}))
			if err != nil {
				b.Fatal(err)
			}
			for _, tx := range blk.Msg.GetBlock().GetTransactions() {
				if tx.GetCastVote() != nil {
					n++
				}
			}
		}
		return n
	}
	addrs := 0
	for _, name := range []string{"outsider", "forged", "one-address"} {
		b.Run(name, func(b *testing.B) {
			batch := batches[name]
			fixed := lightkeeperv1connect.NewKeeperServiceClient(clientAt("127.0.9.9"), d.URL)
			from, cpu0, refused := head(), cputime.Process(), 0
			for b.Loop() {
				kc := fixed
				if name != "one-address" {
					addrs++ // a new address: no budget spent yet
					kc = lightkeeperv1connect.NewKeeperServiceClient(clientAt(fmt.Sprintf("127.%d.%d.%d", 1+addrs/62500, addrs/250%250, 1+addrs%250)), d.URL)
				}
				if _, err := kc.SubmitVotes(ctx, connect.NewRequest(&lightkeeperv1.SubmitVotesRequest{Votes: batch})); err != nil {
					if connect.CodeOf(err) != connect.CodeResourceExhausted {
						b.Fatal(err)
					}
					refused++
				}
			}
			cpu := cputime.Process() - cpu0
			time.Sleep(200 * time.Millisecond) // the last block
			votes := b.N * len(batch)
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(votes), "cpu-ns/vote")
			b.ReportMetric(float64(inBlocks(from, head()))/float64(votes), "in-blocks/vote")
			b.ReportMetric(float64(refused)/float64(b.N), "refused/call")
		})
	}
}

// clientAt is an HTTP client whose connections come from ip.
func clientAt(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}
