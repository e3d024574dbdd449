package state

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/proto"
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
				in := voteBlock(h, perBlock)
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

// voteBlock opens perBlock/10 rounds (closing the previous ones) and
// returns the block of every committee member's approval, unapplied.
func voteBlock(h *harness, perBlock int) BlockInput {
	var subs []*lightkeeperv1.Transaction
	for range perBlock / 10 {
		h.nonce++
		subs = append(subs, submitTx(proofRequest(h.vk, fmt.Sprint("b", h.nonce))))
	}
	res := h.ok(h.apply(31*time.Second, subs...))
	var txs []*lightkeeperv1.Transaction
	for _, tr := range res.TxResults {
		txs = append(txs, votes(tr.Round, h, approve, seatRange(0, 10)...)...)
	}
	return BlockInput{TimeUnixMilli: h.now() + 1000, Txs: txs}
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

// BenchmarkRoundsAtScale measures the state machine's own cost per round
// at steady state: every block opens 100 rounds, decides the 100 opened
// by the block before (7 approvals each) and closes the 100 whose deadline
// passed, with `keepers` keepers all elected and eligible and about `open`
// rounds open (the block interval is the timeout divided by open/100).
// Signing the votes is not timed; checking their signatures is (7 per
// round), the same in every case. Reports ns/round; issue #12 wants
// open=10000 as fast per round as open=500, and keepers=1000 within 2× of
// keepers=10. stored-B/round is the protobuf size of the records the
// block's change set puts (what the store writes), per round, not timed.
func BenchmarkRoundsAtScale(b *testing.B) {
	const perBlock = 100
	for _, keepers := range []int{10, 1000} {
		for _, open := range []int{500, 10_000} {
			b.Run(fmt.Sprintf("keepers=%d/open=%d", keepers, open), func(b *testing.B) {
				p := protocol.DefaultParams()
				p.Staking.MaxElected = uint32(max(keepers, int(p.Staking.MaxElected)))
				h := newHarness(b, keepers, 100, p)
				window := open / perBlock
				interval := time.Duration(p.VerificationTimeout.AsDuration().Milliseconds()/int64(window)) * time.Millisecond
				var last []*lightkeeperv1.Round
				block := func() BlockInput {
					var txs []*lightkeeperv1.Transaction
					for _, r := range last {
						txs = append(txs, votes(r, h, approve, seatRange(0, int(r.Threshold))...)...)
					}
					for range perBlock {
						h.nonce++
						txs = append(txs, submitTx(proofRequest(h.vk, fmt.Sprint("s", h.nonce))))
					}
					return BlockInput{TimeUnixMilli: h.now() + interval.Milliseconds(), Txs: txs}
				}
				step := func(in BlockInput) *Result {
					res, err := h.m.ApplyBlock(in)
					if err != nil {
						b.Fatal(err)
					}
					last = last[:0]
					for _, tr := range res.TxResults {
						if tr.Err != nil {
							b.Fatal(tr.Err)
						}
						if tr.Round != nil {
							last = append(last, tr.Round)
						}
					}
					return res
				}
				for range window + 1 {
					step(block())
				}
				if n := h.m.OpenRoundCount(); n < open {
					b.Fatalf("%d rounds open, want at least %d", n, open)
				}
				b.ReportAllocs()
				b.ResetTimer()
				stored := 0
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					in := block()
					b.StartTimer()
					res := step(in)
					b.StopTimer()
					for _, c := range res.Changes {
						stored += proto.Size(c.Record)
					}
					b.StartTimer()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/round")
				b.ReportMetric(float64(stored)/float64(b.N*perBlock), "stored-B/round")
			})
		}
	}
}
