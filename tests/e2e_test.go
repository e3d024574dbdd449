// Package tests holds the end-to-end tests: real coordinators on loopback
// with real Pebble directories, real keepers, real gnark proofs, and the
// lightkeeper binary itself where a process boundary matters (kill -9).
package tests

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

var (
	itemsOnce sync.Once
	items     []workload.Item
	itemsErr  error
)

// allItems is the shared workload: on every scheme × curve, valid proofs
// (binary and JSON public inputs) and every kind of invalid one.
func allItems(t *testing.T) []workload.Item {
	t.Helper()
	itemsOnce.Do(func() {
		items, itemsErr = workload.Build(workload.Options{Valid: 2, Invalid: true, JSONInputs: true}, nil)
	})
	if itemsErr != nil {
		t.Fatal(itemsErr)
	}
	return items
}

func startDevnet(t *testing.T, o devnet.Options) *devnet.Devnet {
	t.Helper()
	if o.Config == nil {
		cfg := testConfig()
		o.Config = &cfg
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d, err := devnet.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("devnet close: %v", err)
		}
	})
	if err := d.WaitOnline(ctx, o.Keepers, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return d
}

type outcome struct {
	item  workload.Item
	round *lightkeeperv1.Round
	err   error
}

// runAll submits every item concurrently and waits for the decisions.
func runAll(t *testing.T, url string, its []workload.Item) []outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sub := workload.NewSubmitter(http.DefaultClient, url)
	out := make([]outcome, len(its))
	var wg sync.WaitGroup
	for i, it := range its {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := sub.Submit(ctx, it, fmt.Sprintf("%s-%d", t.Name(), i))
			if err == nil {
				r, err = sub.WaitDecided(ctx, r.GetId())
			}
			out[i] = outcome{item: it, round: r, err: err}
		}()
	}
	wg.Wait()
	return out
}

// checkOutcomes fails the test for every item that did not end as
// expected: approved, rejected, or refused with InvalidArgument.
func checkOutcomes(t *testing.T, outs []outcome) {
	t.Helper()
	for _, o := range outs {
		switch {
		case o.item.Want == workload.Refused:
			if connect.CodeOf(o.err) != connect.CodeInvalidArgument {
				t.Errorf("%s: want refused with InvalidArgument, got %v", o.item.Name, o.err)
			}
		case o.err != nil:
			t.Errorf("%s: %v", o.item.Name, o.err)
		case !o.item.Matches(o.round):
			t.Errorf("%s: want %v, got %v (%d approve, %d reject, %d abstain)", o.item.Name, o.item.Want,
				o.round.GetOutcome(), o.round.GetApprovals(), o.round.GetRejections(), o.round.GetAbstentions())
		}
	}
}

// checkCertificates verifies every decided round's certificate offline and
// checks that it is committed to by exactly one block.
func checkCertificates(t *testing.T, url string, outs []outcome) {
	t.Helper()
	ctx := context.Background()
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, url)
	lc := lightkeeperv1connect.NewLedgerServiceClient(http.DefaultClient, url)
	info, err := lc.GetChainInfo(ctx, connect.NewRequest(&lightkeeperv1.GetChainInfoRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	params := info.Msg.GetParams()
	for _, o := range outs {
		if o.err != nil {
			continue
		}
		res, err := rc.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: o.round.GetId()}))
		if err != nil {
			t.Fatalf("%s: certificate: %v", o.item.Name, err)
		}
		cert := res.Msg.GetCertificate()
		if err := protocol.VerifyCertificate(cert, params); err != nil {
			t.Errorf("%s: certificate does not verify: %v", o.item.Name, err)
		}
		b, err := lc.GetBlock(ctx, connect.NewRequest(&lightkeeperv1.GetBlockRequest{Height: cert.GetHeight()}))
		if err != nil {
			t.Fatal(err)
		}
		blk := b.Msg.GetBlock()
		if !bytes.Equal(protocol.BlockHash(blk.GetHeader()), blk.GetHash()) ||
			!bytes.Equal(protocol.ResultsHash(blk.GetCertificates(), blk.GetEvidence(), blk.GetChallenges()...), blk.GetHeader().GetResultsHash()) {
			t.Errorf("%s: block %d hashes do not match its contents", o.item.Name, cert.GetHeight())
		}
	}
}

