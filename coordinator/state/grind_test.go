package state

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// Finding 8 of issue #9: a submitter used to choose its committee by trying
// client nonces against the head's hash offline. These tests grind nonces
// the way an attacker would and measure how often the committee the
// machine actually draws seats ≥ 7 of 10 colluders (9 of 30 keepers, 30 %).

const (
	grindKeepers   = 30
	grindColluders = 9
	grindSize      = 10
	grindNeed      = 7
)

func colluderSeats(committee []string, colluder map[string]bool) int {
	n := 0
	for _, id := range committee {
		if colluder[id] {
			n++
		}
	}
	return n
}

// honestRate is the fraction of committees with ≥ grindNeed colluders over
// draws with independent seeds: what a submitter gets without grinding.
func honestRate(t *testing.T, el []*lightkeeperv1.WeightedKeeper, colluder map[string]bool, draws int) (rate, meanSeats float64) {
	hits, seats := 0, 0
	for i := 0; i < draws; i++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		seed := sha256.Sum256(b[:])
		c, err := protocol.DrawCommittee(seed[:], protocol.RoundID(testChain, proofRequest(vkID(fakeVK), fmt.Sprint("honest-", i))), el, grindSize)
		if err != nil {
			t.Fatal(err)
		}
		s := colluderSeats(c, colluder)
		seats += s
		if s >= grindNeed {
			hits++
		}
	}
	return float64(hits) / float64(draws), float64(seats) / float64(draws)
}

// grindNonce tries client nonces until predict says the committee seats
// ≥ grindNeed colluders.
func grindNonce(t *testing.T, h *harness, tag string, predict func(req *lightkeeperv1.RoundRequest) []string, colluder map[string]bool) *lightkeeperv1.RoundRequest {
	for i := 0; i < 1_000_000; i++ {
		req := proofRequest(h.vk, fmt.Sprintf("%s-%d", tag, i))
		if colluderSeats(predict(req), colluder) >= grindNeed {
			return req
		}
	}
	t.Fatal("grinding found no nonce")
	return nil
}

type grindOutcome struct {
	hits, oldRuleHits, seats int
}

// runGrind grinds `rounds` nonces (each against the state right before its
// block) and submits each alone in the next block, as the attacker would.
func runGrind(t *testing.T, h *harness, colluder map[string]bool, rounds int, tag string,
	predict func(h *harness, req *lightkeeperv1.RoundRequest) []string,
	block func(h *harness, tx *lightkeeperv1.Transaction) *Result) grindOutcome {
	var out grindOutcome
	for i := 0; i < rounds; i++ {
		req := grindNonce(t, h, fmt.Sprint(tag, i), func(req *lightkeeperv1.RoundRequest) []string { return predict(h, req) }, colluder)
		_, prev := h.m.Head()
		r := h.ok(block(h, submitTx(req))).TxResults[0].Round
		s := colluderSeats(r.Committee, colluder)
		out.seats += s
		if s >= grindNeed {
			out.hits++
		}
		// The rule before the fix: the previous block's hash.
		old, err := protocol.DrawCommittee(prev, r.Id, eligibleOf(r.EligibleHash), grindSize)
		if err != nil {
			t.Fatal(err)
		}
		if colluderSeats(old, colluder) >= grindNeed {
			out.oldRuleHits++
		}
	}
	return out
}

func grindSetup(t *testing.T) (*harness, map[string]bool, []*lightkeeperv1.WeightedKeeper) {
	h := newHarness(t, grindKeepers, 1_000_000, nil)
	colluder := map[string]bool{}
	for i := 0; i < grindColluders; i++ {
		colluder[keeperID(i)] = true
	}
	return h, colluder, protocol.Weights(h.m.eligible(), h.m.params)
}

