package state

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// BenchmarkApplyVotes measures the vote path: blocks of N signed votes (10
// per round: 7 that decide it, 3 late) on a 10-keeper network. Opening the
// rounds and signing the votes are not timed. Reports ns/vote; signature
// verification (ed25519) dominates.
func BenchmarkApplyVotes(b *testing.B) {
	for _, perBlock := range []int{100, 1000} {
		b.Run(fmt.Sprintf("votes=%d", perBlock), func(b *testing.B) {
			h := newHarness(b, 10, 100, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var subs []*lightkeeperv1.Transaction
				for range perBlock / 10 {
					h.nonce++
					subs = append(subs, submitTx(proofRequest(h.vk, fmt.Sprint("b", h.nonce))))
				}
				res := h.ok(h.apply(31*time.Second, subs...)) // also closes the previous rounds
				var txs []*lightkeeperv1.Transaction
				for _, tr := range res.TxResults {
					txs = append(txs, votes(tr.Round, h, approve, seatRange(0, 10)...)...)
				}
				in := BlockInput{TimeUnixMilli: h.now() + 1000, Txs: txs}
				b.StartTimer()
				res, err := h.m.ApplyBlock(in)
				if err != nil || len(res.Block.Certificates) != perBlock/10 {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/vote")
		})
	}
}

// BenchmarkVerifyVoteBaseline is the signature check alone, for comparison
// with BenchmarkApplyVotes' ns/vote.
func BenchmarkVerifyVoteBaseline(b *testing.B) {
	rid, _ := protocol.ParseID(protocol.RoundID(testChain, proofRequest(vkID(fakeVK), "b")))
	key := keeperKey(0)
	sig := protocol.SignVote(key, testChain, rid, protocol.VoteApprove, [32]byte{})
	pub := key.Public().(ed25519.PublicKey)
	for b.Loop() {
		if !protocol.VerifyVote(testChain, rid, pub, protocol.VoteApprove, [32]byte{}, sig) {
			b.Fatal("bad signature")
		}
	}
}