// TestProofRounds: 10 honest native keepers decide every valid proof
// APPROVED and every invalid one REJECTED (or the coordinator refuses it),
// on every scheme × curve, over streams and over long-polls.
func TestProofRounds(t *testing.T) {
	for _, mode := range []string{"stream", "pull"} {
		t.Run(mode, func(t *testing.T) {
			kc := keeper.NewConfig()
			if mode == "pull" {
				kc = kc.WithPull(2 * time.Second)
			}
			d := startDevnet(t, devnet.Options{Keepers: 10, Keeper: &kc})
			outs := runAll(t, d.URL, allItems(t))
			checkOutcomes(t, outs)
			checkCertificates(t, d.URL, outs)
			for _, k := range d.Node.Keepers() {
				if k.GetVotesIncorrect() != 0 || k.GetReputation() <= 1000 {
					t.Errorf("honest keeper %s: %d incorrect votes, reputation %d", k.GetId()[:8], k.GetVotesIncorrect(), k.GetReputation())
				}
			}
		})
	}
}

// waitClosed waits until every round is closed, so missed votes are
// settled.
func waitClosed(t *testing.T, url string, outs []outcome) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rc := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, url)
	for _, o := range outs {
		if o.err != nil {
			continue
		}
		stream, err := rc.WatchRound(ctx, connect.NewRequest(&lightkeeperv1.WatchRoundRequest{RoundId: o.round.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		var last *lightkeeperv1.Round
		for stream.Receive() {
			last = stream.Msg().GetRound()
		}
		if err := stream.Err(); err != nil || last.GetPhase() != lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
			t.Fatalf("round %s: watch ended in phase %v: %v", o.round.GetId(), last.GetPhase(), err)
		}
		stream.Close()
	}
}

// TestByzantineKeepers: with 3 of 10 keepers following each Byzantine
// strategy, every outcome is still right, and the Byzantine keepers end
// with less reputation than every honest one. Equivocators vote right
// first, so the reputation table (docs/design.md §3) does not touch them; they are
// slashed, jailed and tombstoned instead.
func TestByzantineKeepers(t *testing.T) {
	cfg := testConfig()
	params := protocol.DefaultParams()
	params.VerificationTimeout = durationpb.New(8 * time.Second) // short, so rounds close (and missed votes count) within the test, with room for a loaded machine
	for _, st := range []byzantine.Strategy{byzantine.ApproveAll, byzantine.RejectAll, byzantine.Random, byzantine.Silent, byzantine.Equivocate} {
		t.Run(string(st), func(t *testing.T) {
			byz := []byzantine.Strategy{st, st, st}
			d := startDevnet(t, devnet.Options{Keepers: 10, Byzantine: byz, Config: &cfg, Params: params})
			outs := runAll(t, d.URL, allItems(t))
			checkOutcomes(t, outs)
			checkCertificates(t, d.URL, outs)
			waitClosed(t, d.URL, outs)

			isByzantine := map[string]bool{}
			for _, k := range d.Keepers[7:] {
				isByzantine[k.ID()] = true
			}
			lowestHonest := int64(1 << 62)
			var worst []*lightkeeperv1.Keeper
			for _, k := range d.Node.Keepers() {
				if isByzantine[k.GetId()] {
					worst = append(worst, k)
				} else {
					lowestHonest = min(lowestHonest, k.GetReputation())
					if k.GetVotesIncorrect() != 0 {
						t.Errorf("honest keeper %s has %d incorrect votes", k.GetId()[:8], k.GetVotesIncorrect())
					}
				}
			}
			var equivocations, missed, incorrect uint64
			for _, k := range worst {
				if st != byzantine.Equivocate && k.GetReputation() >= lowestHonest {
					t.Errorf("%s keeper %s has reputation %d, not below the lowest honest %d", st, k.GetId()[:8], k.GetReputation(), lowestHonest)
				}
				equivocations += k.GetEquivocations()
				missed += k.GetRoundsMissed()
				incorrect += k.GetVotesIncorrect()
			}
			switch st {
			case byzantine.Equivocate:
				if equivocations == 0 {
					t.Error("no equivocation recorded")
				}
				for _, k := range worst {
					if !k.GetTombstoned() || !k.GetJailed() {
						t.Errorf("equivocator %s: jailed %v, tombstoned %v", k.GetId()[:8], k.GetJailed(), k.GetTombstoned())
					}
				}
			case byzantine.Silent:
				if missed == 0 {
					t.Error("silent keepers missed no rounds")
				}
			default:
				if incorrect == 0 {
					t.Errorf("%s keepers cast no incorrect vote", st)
				}
			}
		})
	}
}

// testConfig is config.Default() without random challenges: they are
// tested on their own (challenge_test.go); elsewhere they would open rounds
// the test did not submit and spend CPU proving in the background.
func testConfig() config.Config {
	cfg := config.Default()
	cfg.Challenges.Enabled = false
	return cfg
}
