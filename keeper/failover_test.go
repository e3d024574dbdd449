//go:build !js && !wasip1

// The coordinators these tests start need a file system and a network:
// native hosts only.

package keeper_test

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/client"
	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"google.golang.org/protobuf/types/known/durationpb"
)

// These tests run real coordinators (devtools/devnet, in this process, on
// loopback) and real keepers with lists of coordinators. Two independent
// single-node coordinators cannot serve one chain, so "another
// coordinator of the chain" is: a URL nobody listens on (a dead replica),
// the same coordinator restarted from its data directory on another port
// (the keeper's coordinator died; another holds the same ledger), or a
// proxy in front of the coordinator that loses answers (the coordinator
// committed a vote but the keeper never heard).

// committee is the chain's size: three keepers, all needed for a decision,
// so a round decides only if every vote in hand reached the ledger.
const committee = 3

func params() *lightkeeperv1.ConsensusParams {
	p := protocol.DefaultParams()
	p.TotalValidators, p.Threshold = committee, committee
	p.VerificationTimeout = durationpb.New(60 * time.Second)
	return p
}

func startChain(t *testing.T, ctx context.Context, dir, listen string) *devnet.Devnet {
	t.Helper()
	cfg := config.Default()
	cfg.Challenges.Enabled = false // only the rounds submitted here
	d, err := devnet.Start(ctx, devnet.Options{Dir: dir, Listen: listen, ExtraGenesisKeepers: committee, Config: &cfg, Params: params()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// deadURL returns a loopback URL with nothing listening (the port was free
// a moment ago) and its address.
func deadURL(t *testing.T) (string, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr, addr
}

// runKeeper runs a keeper with a list of coordinators until the test ends.
func runKeeper(t *testing.T, ctx context.Context, urls []string, key []byte, cfg keeper.Config) *keeper.Keeper {
	t.Helper()
	k, err := keeper.NewList(urls, key, cfg.WithBackoff(50*time.Millisecond, 400*time.Millisecond).
		WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); k.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return k
}

func proof(t *testing.T) client.Proof {
	t.Helper()
	fix, err := proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fix.Prove(42)
	if err != nil {
		t.Fatal(err)
	}
	return client.Proof{Scheme: fix.Scheme, Curve: fix.Curve, VK: fix.VerifyingKey, Proof: p.Proof, Public: p.PublicInputs}
}

// answered waits until every keeper has had an answer (or given up) for
// one batch of votes: the round may decide before the last keeper's
// SubmitVotes call has returned.
func answered(t *testing.T, ctx context.Context, ks []*keeper.Keeper) {
	t.Helper()
	waitFor(t, ctx, "every keeper's vote answered", func() bool {
		for _, k := range ks {
			if s := k.Stats(); s.Accepted+s.Refused+s.Lost == 0 {
				return false
			}
		}
		return true
	})
}

// decided waits for the round and checks it was approved with every
// keeper's vote.
func decided(t *testing.T, ctx context.Context, url, id string) {
	t.Helper()
	r, err := client.NewSubmitter(http.DefaultClient, url).WaitDecided(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED || len(r.GetVotes()) != committee {
		t.Fatalf("round %s: outcome %v with %d votes, want APPROVED with %d", id, r.GetOutcome(), len(r.GetVotes()), committee)
	}
}

// A keeper whose first coordinator is dead comes online on the second and
// votes rounds there.
func TestFailoverDeadFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a coordinator and proves")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := startChain(t, ctx, "", "")
	defer d.Close()
	dead, _ := deadURL(t)
	var ks []*keeper.Keeper
	for _, key := range d.Keys[:committee] {
		ks = append(ks, runKeeper(t, ctx, []string{dead, d.URL}, key, keeper.NewConfig()))
	}
	if err := d.WaitOnline(ctx, committee, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	r, err := client.NewSubmitter(http.DefaultClient, d.URL).SubmitProof(ctx, proof(t), "dead-first")
	if err != nil {
		t.Fatal(err)
	}
	decided(t, ctx, d.URL, r.GetId())
	answered(t, ctx, ks)
	for i, k := range ks {
		s := k.Stats()
		if s.Switches < 1 || s.Coordinator != d.URL || s.Accepted != 1 || s.Lost != 0 {
			t.Errorf("keeper %d: %d switches, on %s, %d accepted, %d lost; want ≥1 switch, on %s, 1 accepted, 0 lost",
				i, s.Switches, s.Coordinator, s.Accepted, s.Lost, d.URL)
		}
	}
}

// gate is an engine that holds every task until it is opened: the keeper
// has the task in hand, its vote not yet sent.
type gate struct {
	inner  keeper.Engine
	held   chan string
	opened chan struct{}
}

func (g *gate) Name() string { return "gate" }

func (g *gate) Check(ctx context.Context, t *lightkeeperv1.Task) keeper.Verdict {
	g.held <- t.GetRoundId()
	select {
	case <-g.opened:
	case <-ctx.Done():
	}
	return g.inner.Check(ctx, t)
}

// The keepers' coordinator dies while they hold a task; the chain lives
// on at another URL (the same ledger, restarted from its data directory on
// another port). The keepers move there, and the votes they had in hand
// reach it: the round, which needs every one of them, decides.
func TestFailoverTaskInHand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts coordinators and proves")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	a := startChain(t, ctx, dir, "")
	aClosed := false
	defer func() {
		if !aClosed {
			a.Close()
		}
	}()
	bURL, bAddr := deadURL(t)
	g := &gate{inner: keeper.NewNativeEngine(), held: make(chan string, committee), opened: make(chan struct{})}
	var ks []*keeper.Keeper
	for _, key := range a.Keys[:committee] {
		ks = append(ks, runKeeper(t, ctx, []string{a.URL, bURL}, key, keeper.NewConfig().WithEngine(g)))
	}
	if err := a.WaitOnline(ctx, committee, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	r, err := client.NewSubmitter(http.DefaultClient, a.URL).SubmitProof(ctx, proof(t), "in-hand")
	if err != nil {
		t.Fatal(err)
	}
	for range committee {
		select {
		case id := <-g.held:
			if id != r.GetId() {
				t.Fatalf("task for round %s, want %s", id, r.GetId())
			}
		case <-ctx.Done():
			t.Fatal("the keepers never got the task")
		}
	}
	// Every keeper holds the task: the coordinator dies.
	if err := a.Close(); err != nil {
		t.Logf("closing A: %v", err)
	}
	aClosed = true
	b := startChain(t, ctx, dir, bAddr)
	defer b.Close()
	close(g.opened)
	decided(t, ctx, b.URL, r.GetId())
	answered(t, ctx, ks)
	for i, k := range ks {
		s := k.Stats()
		if s.Switches < 1 || s.Accepted != 1 || s.Lost != 0 {
			t.Errorf("keeper %d: %d switches, %d accepted, %d lost; want ≥1 switch, 1 accepted, 0 lost", i, s.Switches, s.Accepted, s.Lost)
		}
	}
	// And they hold their sessions on B now.
	if err := b.WaitOnline(ctx, committee, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

// A coordinator commits a vote but its answer is lost (here: a proxy in
// front of it swallows every SubmitVotes answer). The keeper resends the
// vote to the next coordinator, which has it already: DUPLICATE, which
// counts as accepted — not refused, not lost.
func TestFailoverCommittedVoteIsDuplicate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a coordinator and proves")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	d := startChain(t, ctx, "", "")
	defer d.Close()
	target, _ := url.Parse(d.URL)
	var swallowed atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.FlushInterval = -1 // the Subscribe stream passes through as it comes
	proxy.ModifyResponse = func(res *http.Response) error {
		if strings.HasSuffix(res.Request.URL.Path, "/SubmitVotes") {
			swallowed.Add(1)
			return errors.New("answer lost")
		}
		return nil
	}
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	srv := &http.Server{Handler: proxy}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	proxyURL := "http://" + ln.Addr().String()

	// Two keepers go through the proxy first; the third only to the
	// coordinator, and it votes last, so that the round is still open
	// when the first two resend their votes (a closed round would answer
	// ROUND_CLOSED before looking for a duplicate).
	g := &gate{inner: keeper.NewNativeEngine(), held: make(chan string, 1), opened: make(chan struct{})}
	var ks []*keeper.Keeper
	for _, key := range d.Keys[:committee-1] {
		ks = append(ks, runKeeper(t, ctx, []string{proxyURL, d.URL}, key, keeper.NewConfig().WithLogger(slog.New(slog.DiscardHandler))))
	}
	runKeeper(t, ctx, []string{d.URL}, d.Keys[committee-1], keeper.NewConfig().WithEngine(g))
	if err := d.WaitOnline(ctx, committee, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	r, err := client.NewSubmitter(http.DefaultClient, d.URL).SubmitProof(ctx, proof(t), "duplicate")
	if err != nil {
		t.Fatal(err)
	}
	<-g.held
	answered(t, ctx, ks)
	close(g.opened)
	decided(t, ctx, d.URL, r.GetId())
	if n := swallowed.Load(); n < int64(len(ks)) {
		t.Fatalf("the proxy swallowed %d SubmitVotes answers, want at least %d", n, len(ks))
	}
	for i, k := range ks {
		s := k.Stats()
		if s.Switches < 1 || s.Coordinator != d.URL || s.Accepted != 1 || s.Refused != 0 || s.Lost != 0 {
			t.Errorf("keeper %d: %d switches, on %s, accepted %d, refused %d, lost %d; want ≥1 switch, on %s, 1 accepted, none refused or lost",
				i, s.Switches, s.Coordinator, s.Accepted, s.Refused, s.Lost, d.URL)
		}
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting: %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// A short-lived host (the edge worker: Poll, Info) goes round the list
// within one call: the first poll of a keeper whose first coordinator is
// dead registers it on the second and leaves it online there.
func TestFailoverPoll(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a coordinator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := startChain(t, ctx, "", "")
	defer d.Close()
	dead, _ := deadURL(t)
	k, err := keeper.NewList([]string{dead, d.URL}, d.Keys[0], keeper.NewConfig().WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Poll(ctx, keeper.PollOptions{Wait: time.Millisecond}); err != nil {
		t.Fatalf("poll with a dead first coordinator: %v", err)
	}
	if s := k.Stats(); !s.Connected || s.Switches != 1 || s.Coordinator != d.URL {
		t.Fatalf("after one poll: connected %v, %d switches, on %s; want connected, 1 switch, on %s", s.Connected, s.Switches, s.Coordinator, d.URL)
	}
	info, err := k.Info(ctx)
	if err != nil || !info.GetRegistered() || !info.GetOnline() {
		t.Fatalf("after one poll: %v, %v; want registered and online", info, err)
	}
	// A fresh keeper (a new edge event) reads its record through the list
	// too.
	k2, _ := keeper.NewList([]string{dead, d.URL}, d.Keys[0], keeper.NewConfig().WithHTTPClient(&http.Client{Transport: &http.Transport{}}))
	if info, err := k2.Info(ctx); err != nil || !info.GetRegistered() {
		t.Fatalf("Info with a dead first coordinator: %v, %v", info, err)
	}
}
