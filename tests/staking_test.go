package tests

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
)

// TestStaking drives the economy end to end with the lightkeeper binary,
// as an operator would: a keeper unbonds and is paid out, funds a new
// account, which guarantees a keeper, creates a group and brings a keeper
// into it; real proofs are verified; an equivocation is reported with two
// signed votes; the epoch turns over and the statement adds up; the
// reject-all keeper, slashed under min_self_bond, and the reported keeper,
// tombstoned, are out of the next active set. Every command is also checked
// for its --json form and for refusals.
func TestStaking(t *testing.T) {
	cfg := testConfig()
	params := protocol.DefaultParams()
	params.Staking.UnbondingPeriod = durationpb.New(1 * time.Second)
	params.Staking.EpochLength = durationpb.New(6 * time.Second)
	params.Staking.MinSelfBond = 500_000
	params.Slashing.SlashIncorrectBps = 2_000
	params.VerificationTimeout = durationpb.New(3 * time.Second)
	// 9 honest keepers and a reject-all one are run; keeper 10 is in the
	// genesis but never online.
	d := startDevnet(t, devnet.Options{Keepers: 10, ExtraGenesisKeepers: 1, Byzantine: []byzantine.Strategy{byzantine.RejectAll}, Config: &cfg, Params: params})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	keyFile := func(i int) string { return setup.KeyPath(d.Dir, i) }
	id := func(i int) string { return setup.KeyID(d.Keys[i]) }
	cli := func(args ...string) map[string]any {
		t.Helper()
		args = append(args, "--coordinator", d.URL, "--json")
		out, errOut, code := run(t, ctx, args...)
		if code != 0 {
			t.Fatalf("lightkeeper %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("lightkeeper %s printed %q: %v", strings.Join(args, " "), out, err)
		}
		return m
	}
	num := func(m map[string]any, path ...string) uint64 {
		t.Helper()
		var v any = m
		for _, p := range path {
			mm, _ := v.(map[string]any)
			v = mm[p]
		}
		switch x := v.(type) {
		case float64:
			return uint64(x)
		case string: // protojson writes 64-bit integers as strings
			n, _ := strconv.ParseUint(x, 10, 64)
			return n
		}
		return 0
	}

	// Unbond 200,000 of keeper 0's bond: paid out after unbonding_period.
	m := cli("tx", "unbond", "200000", "--key", keyFile(0))
	if m["unbonding_id"] != float64(1) {
		t.Fatalf("unbond: %v", m)
	}
	deadline := time.Now().Add(15 * time.Second)
	for num(cli("query", "account", "--key", keyFile(0)), "account", "balance") != 200_000 {
		if time.Now().After(deadline) {
			t.Fatal("unbonding was not paid out")
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A new account, funded by keeper 0, guarantees keeper 1 and runs a
	// group with keeper 2.
	newKey := filepath.Join(dir, "guarantor.key")
	out, errOut, code := run(t, ctx, "keys", "new", "--out", newKey)
	if code != 0 {
		t.Fatalf("keys new: %s", errOut)
	}
	g := strings.TrimSpace(out)
	cli("tx", "transfer", g, "150000", "--key", keyFile(0))
	if b := num(cli("query", "account", g), "account", "balance"); b != 150_000 {
		t.Fatalf("guarantor balance %d", b)
	}
	cli("tx", "guarantee", id(1), "50000", "--key", newKey)
	gs := cli("query", "guarantees", "--target", id(1))
	if list, _ := gs["guarantees"].([]any); len(list) != 1 {
		t.Fatalf("guarantees of keeper 1: %v", gs)
	}
	if k := cli("query", "keeper", id(1)); num(k, "keeper", "guaranteed") != 50_000 {
		t.Fatalf("keeper 1: %v", k)
	}
	cli("tx", "group", "create", "--commission", "500", "--key", newKey)
	cli("tx", "group", "join", g, id(2), "--key", newKey) // the owner invites
	cli("tx", "group", "join", g, "--key", keyFile(2))    // the keeper joins
	grp := cli("query", "group", g)
	if members, _ := grp["group"].(map[string]any)["members"].([]any); len(members) != 1 || members[0] != id(2) {
		t.Fatalf("group: %v", grp)
	}

	// Refusals name the problem and exit non-zero.
	if _, errOut, code := run(t, ctx, "tx", "transfer", g, "999999999", "--key", keyFile(0), "--coordinator", d.URL); code == 0 || !strings.Contains(errOut, "insufficient funds") {
		t.Errorf("overspending: exit %d, %q", code, errOut)
	}
	if _, errOut, code := run(t, ctx, "tx", "bond", "lots", "--key", keyFile(0)); code != 2 || !strings.Contains(errOut, "AMOUNT") {
		t.Errorf("bad amount: exit %d, %q", code, errOut)
	}
	if _, errOut, code := run(t, ctx, "tx", "frobnicate", "--key", keyFile(0), "--coordinator", d.URL); code != 2 || !strings.Contains(errOut, "unknown transaction kind") {
		t.Errorf("unknown kind: exit %d, %q", code, errOut)
	}

	// Real proofs, verified by the committees (the reject-all keeper votes
	// against every valid one and is slashed 20 % each time).
	var its []workload.Item
	for _, it := range allItems(t) {
		if it.Want != workload.Refused {
			its = append(its, it)
		}
	}
	outs := runAll(t, d.URL, its)
	checkOutcomes(t, outs)
	roundID := outs[0].round.GetId()

	// Keeper 10 signed two different votes for one round: anyone may
	// report it.
	rid, _ := hex.DecodeString(roundID)
	var zero [32]byte
	for i, kind := range []lightkeeperv1.VoteKind{lightkeeperv1.VoteKind_VOTE_KIND_APPROVE, lightkeeperv1.VoteKind_VOTE_KIND_REJECT} {
		v := &lightkeeperv1.Vote{RoundId: roundID, KeeperId: id(10), Kind: kind, ResultHash: zero[:],
			Signature: protocol.SignVote(d.Keys[10], d.Genesis.GetChainId(), [32]byte(rid), protocol.VoteKind(kind), zero)}
		b, _ := protojson.Marshal(v)
		if err := os.WriteFile(filepath.Join(dir, "vote"+strconv.Itoa(i)+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := num(cli("query", "account", g), "account", "balance")
	cli("tx", "evidence", "--first", filepath.Join(dir, "vote0.json"), "--second", filepath.Join(dir, "vote1.json"), "--key", newKey)
	k10 := cli("query", "keeper", id(10))
	if k10["keeper"].(map[string]any)["tombstoned"] != true {
		t.Fatalf("reported keeper: %v", k10)
	}
	// 5 % of 1,000,000, and 10 % of that to the reporter.
	if after := num(cli("query", "account", g), "account", "balance"); after != before+5_000 {
		t.Fatalf("reporter balance %d → %d, want +5000", before, after)
	}

	// The epoch turns over: its statement adds up, rewards went to the
	// keepers that verified, and the next active set leaves out the
	// slashed reject-all keeper (bond under min_self_bond) and keeper 10.
	start := num(cli("query", "epoch"), "current_epoch")
	var ep map[string]any
	deadline = time.Now().Add(30 * time.Second)
	for {
		ep = cli("query", "epoch")
		if rec, ok := ep["record"].(map[string]any); ok && num(ep, "current_epoch") > start && num(rec, "epoch") >= start {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the epoch did not turn over: %v", ep)
		}
		time.Sleep(300 * time.Millisecond)
	}
	var paid, fund, in uint64
	for e := uint64(0); e <= start; e++ {
		out, _, code := run(t, ctx, "query", "epoch", strconv.FormatUint(e, 10), "--coordinator", d.URL, "--json")
		if code != 0 {
			continue // an epoch that passed without a block was paid with the next
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if p, f, i := num(r, "record", "paid"), num(r, "record", "to_community_fund"), num(r, "record", "fees")+num(r, "record", "minted"); p+f != i {
			t.Fatalf("epoch %d: paid %d + fund %d != fees + minted %d", e, p, f, i)
		} else {
			paid, fund, in = paid+p, fund+f, in+i
		}
	}
	if paid == 0 || in == 0 {
		t.Fatalf("no rewards paid (paid %d, fund %d, in %d)", paid, fund, in)
	}
	active, _ := ep["active_set"].([]any)
	var set []string
	for _, a := range active {
		set = append(set, a.(string))
	}
	if slices.Contains(set, id(9)) || slices.Contains(set, id(10)) || !slices.Contains(set, id(1)) || !slices.Contains(set, id(2)) {
		t.Fatalf("next active set %v: want keepers 1 and 2, not 9 (reject-all) or 10 (tombstoned)", set)
	}
	k9 := cli("query", "keeper", id(9))
	if num(k9, "keeper", "stake") >= 500_000 || num(k9, "keeper", "slashed_total") == 0 {
		t.Fatalf("reject-all keeper: %v", k9)
	}
	cf := cli("query", "community-fund")
	if num(cf, "total_slashed") == 0 || num(cf, "community_fund") == 0 {
		t.Fatalf("community fund: %v", cf)
	}
	// The guarantee is still there (rewards compound into it, never out).
	g1 := cli("query", "guarantees", "--guarantor", g)
	if list, _ := g1["guarantees"].([]any); len(list) != 1 || num(list[0].(map[string]any), "amount") < 50_000 {
		t.Fatalf("guarantee after rewards: %v", g1)
	}
}
