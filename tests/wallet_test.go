package tests

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/internal/poolkeys"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
)

// TestWallet: deposit and withdraw through the CLI against a devnet whose
// keepers verify real withdrawal proofs, then follow the payment with
// `bridge watch`. The pool's keys come from poolkeys.Fast (seconds;
// circuit.Setup, the real ceremony, takes a minute).
func TestWallet(t *testing.T) {
	if testing.Short() {
		t.Skip("sets up and proves the withdrawal circuit")
	}
	pk, vk, err := poolkeys.Fast()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pkFile := filepath.Join(dir, "pool.pk")
	if err := os.WriteFile(pkFile, pk, 0o600); err != nil {
		t.Fatal(err)
	}
	depositor := setup.NewKey()
	keyFile := filepath.Join(dir, "depositor.key")
	if err := setup.WriteKey(keyFile, depositor); err != nil {
		t.Fatal(err)
	}
	recipient := setup.KeyID(setup.NewKey())
	d := startDevnet(t, devnet.Options{Keepers: 10, Genesis: func(g *lightkeeperv1.Genesis, _ []ed25519.PrivateKey) {
		g.WithdrawalVerifyingKey = vk
		g.Balances = append(g.Balances, &lightkeeperv1.GenesisBalance{AccountId: setup.KeyID(depositor), Amount: 1_000})
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	noteFile := filepath.Join(dir, "note.json")
	out, errOut, code := run(t, ctx, "wallet", "deposit", "--coordinator", d.URL, "--amount", "300", "--key", keyFile, "--note", noteFile, "--json")
	if code != 0 {
		t.Fatalf("deposit: exit %d %q", code, errOut)
	}
	var dep map[string]any
	if err := json.Unmarshal([]byte(out), &dep); err != nil || dep["index"] != 0.0 {
		t.Fatalf("deposit printed %q (%v)", out, err)
	}
	if st, err := os.Stat(noteFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("note file: %v %v", st, err)
	}
	withdraw := func() (map[string]any, string, int) {
		out, errOut, code := run(t, ctx, "wallet", "withdraw", "--coordinator", d.URL, "--note", noteFile, "--recipient", recipient,
			"--proving-key", pkFile, "--wait", "--json")
		var m map[string]any
		if code == 0 {
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("withdraw printed %q: %v", out, err)
			}
		}
		return m, errOut, code
	}
	m, errOut, code := withdraw()
	if code != 0 || m["outcome"] != "APPROVED" || m["paid"] != true {
		t.Fatalf("withdraw: exit %d %v %q", code, m, errOut)
	}
	// The same note again: refused at submission, nullifier spent.
	if _, errOut, code := withdraw(); code == 0 || !strings.Contains(errOut, "nullifier already spent") {
		t.Fatalf("second withdrawal: exit %d %q", code, errOut)
	}
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
	defer wcancel()
	out, _, _ = run(t, wctx, "bridge", "watch", "--coordinator", d.URL, "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var w map[string]any
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &w) != nil || w["round_id"] != m["round_id"] || w["amount"] != 300.0 ||
		w["recipient"] != recipient || w["outcome"] != "APPROVED" {
		t.Fatalf("bridge watch: %q", out)
	}
}