// checkNoGain asserts the ground nonces did as well as honest draws, within
// 4 standard deviations (the binomial hit count and the mean seat count).
func checkNoGain(t *testing.T, name string, got grindOutcome, rounds int, p, meanSeats float64) {
	t.Helper()
	m := float64(rounds)
	hitBound := m*p + 4*math.Sqrt(m*p*(1-p)) + 1
	// Hypergeometric variance of the colluders' seats.
	N, K, n := float64(grindKeepers), float64(grindColluders), float64(grindSize)
	seatSD := math.Sqrt(n * K / N * (N - K) / N * (N - n) / (N - 1))
	mean := float64(got.seats) / m
	t.Logf("%s: %d of %d ground nonces got >= %d colluder seats (%.2f%%; honest rate %.3f%%, bound %.1f hits); mean colluder seats %.2f (honest %.2f); the old rule would have given %d of %d",
		name, got.hits, rounds, grindNeed, 100*float64(got.hits)/m, 100*p, hitBound, mean, meanSeats, got.oldRuleHits, rounds)
	if float64(got.hits) > hitBound {
		t.Errorf("%s: %d hits of %d, more than honest draws allow (%.1f)", name, got.hits, rounds, hitBound)
	}
	if math.Abs(mean-meanSeats) > 4*seatSD/math.Sqrt(m)+0.05 {
		t.Errorf("%s: mean colluder seats %.2f, honest %.2f", name, mean, meanSeats)
	}
}

func grindRounds() int {
	if testing.Short() {
		return 40
	}
	return 150
}

// A submitter grinding nonces against the head gains nothing: the seed is
// fixed by the block that includes the submission.
func TestGrindAgainstHeadGainsNothing(t *testing.T) {
	h, colluder, el := grindSetup(t)
	p, meanSeats := honestRate(t, el, colluder, 20_000)
	rounds := grindRounds()
	got := runGrind(t, h, colluder, rounds, "head",
		func(h *harness, req *lightkeeperv1.RoundRequest) []string {
			_, head := h.m.Head()
			c, _ := protocol.DrawCommittee(head, protocol.RoundID(testChain, req), el, grindSize)
			return c
		},
		func(h *harness, tx *lightkeeperv1.Transaction) *Result { return h.apply(0, tx) })
	if got.oldRuleHits != rounds {
		t.Errorf("against the old rule %d of %d ground nonces hit, want all", got.oldRuleHits, rounds)
	}
	checkNoGain(t, "grinding against the head", got, rounds, p, meanSeats)
}

// predictSeed is the committee a submitter alone in the next block, at the
// head's time, would get if the block carried no entropy: everything else
// in the seed is public or its own.
func predictSeed(h *harness, req *lightkeeperv1.RoundRequest, el []*lightkeeperv1.WeightedKeeper) []string {
	head, hash := h.m.Head()
	txHash, _ := protocol.TransactionsHash([]*lightkeeperv1.Transaction{submitTx(req)})
	seed := protocol.CommitteeSeed(&lightkeeperv1.BlockHeader{Height: head.Height + 1, Time: head.Time, PreviousHash: hash, TransactionsHash: txHash})
	c, _ := protocol.DrawCommittee(seed, protocol.RoundID(testChain, req), el, grindSize)
	return c
}

func entropyBlock(h *harness, tx *lightkeeperv1.Transaction) *Result {
	h.t.Helper()
	hd, _ := h.m.Head()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], hd.Height)
	e := sha256.Sum256(append([]byte("producer entropy"), b[:]...)) // stands in for crypto/rand
	res, err := noted(h.m.ApplyBlock(BlockInput{TimeUnixMilli: h.now(), Txs: []*lightkeeperv1.Transaction{tx}, Entropy: e[:]}))
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

// A submitter that predicts the whole including block (it is alone in it,
// and knows the time) still gains nothing once the producer adds entropy;
// without entropy it would choose its committee again. This is why the
// service always supplies entropy (RATIONALE.md).
func TestGrindAgainstPredictedBlock(t *testing.T) {
	h, colluder, el := grindSetup(t)
	p, meanSeats := honestRate(t, el, colluder, 20_000)
	rounds := grindRounds()
	predict := func(h *harness, req *lightkeeperv1.RoundRequest) []string { return predictSeed(h, req, el) }
	got := runGrind(t, h, colluder, rounds, "predicted", predict, entropyBlock)
	checkNoGain(t, "grinding against the predicted block, producer entropy", got, rounds, p, meanSeats)

	got = runGrind(t, h, colluder, rounds, "no-entropy", predict,
		func(h *harness, tx *lightkeeperv1.Transaction) *Result { return h.apply(0, tx) })
	t.Logf("without producer entropy: %d of %d ground nonces hit", got.hits, rounds)
	if got.hits != rounds {
		t.Errorf("without entropy a submitter alone in a predictable block chooses its committee: want %d hits, got %d (is the seed still the documented one?)", rounds, got.hits)
	}
}
