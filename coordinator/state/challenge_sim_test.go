package state

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The simulations behind docs/challenges.md: proof challenges are valid or
// invalid with probability ½ each (coordinator/challenge hands them out in
// equal measure), so a keeper that does not verify is wrong on each one
// with probability ½ whatever fixed or random answer it gives, and is
// caught within n challenges except with probability 2⁻ⁿ.

// detectionBound is the number of challenges within which a lazy keeper
// is caught except with probability 2⁻²⁰ < 10⁻⁶ (docs/challenges.md).
const detectionBound = 20

type lazyStrategy func(rng *rand.Rand) lightkeeperv1.VoteKind

var lazyStrategies = map[string]lazyStrategy{
	"approve-all": func(*rand.Rand) lightkeeperv1.VoteKind { return approve },
	"reject-all":  func(*rand.Rand) lightkeeperv1.VoteKind { return reject },
	"random": func(rng *rand.Rand) lightkeeperv1.VoteKind {
		if rng.Intn(2) == 0 {
			return approve
		}
		return reject
	},
}

// challengeTx is a proof challenge with the given answer.
func challengeTx(vk, nonce string, answer lightkeeperv1.VoteKind, candidates bool) *lightkeeperv1.Transaction {
	tx := submitTx(proofRequest(vk, nonce))
	tx.GetSubmitRound().Challenge = &lightkeeperv1.ChallengeAnswer{Kind: answer, ResultHash: make([]byte, 32), Candidates: candidates}
	return tx
}

// TestChallengeDetectionBound runs, for each lazy strategy and 200 seeds,
// four keepers (three honest, one lazy; every committee holds all four)
// through challenges until the lazy one's challenge_failures counter moves,
// and checks that this always happens within detectionBound challenges.
// Seeds are fixed, so the test is deterministic; at 2⁻²⁰ per run, a bound
// that held by luck would show up as a failing seed, not as flakiness.
func TestChallengeDetectionBound(t *testing.T) {
	p := protocol.DefaultParams()
	p.TotalValidators, p.Threshold = 4, 3
	const lazy = 3
	for name, strategy := range lazyStrategies {
		t.Run(name, func(t *testing.T) {
			worst, hist := 0, map[int]int{}
			for seed := int64(1); seed <= 200; seed++ {
				rng := rand.New(rand.NewSource(seed))
				h := newHarness(t, 4, 100, p)
				n := 0
				for h.keeper(lazy).ChallengeFailures == 0 {
					if n == detectionBound {
						t.Fatalf("seed %d: lazy keeper not caught after %d challenges", seed, n)
					}
					n++
					answer := approve
					if rng.Intn(2) == 0 {
						answer = reject
					}
					h.nonce++
					res := h.ok(h.apply(time.Second, challengeTx(h.vk, fmt.Sprint("c", h.nonce), answer, false)))
					r := res.TxResults[0].Round
					var txs []*lightkeeperv1.Transaction
					for _, i := range h.seats(r) {
						kind := answer
						if i == lazy {
							kind = strategy(rng)
						}
						txs = append(txs, voteTx(r.Id, i, kind))
					}
					h.ok(h.apply(time.Second, txs...))
					h.apply(p.VerificationTimeout.AsDuration()) // close: reveal
					for i := 0; i < lazy; i++ {
						if k := h.keeper(i); k.ChallengeFailures != 0 || k.ChallengesPassed != uint64(n) {
							t.Fatalf("seed %d: honest keeper %d: passed %d failed %d after %d challenges", seed, i, k.ChallengesPassed, k.ChallengeFailures, n)
						}
					}
				}
				worst = max(worst, n)
				hist[n]++
			}
			// The geometric law says about half are caught at once; a
			// bound never reached past the first challenge would mean the
			// simulation did not exercise it.
			if worst < 2 {
				t.Fatalf("every lazy keeper was caught at the first challenge: the simulation is degenerate")
			}
			t.Logf("%s: caught within %d challenges in every seed (first-failure histogram %v)", name, worst, hist)
		})
	}
}

