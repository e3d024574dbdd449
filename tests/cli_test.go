package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// TestCLI drives a devnet with the lightkeeper binary as a user would:
// submit proofs from files, read rounds, verify certificates, and get a
// clear message and a non-zero exit for refused input.
func TestCLI(t *testing.T) {
	d := startDevnet(t, devnet.Options{Keepers: 10})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	submit := func(it workload.Item, extra ...string) (map[string]any, string, int) {
		args := append([]string{"submit", "proof", "--coordinator", d.URL,
			"--scheme", it.Scheme.String(), "--curve", it.Curve.String(),
			"--vk", write("vk.bin", it.VK), "--proof", write("proof.bin", it.Proof), "--public", write("public.bin", it.Public),
			"--json"}, extra...)
		out, errOut, code := run(t, ctx, args...)
		var m map[string]any
		if code == 0 {
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("submit --json printed %q: %v", out, err)
			}
		}
		return m, errOut, code
	}

	var roundID string
	for _, it := range allItems(t) {
		if !strings.HasSuffix(it.Name, "/valid") && !strings.HasSuffix(it.Name, "/flipped-bit") && !strings.HasSuffix(it.Name, "/wrong-input-count") {
			continue
		}
		m, errOut, code := submit(it, "--wait")
		switch it.Want {
		case workload.Refused:
			if code == 0 || !strings.Contains(errOut, "invalid_argument") || !strings.Contains(errOut, "public_inputs") {
				t.Errorf("%s: exit %d, stderr %q; want non-zero naming the problem", it.Name, code, errOut)
			}
		default:
			if code != 0 || m["outcome"] != it.Want.String() || len(m["round_id"].(string)) != 64 {
				t.Errorf("%s: exit %d, %v, stderr %q", it.Name, code, m, errOut)
			}
			if it.Want == workload.Approved {
				roundID = m["round_id"].(string)
			}
		}
	}
	// Without --wait the round is accepted and still pending.
	m, _, code := submit(allItems(t)[0])
	if code != 0 || m["outcome"] != "PENDING" {
		t.Errorf("submit without --wait: exit %d, %v", code, m)
	}

	out, errOut, code := run(t, ctx, "round", "get", roundID, "--coordinator", d.URL)
	if code != 0 || !strings.Contains(out, "APPROVED") || !strings.Contains(out, "seat 0") {
		t.Errorf("round get: exit %d, %q %q", code, out, errOut)
	}
	// round get and round list show the same heights (submitted, and
	// decided), and every --json output uses one key style: snake_case,
	// protobuf's field names.
	got, _, code := run(t, ctx, "round", "get", roundID, "--coordinator", d.URL, "--json")
	var full map[string]any
	if code != 0 || json.Unmarshal([]byte(got), &full) != nil || full["submitted_height"] == nil || full["decided_height"] == nil || full["submittedHeight"] != nil {
		t.Fatalf("round get --json: exit %d, %q; want snake_case keys", code, got)
	}
	heights := fmt.Sprintf("submitted %v decided %v", full["submitted_height"], full["decided_height"])
	if !strings.Contains(strings.Join(strings.Fields(out), " "), fmt.Sprintf("submitted height %v, decided height %v", full["submitted_height"], full["decided_height"])) {
		t.Errorf("round get shows %q; want both heights of %s", out, heights)
	}
	listed, _, code := run(t, ctx, "round", "list", "--coordinator", d.URL, "--limit", "1000")
	found := false
	for _, line := range strings.Split(listed, "\n") {
		if strings.HasPrefix(line, roundID) {
			found = true
			if !strings.Contains(strings.Join(strings.Fields(line), " "), heights) {
				t.Errorf("round list shows %q; round get has %s", line, heights)
			}
		}
	}
	if code != 0 || !found {
		t.Errorf("round list: exit %d, round %s not in %q", code, roundID, listed)
	}
	listJSON, _, code := run(t, ctx, "round", "list", "--coordinator", d.URL, "--json")
	if code != 0 || !strings.Contains(listJSON, `"submitted_height"`) || strings.Contains(listJSON, `"submittedHeight"`) {
		t.Errorf("round list --json: exit %d, %q; want snake_case keys", code, listJSON)
	}

	certFile := filepath.Join(dir, "cert.json")
	out, errOut, code = run(t, ctx, "verify-cert", roundID, "--coordinator", d.URL, "--save", certFile)
	if code != 0 || !strings.Contains(out, "certificate OK") {
		t.Fatalf("verify-cert: exit %d, %q %q", code, out, errOut)
	}
	got, errOut, code = run(t, ctx, "verify-cert", roundID, "--coordinator", d.URL, "--json")
	var vc map[string]any
	if code != 0 || json.Unmarshal([]byte(got), &vc) != nil || vc["round_id"] != roundID || vc["outcome"] != "APPROVED" || vc["offline"] != false {
		t.Errorf("verify-cert --json: exit %d, %q %q", code, got, errOut)
	}
	// A certificate with one vote changed no longer verifies offline.
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(b), "VOTE_KIND_APPROVE", "VOTE_KIND_REJECT", 1)
	if tampered == string(b) {
		t.Fatal("certificate has no approval to tamper with")
	}
	// Offline checks need the chain's parameters: without them, refused.
	if _, errOut, code = run(t, ctx, "verify-cert", "--file", certFile); code == 0 || !strings.Contains(errOut, "--params") {
		t.Errorf("verify-cert --file without --params: exit %d, %q", code, errOut)
	}
	paramsJSON, errOut, code := run(t, ctx, "query", "params", "--json", "--coordinator", d.URL)
	if code != 0 {
		t.Fatalf("query params --json: exit %d, %q", code, errOut)
	}
	paramsFile := write("params.json", []byte(paramsJSON))
	out, errOut, code = run(t, ctx, "query", "params", "--coordinator", d.URL)
	var pin string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "params" && f[1] == "hash" {
			pin = f[2]
		}
	}
	if code != 0 || len(pin) != 64 {
		t.Fatalf("query params: exit %d, %q %q", code, out, errOut)
	}
	out, errOut, code = run(t, ctx, "verify-cert", "--file", write("bad.json", []byte(tampered)), "--params", paramsFile)
	if code == 0 || !strings.Contains(errOut, "BAD certificate") {
		t.Errorf("tampered certificate: exit %d, %q %q", code, out, errOut)
	}
	if _, errOut, code = run(t, ctx, "verify-cert", "--file", certFile, "--params", paramsFile, "--params-hash", pin); code != 0 {
		t.Errorf("saved certificate: exit %d, %q", code, errOut)
	}
	// Issue #9 finding 2: thresholds written into the certificate are not
	// believed, and a pin refuses other parameters.
	forged := regexp.MustCompile(`"threshold":\s*[0-9]+`).ReplaceAllString(string(b), `"threshold": 1`)
	if forged == string(b) {
		t.Fatalf("certificate has no threshold to forge: %s", b)
	}
	if _, errOut, code = run(t, ctx, "verify-cert", "--file", write("forged.json", []byte(forged)), "--params", paramsFile); code == 0 || !strings.Contains(errOut, "threshold") {
		t.Errorf("forged threshold: exit %d, %q", code, errOut)
	}
	if _, errOut, code = run(t, ctx, "verify-cert", "--file", certFile, "--params", paramsFile, "--params-hash", strings.Repeat("0", 64)); code == 0 || !strings.Contains(errOut, "--params-hash") {
		t.Errorf("wrong pin: exit %d, %q", code, errOut)
	}
	// The saved certificate carries the eligible list the API filled in:
	// without it, or with a list that does not hash to eligible_hash, it is
	// refused offline, saying which.
	saved := new(lightkeeperv1.Certificate)
	if err := protojson.Unmarshal(b, saved); err != nil || len(saved.GetEligible()) == 0 || len(saved.GetEligibleHash()) != 32 {
		t.Fatalf("saved certificate: %d eligible keepers, %d-byte eligible_hash (%v)", len(saved.GetEligible()), len(saved.GetEligibleHash()), err)
	}
	for name, tc := range map[string]struct {
		mut  func(c *lightkeeperv1.Certificate)
		want string
	}{
		"list missing":      {func(c *lightkeeperv1.Certificate) { c.Eligible = nil }, "eligible list missing"},
		"list not the hash": {func(c *lightkeeperv1.Certificate) { c.Eligible[0].Weight++ }, "does not match eligible_hash"},
	} {
		c := proto.Clone(saved).(*lightkeeperv1.Certificate)
		tc.mut(c)
		cb, _ := protojson.Marshal(c)
		if _, errOut, code = run(t, ctx, "verify-cert", "--file", write(strings.ReplaceAll(name, " ", "-")+".json", cb), "--params", paramsFile); code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, %q", name, code, errOut)
		}
	}

	// Refusals name the problem.
	if _, errOut, code = run(t, ctx, "submit", "proof", "--coordinator", d.URL, "--scheme", "stark", "--curve", "bn254"); code != 2 || !strings.Contains(errOut, "--scheme") {
		t.Errorf("bad scheme: exit %d, %q", code, errOut)
	}
	it := allItems(t)[0]
	it.VK = []byte("garbage")
	if _, errOut, code = submit(it); code == 0 || !strings.Contains(errOut, "verifying key refused") {
		t.Errorf("garbage key: exit %d, %q", code, errOut)
	}
	if _, errOut, code = run(t, ctx, "round", "get", "zz", "--coordinator", d.URL); code == 0 || !strings.Contains(errOut, "round_id") {
		t.Errorf("bad round id: exit %d, %q", code, errOut)
	}
	if _, errOut, code = run(t, ctx, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d, %q", code, errOut)
	}
	// -h answers with the usage, even where a required flag is missing,
	// and the environment gives --coordinator its default.
	for _, args := range [][]string{{"tx", "-h"}, {"query", "--help"}, {"tx", "bond", "-h"}, {"submit", "proof", "-h"}} {
		if out, errOut, code := run(t, ctx, args...); code != 0 || !strings.Contains(out, "Usage:") || errOut != "" {
			t.Errorf("lightkeeper %q: exit %d, %q %q", args, code, out, errOut)
		}
	}
	t.Setenv("LIGHTKEEPER_COORDINATOR", d.URL)
	if out, errOut, code := run(t, ctx, "round", "get", roundID, "--json"); code != 0 || !strings.Contains(out, roundID) {
		t.Errorf("round get with $LIGHTKEEPER_COORDINATOR: exit %d, %q %q", code, out, errOut)
	}
}
