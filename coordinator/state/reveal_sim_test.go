package state

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"math/rand"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestSealedRevealProperties drives a chain with params.challenges
// through random blocks of sealed client rounds and challenges, votes
// (right, lazy, abstaining, missing), honest and corrupt reveals at random
// times, and checks after every block:
//
//   - a round is revealed at most once over the whole run, and only a
//     round sealed with a real commitment is ever revealed;
//   - an accepted reveal is of a closed round, within reveal_window of its
//     close, and no challenger has more than max_reveals_per_hour accepted
//     in one hour;
//   - every ChallengeRevealed event and Block.challenges entry comes
//     from an accepted reveal;
//   - the machine restored from its snapshot continues identically (same
//     block hashes), so the pending reveals and quotas are all of its
//     sealed state.
func TestSealedRevealProperties(t *testing.T) {
	for seed := int64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { sealedSim(t, seed) })
	}
}

func sealedSim(t *testing.T, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	keys := []ed25519.PrivateKey{challengerKey(0), challengerKey(1)}
	p := protocol.DefaultParams()
	p.TotalValidators, p.Threshold = 4, 3
	p.VerificationTimeout = durationpb.New(10 * time.Second)
	p.Challenges = protocol.DefaultChallengeRules([][]byte{keys[0].Public().(ed25519.PublicKey), keys[1].Public().(ed25519.PublicKey)})
	p.Challenges.RevealWindow = durationpb.New(20 * time.Second)
	p.Challenges.MaxRevealsPerHour = 3
	h := newHarness(t, 6, 1000, p)
	window := int64(20_000)

	type sealedInfo struct {
		answer *lightkeeperv1.ChallengeAnswer // nil: a client round
		salt   []byte
		key    int
	}
	sealedBy := map[string]sealedInfo{}
	closedAt := map[string]int64{}
	revealed := map[string]bool{}
	perHour := map[string]int{} // challenger|hour → accepted
	var open []*lightkeeperv1.Round

	for block := 0; block < 150; block++ {
		var txs []*lightkeeperv1.Transaction
		// New rounds.
		for range rng.Intn(3) {
			h.nonce++
			req := proofRequest(h.vk, fmt.Sprint("s", seed, "-", h.nonce))
			ki := rng.Intn(2)
			salt := make([]byte, protocol.SaltLen)
			rng.Read(salt)
			info := sealedInfo{salt: salt, key: ki}
			commitment := make([]byte, protocol.CommitmentLen)
			if rng.Intn(2) == 0 {
				info.answer = &lightkeeperv1.ChallengeAnswer{Kind: []lightkeeperv1.VoteKind{approve, reject}[rng.Intn(2)], ResultHash: make([]byte, 32)}
				c, _ := protocol.ChallengeCommitment(info.answer, salt)
				commitment = c[:]
			} else {
				rng.Read(commitment)
			}
			tx := submitTx(req)
			tx.GetSubmitRound().Seal = protocol.SignSeal(keys[ki], testChain, req, commitment, false)
			sealedBy[protocol.RoundID(testChain, req)] = info
			txs = append(txs, tx)
		}
		// Votes on open rounds: each member votes the round's "truth"
		// (approve), lazily the other way, abstains, or stays silent.
		for _, r := range open {
			for _, i := range h.seats(r) {
				switch rng.Intn(5) {
				case 0, 1:
					txs = append(txs, voteTx(r.Id, i, approve))
				case 2:
					txs = append(txs, voteTx(r.Id, i, reject))
				case 3:
					txs = append(txs, voteTx(r.Id, i, abstain))
				}
			}
		}
		open = nil
		// Reveals: honest, with a wrong salt, a wrong answer, repeated, or of
		// a client round.
		for id, info := range sealedBy {
			if rng.Intn(6) != 0 {
				continue
			}
			ans, salt := info.answer, info.salt
			if ans == nil {
				ans = &lightkeeperv1.ChallengeAnswer{Kind: approve, ResultHash: make([]byte, 32)}
			}
			switch rng.Intn(4) {
			case 0:
				salt = make([]byte, protocol.SaltLen)
			case 1:
				ans = &lightkeeperv1.ChallengeAnswer{Kind: approve + reject - ans.Kind, ResultHash: make([]byte, 32)}
			}
			txs = append(txs, &lightkeeperv1.Transaction{Kind: &lightkeeperv1.Transaction_RevealChallenge{RevealChallenge: &lightkeeperv1.RevealChallengeTx{RoundId: id, Answer: ans, Salt: salt}}})
		}
		// Shuffle so reveals and submissions interleave with votes.
		rng.Shuffle(len(txs), func(i, j int) { txs[i], txs[j] = txs[j], txs[i] })
		dt := time.Duration(rng.Intn(6000)) * time.Millisecond
		if rng.Intn(20) == 0 {
			dt = 20 * time.Minute // cross hours and windows now and then
		}
		res := h.apply(dt, txs...)
		now := h.now()
		for _, e := range res.Events {
			if c, ok := e.(RoundClosed); ok {
				closedAt[c.Round.Id] = now
			}
		}
		for i, tx := range txs {
			if rc := tx.GetRevealChallenge(); rc != nil {
				r := res.TxResults[i]
				if r.Err != nil {
					continue
				}
				info := sealedBy[rc.RoundId]
				switch {
				case revealed[rc.RoundId]:
					t.Fatalf("block %d: round %s revealed twice", block, rc.RoundId)
				case info.answer == nil:
					t.Fatalf("block %d: client round %s revealed", block, rc.RoundId)
				case closedAt[rc.RoundId] == 0:
					t.Fatalf("block %d: round %s revealed before it closed", block, rc.RoundId)
				case now > closedAt[rc.RoundId]+window:
					t.Fatalf("block %d: round %s revealed %d ms after its close (window %d)", block, rc.RoundId, now-closedAt[rc.RoundId], window)
				case !bytes.Equal(r.Round.GetChallenge().GetResultHash(), info.answer.ResultHash) || r.Round.GetChallenge().GetKind() != info.answer.Kind:
					t.Fatalf("block %d: round %s revealed with another answer", block, rc.RoundId)
				}
				revealed[rc.RoundId] = true
				k := fmt.Sprint(info.key, "|", floorDiv(now, protocol.MillisPerHour))
				perHour[k]++
				if perHour[k] > int(p.Challenges.MaxRevealsPerHour) {
					t.Fatalf("block %d: challenger %d has %d reveals in one hour", block, info.key, perHour[k])
				}
			}
		}
		for _, e := range res.Events {
			if c, ok := e.(ChallengeRevealed); ok && !revealed[c.RoundID] {
				t.Fatalf("block %d: ChallengeRevealed for %s without an accepted reveal", block, c.RoundID)
			}
		}
		if len(res.Block.Challenges) != len(eventsOf[ChallengeRevealed](res)) {
			t.Fatalf("block %d: %d reveals in the block, %d events", block, len(res.Block.Challenges), len(eventsOf[ChallengeRevealed](res)))
		}
		for _, tr := range res.TxResults {
			if r := tr.Round; r != nil && r.Phase == lightkeeperv1.RoundPhase_ROUND_PHASE_VOTING && tr.Err == nil && r.SubmittedHeight == res.Block.Header.Height {
				open = append(open, r)
			}
		}
		// A restored machine continues identically.
		if block%25 == 24 {
			twin, err := Restore(h.m.Snapshot())
			if err != nil {
				t.Fatal(err)
			}
			if !snapshotsEqual(twin.Snapshot(), h.m.Snapshot()) {
				t.Fatalf("block %d: restored snapshot differs", block)
			}
			probe := h.now() + 30_000
			a, err1 := h.m.ApplyBlock(BlockInput{TimeUnixMilli: probe})
			b, err2 := twin.ApplyBlock(BlockInput{TimeUnixMilli: probe})
			if err1 != nil || err2 != nil || !bytes.Equal(a.Block.Hash, b.Block.Hash) {
				t.Fatalf("block %d: the restored machine diverged (%v, %v)", block, err1, err2)
			}
			for _, e := range a.Events {
				if c, ok := e.(RoundClosed); ok {
					closedAt[c.Round.Id] = probe
				}
			}
		}
	}
	if len(revealed) < 5 {
		t.Fatalf("only %d reveals accepted in the whole run", len(revealed))
	}
}
