package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/lightkeeper-net/lightkeeper/client"
	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/proofgen"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/verifier"
)

// TestRoundListFilters runs 'round list' against a real devnet whose
// rounds are three approved and two rejected proofs: --outcome and --kind
// keep exactly the matching rounds, --limit cuts the listing, and the
// --page-token it prints continues it without skipping or repeating a
// round.
func TestRoundListFilters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a devnet and proves")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := config.Default()
	cfg.Challenges.Enabled = false // only the rounds submitted here
	d, err := devnet.Start(ctx, devnet.Options{Keepers: 10, Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.WaitOnline(ctx, 10, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	fix, err := proofgen.New(verifier.SchemeGroth16, verifier.CurveBN254)
	if err != nil {
		t.Fatal(err)
	}
	sub := client.NewSubmitter(http.DefaultClient, d.URL)
	want := map[string][]string{}
	for i := range 5 {
		p, err := fix.Prove(uint64(100 + i))
		if err != nil {
			t.Fatal(err)
		}
		outcome := "APPROVED"
		if i%2 == 1 {
			p, outcome = proofgen.FlipBit(p), "REJECTED"
		}
		r, err := sub.SubmitProof(ctx, client.Proof{Scheme: fix.Scheme, Curve: fix.Curve, VK: fix.VerifyingKey, Proof: p.Proof, Public: p.PublicInputs}, fmt.Sprint(i))
		if err == nil {
			r, err = sub.WaitDecided(ctx, r.GetId())
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := client.OutcomeName(r.GetPhase(), r.GetOutcome()); got != outcome {
			t.Fatalf("round %d decided %s, want %s", i, got, outcome)
		}
		want[outcome] = append(want[outcome], r.GetId())
	}

	list := func(args ...string) ([]string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append([]string{"round", "list", "--coordinator", d.URL, "--json"}, args...)
		if code := run(ctx, args, &out, &errOut); code != 0 {
			t.Fatalf("%q: exit %d, %s", args, code, errOut.String())
		}
		var res lightkeeperv1.ListRoundsResponse
		if err := protojson.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("%q printed %q: %v", args, out.String(), err)
		}
		var ids []string
		for _, r := range res.GetRounds() {
			ids = append(ids, r.GetId())
		}
		return ids, res.GetNextPageToken()
	}
	same := func(what string, got, want []string) {
		t.Helper()
		got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("%s: listed %v, want %v", what, got, want)
		}
	}

	rejected, _ := list("--outcome", "rejected")
	same("--outcome rejected", rejected, want["REJECTED"])
	all, _ := list("--kind", "proof")
	same("--kind proof", all, append(slices.Clone(want["APPROVED"]), want["REJECTED"]...))
	if none, _ := list("--kind", "compute"); len(none) != 0 {
		t.Errorf("--kind compute: listed %v, want none", none)
	}
	// One approved round, then the rest from the printed token.
	first, next := list("--outcome", "APPROVED", "--limit", "1")
	if len(first) != 1 || next == "" {
		t.Fatalf("--outcome APPROVED --limit 1: %v, next %q", first, next)
	}
	rest, _ := list("--outcome", "approved", "--page-token", next)
	same("--outcome approved in two calls", append(first, rest...), want["APPROVED"])
	// Unfiltered, --limit cuts the listing, and a token continues it.
	two, next := list("--limit", "2")
	more, _ := list("--page-token", next)
	same("--limit 2, then the rest", append(two, more...), all)

	// The table: kind, outcome, latency of a decided round.
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"round", "list", "--coordinator", d.URL, "--outcome", "rejected"}, &out, &errOut); code != 0 {
		t.Fatalf("round list: exit %d, %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("round list --outcome rejected printed %q", out.String())
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if !slices.Contains(want["REJECTED"], f[0]) || f[1] != "PROOF" || f[2] != "REJECTED" || f[3] != "age" || f[5] != "latency" || f[6] == "-" {
			t.Errorf("round list line %q: want id, PROOF, REJECTED, age and a latency", line)
		}
	}
	if code := run(ctx, []string{"round", "list", "--coordinator", d.URL, "--outcome", "maybe"}, &out, &errOut); code != 2 ||
		!strings.Contains(errOut.String(), "--outcome") {
		t.Errorf("--outcome maybe: exit %d, %q", code, errOut.String())
	}
}
