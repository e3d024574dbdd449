package challenge

import (
	"bytes"
	"context"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// The default generator is set up once per test binary (four small
// circuits, well under a second); tests that change options make their own.
var (
	sharedOnce sync.Once
	shared     *Generator
	sharedErr  error
)

func defaultGenerator(tb testing.TB) *Generator {
	tb.Helper()
	sharedOnce.Do(func() {
		// wazero's interpreter: compiling a Go program with its compiler
		// takes seconds, the interpreter a fraction of that.
		var eng *compute.Engine
		if eng, sharedErr = compute.NewEngine(context.Background(), compute.EngineConfig{Kind: compute.EngineInterpreter}); sharedErr != nil {
			return
		}
		shared, sharedErr = New(Options{RoundID: testRoundID, Engine: eng})
	})
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return shared
}

// job is what a keeper checks for m: the request with the key it names.
func job(g *Generator, m Material) verifier.ProofJob {
	p := m.Request.GetProof()
	return verifier.ProofJob{
		Scheme:       verifier.Scheme(p.GetScheme()),
		Curve:        verifier.Curve(p.GetCurve()),
		VerifyingKey: g.Keys()[m.KeyIndex].VerifyingKey,
		Proof:        p.GetProof(),
		PublicInputs: p.GetPublicInputs(),
	}
}

// TestMaterialsVerify checks every label's materials against the keepers'
// verifier: valid ones approved, invalid ones rejected for
// invalid_proof (so they got past every decoding step), and the request
// shaped like a client's.
func TestMaterialsVerify(t *testing.T) {
	g := defaultGenerator(t)
	keys := g.Keys()
	if len(keys) != 4 {
		t.Fatalf("%d keys, want 4", len(keys))
	}
	if len(g.Labels()) != 12 {
		t.Fatalf("labels %v, want 12", g.Labels())
	}
	for _, label := range g.Labels() {
		t.Run(label, func(t *testing.T) {
			for range 3 {
				m, err := g.Generate(label)
				if err != nil {
					t.Fatal(err)
				}
				if m.Label != label || m.Cost <= 0 || m.Compute != nil || m.RoundID != "" {
					t.Fatalf("material %+v", m)
				}
				if !bytes.Equal(m.ResultHash, make([]byte, 32)) {
					t.Fatalf("result hash %x, want 32 zero bytes", m.ResultHash)
				}
				if n, err := hex.DecodeString(m.Request.GetClientNonce()); err != nil || len(n) != NonceBytes {
					t.Fatalf("client nonce %q", m.Request.GetClientNonce())
				}
				p := m.Request.GetProof()
				key := keys[m.KeyIndex]
				if p == nil || p.GetVerifyingKeyId() != "" || verifier.Scheme(p.GetScheme()) != key.Scheme ||
					verifier.Curve(p.GetCurve()) != key.Curve || !strings.HasPrefix(label, key.Name+"/") {
					t.Fatalf("request %v for key %s", m.Request, key.Name)
				}
				// What the coordinator checks at submit.
				if n, err := verifier.CheckPublicInputs(key.Curve, p.GetPublicInputs(), protocol.Limits{}); err != nil || n != key.NumPublic {
					t.Fatalf("public inputs: %d, %v", n, err)
				}
				v := verifier.VerifyProof(job(g, m), protocol.Limits{})
				wantApprove := strings.HasSuffix(label, "/valid")
				if m.Approve != wantApprove {
					t.Fatalf("Approve = %v", m.Approve)
				}
				switch {
				case wantApprove && v.Vote != protocol.VoteApprove:
					t.Fatalf("valid material: %v", v)
				case !wantApprove && (v.Vote != protocol.VoteReject || v.Reason != verifier.ReasonInvalidProof):
					t.Fatalf("invalid material: %v, want reject(invalid_proof)", v)
				}
			}
		})
	}
}

// TestSameShape: a circuit's valid and invalid materials have the same
// sizes, so a keeper cannot sort them by length.
func TestSameShape(t *testing.T) {
	g := defaultGenerator(t)
	for i, k := range g.Keys() {
		proofLen, inputLen := -1, -1
		for _, v := range variantNames {
			m, err := g.Generate(k.Name + "/" + v)
			if err != nil {
				t.Fatal(err)
			}
			if m.KeyIndex != i {
				t.Fatalf("%s: KeyIndex %d, want %d", m.Label, m.KeyIndex, i)
			}
			p := m.Request.GetProof()
			if proofLen == -1 {
				proofLen, inputLen = len(p.Proof), len(p.PublicInputs)
			}
			if len(p.Proof) != proofLen || len(p.PublicInputs) != inputLen {
				t.Fatalf("%s: proof %d bytes, inputs %d; valid had %d, %d", m.Label, len(p.Proof), len(p.PublicInputs), proofLen, inputLen)
			}
		}
	}
}

// TestNeverReplayed: many materials never share proof bytes, public
// inputs or nonces.
func TestNeverReplayed(t *testing.T) {
	g := defaultGenerator(t)
	proofs, inputs, nonces := map[string]string{}, map[string]string{}, map[string]string{}
	for round := range 5 {
		for _, label := range g.Labels() {
			m, err := g.Generate(label)
			if err != nil {
				t.Fatal(err)
			}
			p := m.Request.GetProof()
			for _, seen := range []struct {
				set  map[string]string
				key  []byte
				what string
			}{{proofs, p.Proof, "proof"}, {inputs, p.PublicInputs, "public inputs"}, {nonces, []byte(m.Request.ClientNonce), "nonce"}} {
				if prev, ok := seen.set[string(seen.key)]; ok {
					t.Fatalf("round %d: %s of %s repeats those of %s", round, seen.what, label, prev)
				}
				seen.set[string(seen.key)] = label
			}
		}
	}
}

// TestTake fills the queues by hand and checks Take: each material once,
// valid and invalid about equally, every label served, false when empty.
func TestTake(t *testing.T) {
	g, err := New(Options{Circuits: DefaultCircuits()[:2]})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Take(); ok {
		t.Fatal("Take returned material from empty queues")
	}
	const perLabel = 1000
	for _, l := range g.labels {
		for i := range perLabel {
			l.queue = append(l.queue, Material{Label: l.name, Approve: l.variant == variantValid, Cost: time.Duration(i)})
		}
	}
	const takes = 2000
	valid := 0
	perLabelTaken := map[string]int{}
	seen := map[string]bool{}
	for range takes {
		m, ok := g.Take()
		if !ok {
			t.Fatal("Take found nothing")
		}
		id := m.Label + "#" + m.Cost.String()
		if seen[id] {
			t.Fatalf("%s handed out twice", id)
		}
		seen[id] = true
		if m.Approve {
			valid++
		}
		perLabelTaken[m.Label]++
	}
	// 2000 fair coin flips: 0.45..0.55 is 4.5 standard deviations.
	if f := float64(valid) / takes; f < 0.45 || f > 0.55 {
		t.Fatalf("%.3f of the materials were valid, want about half", f)
	}
	for _, l := range g.labels {
		if perLabelTaken[l.name] == 0 {
			t.Fatalf("label %s never taken", l.name)
		}
	}
	// Only invalid material left: Take serves it rather than nothing.
	for _, l := range g.labels {
		if l.variant == variantValid {
			l.queue = nil
		}
	}
	for range 10 {
		if m, ok := g.Take(); !ok || m.Approve {
			t.Fatalf("Take = %v, %v with only invalid material ready", m.Label, ok)
		}
	}
	var taken uint64
	for _, s := range g.Stats() {
		taken += s.Taken
	}
	if taken != takes+10 {
		t.Fatalf("stats count %d taken, want %d", taken, takes+10)
	}
}

// TestStartFills runs the background loop until every queue is full,
// drains them, and stops it. The deadline only keeps a broken loop from
// hanging the test; nothing here depends on timing.
func TestStartFills(t *testing.T) {
	g, err := New(Options{Circuits: DefaultCircuits()[:2], CPUBudget: 1, Ahead: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g.Start(ctx)
	g.Start(ctx) // a second call while running does nothing
	full := func() bool {
		for _, s := range g.Stats() {
			if s.Ready < 2 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for !full() {
		if time.Now().After(deadline) {
			t.Fatalf("queues not full: %+v", g.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	n := 0
	for {
		m, ok := g.Take()
		if !ok {
			break
		}
		if v := verifier.VerifyProof(job(g, m), protocol.Limits{}); (v.Vote == protocol.VoteApprove) != m.Approve {
			t.Fatalf("%s: %v", m.Label, v)
		}
		n++
		if n > 100 {
			t.Fatal("Take never runs dry")
		}
	}
	if n < 12 {
		t.Fatalf("took %d materials, want at least the 12 that were ready", n)
	}
	cancel()
	<-g.done
	for _, s := range g.Stats() {
		if s.Generated < 2 || s.Taken < 2 || s.Failed != 0 || s.MeanCost <= 0 || s.TotalCost < s.MeanCost {
			t.Fatalf("stats %+v", s)
		}
	}
}

func TestPause(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		cost, debt time.Duration
		budget     float64
		want       time.Duration
	}{
		{10 * ms, 0, 0.10, 90 * ms}, // 10 busy of every 100
		{10 * ms, 0, 0.50, 10 * ms},
		{10 * ms, 0, 0.25, 30 * ms},
		{10 * ms, 0, 1, 0}, // a whole core: no rest
		{0, 0, 0.10, 0},
		{10 * ms, 5 * ms, 0.10, 90*ms + 50*ms}, // outside work: debt/budget more
		{0, 5 * ms, 0.5, 10 * ms},
		{0, 5 * ms, 1, 5 * ms},
		{-ms, -ms, 0.10, 0},                // negative measurements count as nothing
		{10 * ms, 0, 0, maxPause},          // invalid budgets never run unpaced
		{10 * ms, 0, -1, maxPause},         //
		{10 * ms, 0, math.NaN(), maxPause}, //
		{time.Hour, 0, 0.01, maxPause},     // capped
		{math.MaxInt64, 0, 1e-9, maxPause}, // no overflow
		{0, math.MaxInt64, 1e-9, maxPause}, //
		{time.Second, 0, 1.0 / 3, 2 * time.Second},
	} {
		if got := pause(c.cost, c.debt, c.budget); got != c.want {
			t.Errorf("pause(%v, %v, %v) = %v, want %v", c.cost, c.debt, c.budget, got, c.want)
		}
	}
}

func TestRepay(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		debt, idle time.Duration
		budget     float64
		want       time.Duration
	}{
		{10 * ms, 50 * ms, 0.10, 5 * ms}, // 50 idle allow 5 of work
		{10 * ms, 100 * ms, 0.10, 0},
		{10 * ms, time.Hour, 0.10, 0},
		{10 * ms, 0, 0.10, 10 * ms},
		{10 * ms, -ms, 0.10, 10 * ms},
		{0, 50 * ms, 0.10, 0},
		{10 * ms, 50 * ms, 0, 10 * ms}, // invalid budget: nothing repaid
		{10 * ms, 50 * ms, math.NaN(), 10 * ms},
		{10 * ms, 5 * ms, 1, 5 * ms},
	} {
		if got := repay(c.debt, c.idle, c.budget); got != c.want {
			t.Errorf("repay(%v, %v, %v) = %v, want %v", c.debt, c.idle, c.budget, got, c.want)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{CPUBudget: -0.1}, "CPUBudget"},
		{Options{CPUBudget: 1.5}, "CPUBudget"},
		{Options{CPUBudget: math.NaN()}, "CPUBudget"},
		{Options{Ahead: -1}, "Ahead"},
		{Options{Circuits: []Circuit{{Scheme: 9, Curve: verifier.CurveBN254}}}, "Circuits[0]"},
		{Options{Circuits: []Circuit{{Scheme: verifier.SchemePlonk, Curve: 0}}}, "Circuits[0]"},
		{Options{Circuits: []Circuit{{Scheme: verifier.SchemePlonk, Curve: verifier.CurveBN254, Constraints: -1}}}, "Circuits[0]"},
		{Options{Circuits: []Circuit{DefaultCircuits()[0], DefaultCircuits()[0]}}, "twice"},
	} {
		if _, err := New(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error about %s", c.opts, err, c.want)
		}
	}
	g := defaultGenerator(t)
	if _, err := g.Generate("groth16/bn254/nonsense"); err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("Generate of an unknown label: %v", err)
	}
}

func TestCircuitNames(t *testing.T) {
	for _, c := range []struct {
		c    Circuit
		want string
	}{
		{DefaultCircuits()[0], "groth16/bn254"},
		{DefaultCircuits()[3], "plonk/bls12_381"},
		{Circuit{Scheme: verifier.SchemePlonk, Curve: verifier.CurveBN254, Constraints: 1000, Commit: true}, "plonk/bn254/n1000/commit"},
	} {
		if got := c.c.Name(); got != c.want {
			t.Errorf("Name() = %q, want %q", got, c.want)
		}
	}
}

// TestKeysPersist: a second generator on the same Dir has the same keys
// and its proofs verify against the first one's keys; a damaged file is
// an error naming it.
func TestKeysPersist(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	circuits := []Circuit{DefaultCircuits()[0], {Scheme: verifier.SchemePlonk, Curve: verifier.CurveBLS12_381, Commit: true}}
	g1, err := New(Options{Dir: dir, Circuits: circuits})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := New(Options{Dir: dir, Circuits: circuits})
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := g1.Keys(), g2.Keys()
	for i := range k1 {
		if k1[i].Loaded || !k2[i].Loaded {
			t.Fatalf("%s: Loaded %v then %v, want false then true", k1[i].Name, k1[i].Loaded, k2[i].Loaded)
		}
		if !bytes.Equal(k1[i].VerifyingKey, k2[i].VerifyingKey) || k1[i].NumPublic != k2[i].NumPublic || k1[i].Name != k2[i].Name {
			t.Fatalf("%s: the restarted generator has another key", k1[i].Name)
		}
	}
	for _, label := range g2.Labels() {
		m, err := g2.Generate(label)
		if err != nil {
			t.Fatal(err)
		}
		if v := verifier.VerifyProof(job(g1, m), protocol.Limits{}); (v.Vote == protocol.VoteApprove) != m.Approve {
			t.Fatalf("%s from the restarted generator against the first keys: %v", label, v)
		}
	}
	// Keys() hands out copies.
	k2[0].VerifyingKey[0] ^= 0xff
	if !bytes.Equal(g2.Keys()[0].VerifyingKey, k1[0].VerifyingKey) {
		t.Fatal("Keys() exposes the generator's own key bytes")
	}

	path := filepath.Join(dir, fileName(circuits[1]))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Dir: dir, Circuits: circuits}); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("damaged key file: %v, want an error naming %s", err, path)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("%d files in the key directory, want 2 (no temporary files left)", len(entries))
	}
}

// testRoundID is protocol.RoundID on chain "test" (coordinator/state defines
// it; it is repeated here so that this package's tests do not depend on
// the state machine's build).
func testRoundID(req *lightkeeperv1.RoundRequest) string { return roundIDOn("test", req) }
