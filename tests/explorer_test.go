//go:build browser

package tests

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"google.golang.org/protobuf/types/known/durationpb"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/explorer"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1/lightkeeperv1connect"
)

// TestExplorer opens the coordinator's explorer in headless Chromium
// against a real devnet: six keepers, one of them lazy (approves without
// verifying), random challenges on, and real proofs of every scheme ×
// curve, valid and invalid. The page must show the decided rounds, the
// lazy keeper's challenge failures, find a round by its proof's hash,
// verify its certificate in the page, and answer bad input with a
// message; with no console error and no request leaving the origin.
// Screenshots go to test-artifacts/.
func TestExplorer(t *testing.T) {
	npmBin(t, "playwright-core") // fails with what to run when tests/browser has no node_modules
	cfg := config.Default()
	params := protocol.DefaultParams()
	params.Threshold, params.TotalValidators = 4, 5
	params.VerificationTimeout = durationpb.New(3 * time.Second)
	params.Staking.MaxElected = 5
	params.Staking.EpochLength = durationpb.New(5 * time.Second)
	params.Staking.InitialCapacity = 1
	params.Staking.StakePerUnit = 1_000_000
	params.Slashing.SlashIncorrectBps = 3000
	cfg.Challenges = config.Challenges{Enabled: true, Rate: 0, Interval: 1, CPUBudget: 1, ComputeShare: 0}
	// As in TestLazyKeeperEndToEnd: keeper 0 bonds least, so the lazy
	// keeper (5) starts with a seat to lose.
	d := startDevnet(t, devnet.Options{Keepers: 6, Byzantine: []byzantine.Strategy{byzantine.ApproveAll}, Config: &cfg, Params: params,
		Genesis: func(g *lightkeeperv1.Genesis, _ []ed25519.PrivateKey) { g.Keepers[0].Stake = 600_000 }})
	lazy := setup.KeyID(d.Keys[5])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	outs := runAll(t, d.URL, onePerKind(allItems(t)))
	var approved *outcome
	for i, o := range outs {
		if o.err != nil {
			t.Fatalf("%s: %v", o.item.Name, o.err)
		}
		if approved == nil && o.item.Want == workload.Approved && o.round.GetOutcome() == lightkeeperv1.Outcome_OUTCOME_APPROVED {
			approved = &outs[i]
		}
	}
	if approved == nil {
		t.Fatal("no valid proof was approved")
	}
	proofHash := sha256.Sum256(approved.item.Proof)

	keepers := lightkeeperv1connect.NewKeeperServiceClient(http.DefaultClient, d.URL)
	var failures uint64
	for failures == 0 {
		if ctx.Err() != nil {
			t.Fatal("the lazy keeper failed no challenge in 5 minutes")
		}
		k, err := keepers.GetKeeper(ctx, connect.NewRequest(&lightkeeperv1.GetKeeperRequest{KeeperId: lazy}))
		if err != nil {
			t.Fatal(err)
		}
		if failures = k.Msg.GetKeeper().GetChallengeFailures(); failures == 0 {
			time.Sleep(500 * time.Millisecond)
		}
	}
	rounds := lightkeeperv1connect.NewRoundServiceClient(http.DefaultClient, d.URL)
	cert, err := rounds.GetCertificate(ctx, connect.NewRequest(&lightkeeperv1.GetCertificateRequest{RoundId: approved.round.GetId()}))
	if err != nil {
		t.Fatal(err)
	}

	out := artifactsDir(t)
	drv := startDriver(t, "explorer.mjs", "--url", d.URL, "--lazy", lazy, "--proof-hash", hex.EncodeToString(proofHash[:]), "--out", out)

	home := drv.await("home", 3*time.Minute)
	if u := decode[string](t, home["finalUrl"]); !strings.HasSuffix(u, explorer.Prefix) {
		t.Errorf("the root led to %s, want %s", u, explorer.Prefix)
	}
	if csp := decode[string](t, home["csp"]); csp != explorer.ContentSecurityPolicy {
		t.Errorf("Content-Security-Policy %q, want %q", csp, explorer.ContentSecurityPolicy)
	}
	rows := decode[[][]string](t, home["rows"])
	decided := 0
	for _, r := range rows {
		if len(r) > 4 && (r[4] == "approved" || r[4] == "rejected") {
			decided++
		}
	}
	if decided == 0 {
		t.Errorf("the rounds table shows no decided round: %v", rows)
	}
	t.Logf("home: %s, %s, %d rounds listed, %d decided", decode[string](t, home["head"]), decode[string](t, home["rate"]), len(rows), decided)

	kev := drv.await("keepers", time.Minute)
	head := decode[[]string](t, kev["head"])
	col := slices.Index(head, "challenges failed")
	if col < 0 {
		t.Fatalf("keepers table has no \"challenges failed\" column: %v", head)
	}
	type row struct {
		ID    string   `json:"id"`
		Cells []string `json:"cells"`
	}
	shown := map[string]string{}
	for _, r := range decode[[]row](t, kev["keepers"]) {
		shown[r.ID] = r.Cells[col]
	}
	if len(shown) != 6 {
		t.Errorf("keepers table shows %d keepers, want 6", len(shown))
	}
	var lazyShown uint64
	if _, err := fmt.Sscan(shown[lazy], &lazyShown); err != nil || lazyShown < failures {
		t.Errorf("lazy keeper's challenge failures shown as %q, want at least %d", shown[lazy], failures)
	}
	for i := 0; i < 5; i++ {
		if got := shown[setup.KeyID(d.Keys[i])]; got != "0" {
			t.Errorf("honest keeper %d shown with %q challenge failures", i, got)
		}
	}

	type chart struct {
		Title string   `json:"title"`
		Lines []string `json:"lines"`
	}
	charts := decode[[]chart](t, kev["charted"])
	if !slices.ContainsFunc(charts, func(c chart) bool {
		return strings.HasPrefix(c.Title, "Reputation by epoch") && slices.Contains(c.Lines, lazy[:6])
	}) {
		t.Errorf("no reputation chart with the lazy keeper's line (%s): %v", lazy[:6], charts)
	}

	sev := drv.await("search", time.Minute)
	type hit struct{ What, ID string }
	found := decode[[]hit](t, sev["found"])
	if !slices.Contains(found, hit{"round carrying this proof", approved.round.GetId()}) {
		t.Errorf("search by proof hash found %v, want round %s", found, approved.round.GetId())
	}

	vev := drv.await("verify", time.Minute)
	result := decode[string](t, vev["result"])
	if want := fmt.Sprintf("Verified in this browser: %d ed25519 signatures", len(cert.Msg.GetCertificate().GetVotes())); !strings.Contains(result, want) {
		t.Errorf("verify: the page says %q, want %q", result, want)
	}
	if u := decode[string](t, vev["url"]); !strings.HasSuffix(u, "#/round/"+approved.round.GetId()) {
		t.Errorf("search result led to %s", u)
	}
	t.Logf("verify: %s", result)

	drv.await("pool", time.Minute)
	bev := drv.await("bad", time.Minute)
	bad := decode[map[string]string](t, bev["bad"])
	for name, want := range map[string]string{
		"malformed round id": "round_id: want 64 lowercase hex digits, got 10 characters",
		"unknown round id":   "round " + strings.Repeat("0", 64) + " not found",
		"unknown keeper":     "not found",
		"unknown page":       "There is no page",
		"malformed search":   "is not something the explorer can look up",
		"unknown hash":       "Nothing has the id",
	} {
		if !strings.Contains(bad[name], want) {
			t.Errorf("%s: the page says %q, want %q", name, bad[name], want)
		}
	}

	cev := drv.await("checks", time.Minute)
	if errs := decode[[]string](t, cev["consoleErrors"]); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	if ext := decode[[]string](t, cev["external"]); len(ext) > 0 {
		t.Errorf("requests outside the coordinator's origin: %q", ext)
	}
	drv.await("done", time.Minute)
	t.Logf("screenshots in %s", out)
}