// TestLazyKeeperLosesSeat: six keepers, five seats; one elected keeper approves
// every challenge without verifying. Challenges alternate between the
// active set and the candidates (as the service's scheduler does), half of
// them invalid proofs. Over six epochs the lazy keeper loses reputation
// and bonded stake (each wrong answer is an incorrect vote) and drops out
// of the active set, while the honest keepers' measured capacity and stake
// limits grow from the tiny initial capacity.
func TestLazyKeeperLosesSeat(t *testing.T) {
	p := protocol.DefaultParams()
	p.TotalValidators, p.Threshold = 5, 4
	s := p.Staking
	s.MaxElected = 5
	s.InitialCapacity = 1
	s.StakePerUnit = 100
	s.EpochLength = durationpb.New(20 * time.Minute)
	s.MinSelfBond = 500
	const n = 6
	h := newHarness(t, n, 1000, p)
	lazy := -1 // an elected keeper (the genesis election breaks the tie of equal stakes)
	for i := range n {
		if h.keeper(i).Active {
			lazy = i
		}
	}
	rng := rand.New(rand.NewSource(7))

	before := make([]*lightkeeperv1.Keeper, n)
	for i := range n {
		before[i] = h.keeper(i)
	}
	wasActive := false
	epochs := 0
	for step := 0; epochs < 6; step++ {
		answer := approve
		if rng.Intn(2) == 0 {
			answer = reject
		}
		h.nonce++
		candidates := step%2 == 1 && h.m.HasCandidates()
		res := h.apply(time.Second, challengeTx(h.vk, fmt.Sprint("c", h.nonce), answer, candidates))
		if err := res.TxResults[0].Err; err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		r := res.TxResults[0].Round
		var txs []*lightkeeperv1.Transaction
		for _, i := range h.seats(r) {
			kind := answer
			if i == lazy {
				kind = approve
				wasActive = wasActive || !candidates
			}
			txs = append(txs, voteTx(r.Id, i, kind))
		}
		h.ok(h.apply(time.Second, txs...))
		res = h.apply(p.VerificationTimeout.AsDuration())
		epochs += len(res.Epochs)
	}
	if !wasActive {
		t.Fatal("the lazy keeper never sat on an active-set committee: nothing was tested")
	}
	l := h.keeper(lazy)
	t.Logf("lazy: rep %d→%d stake %d→%d capacity %d→%d limit %d→%d active=%v failures=%d passed=%d",
		before[lazy].Reputation, l.Reputation, before[lazy].Stake, l.Stake, before[lazy].CapacityMilli, l.CapacityMilli,
		before[lazy].StakeLimit, l.StakeLimit, l.Active, l.ChallengeFailures, l.ChallengesPassed)
	if l.ChallengeFailures == 0 || l.Reputation >= before[lazy].Reputation || l.Stake >= before[lazy].Stake {
		t.Errorf("lazy keeper kept its standing: failures %d, reputation %d (was %d), stake %d (was %d)",
			l.ChallengeFailures, l.Reputation, before[lazy].Reputation, l.Stake, before[lazy].Stake)
	}
	if l.Active {
		t.Errorf("lazy keeper is still in the active set")
	}
	for i := range n {
		if i == lazy {
			continue
		}
		k := h.keeper(i)
		t.Logf("honest %d: rep %d capacity %d→%d limit %d→%d active=%v passed=%d", i, k.Reputation,
			before[i].CapacityMilli, k.CapacityMilli, before[i].StakeLimit, k.StakeLimit, k.Active, k.ChallengesPassed)
		if k.ChallengeFailures != 0 {
			t.Errorf("honest keeper %d failed %d challenges", i, k.ChallengeFailures)
		}
		if k.CapacityMilli <= before[i].CapacityMilli || k.StakeLimit <= before[i].StakeLimit {
			t.Errorf("honest keeper %d: capacity %d→%d, stake limit %d→%d: want both to grow", i,
				before[i].CapacityMilli, k.CapacityMilli, before[i].StakeLimit, k.StakeLimit)
		}
		if !k.Active {
			t.Errorf("honest keeper %d is not in the active set", i)
		}
	}
}
