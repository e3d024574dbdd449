package tests

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/lightkeeper-net/lightkeeper/coordinator/state"
	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/exampleprog"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
)

// COMPUTE rounds end to end: a real coordinator on Pebble, keepers talking
// to it over HTTP, the example programs built from source for wasip1.

func exampleModules(t *testing.T) map[string][]byte {
	t.Helper()
	mods, err := exampleprog.Modules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return mods
}

// computeNet is a devnet of three keepers run by the test itself, each
// with its own engine, so that every compute committee (3 seats) holds all
// of them.
type computeNet struct {
	d       *devnet.Devnet
	keepers []*keeper.Keeper
	sub     workload.Submitter
}

func startComputeNet(t *testing.T, engines []keeper.NativeEngine, strategies []byzantine.Strategy) *computeNet {
	t.Helper()
	cfg := testConfig()
	params := protocol.DefaultParams()
	params.VerificationTimeout = durationpb.New(120 * time.Second) // the compiler keeper compiles each Go program once (seconds)
	d := startDevnet(t, devnet.Options{Keepers: 0, ExtraGenesisKeepers: len(engines), Config: &cfg, Params: params})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	n := &computeNet{d: d, sub: workload.NewSubmitter(http.DefaultClient, d.URL)}
	for i, e := range engines {
		kc := keeper.NewConfig().WithEngine(e).WithWorkers(4).
			WithHTTPClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}})
		if strategies != nil {
			kc = kc.WithBehaviour(strategies[i])
		}
		k := keeper.New(d.URL, d.Keys[i], kc)
		n.keepers = append(n.keepers, k)
		wg.Add(1)
		go func() { defer wg.Done(); k.Run(ctx) }()
	}
	if err := d.WaitOnline(ctx, len(engines), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return n
}

// localResult runs a job the way every honest keeper must, in the test
// process, for comparison.
func localResult(t *testing.T, module []byte, roundID string, input []byte, fuel uint64) compute.Result {
	t.Helper()
	p, err := compute.Check(module, compute.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := hex.DecodeString(roundID)
	res, err := compute.Run(context.Background(), p, input, fuel, [32]byte(seed), compute.Options{Kind: compute.EngineInterpreter})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// waitVotes follows a round until it has n votes or is closed.
func waitVotes(t *testing.T, ctx context.Context, sub workload.Submitter, id string, n int) *lightkeeperv1.Round {
	t.Helper()
	for {
		res, err := sub.Rounds.GetRound(ctx, connect.NewRequest(&lightkeeperv1.GetRoundRequest{RoundId: id}))
		if err != nil {
			t.Fatal(err)
		}
		r := res.Msg.GetRound()
		if len(r.GetVotes()) >= n || r.GetPhase() == lightkeeperv1.RoundPhase_ROUND_PHASE_CLOSED {
			return r
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("round %s: %d votes when the test gave up", id, len(r.GetVotes()))
		}
	}
}

// TestComputeHonestCommittees runs every example job through committees
// of three honest keepers — one on wazero's compiler, two on its
// interpreter — and checks that they all agree, byte for byte, with each
// other and with a local run: the decided result, the leader's output, the
// out-of-fuel trap of the program that loops forever (REJECTED, not
// TIMEOUT), and the sandbox program's clock and randomness.
func TestComputeHonestCommittees(t *testing.T) {
	mods := exampleModules(t)
	n := startComputeNet(t, []keeper.NativeEngine{
		{ComputeKind: compute.EngineCompiler}, {ComputeKind: compute.EngineInterpreter}, {ComputeKind: compute.EngineInterpreter},
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	jobs := workload.ComputeJobs()
	rounds := make([]*lightkeeperv1.Round, len(jobs))
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _, err := n.sub.RegisterProgram(ctx, mods[j.Program])
			if err != nil {
				errs[i] = err
				return
			}
			r, err := n.sub.SubmitCompute(ctx, p.GetId(), j.Input, j.Fuel, "honest")
			if err != nil {
				errs[i] = err
				return
			}
			rounds[i], errs[i] = n.sub.WaitResult(ctx, r.GetId(), 10*time.Second)
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			t.Fatalf("%s: %v", j.Name, errs[i])
		}
		r := waitVotes(t, ctx, n.sub, rounds[i].GetId(), 3)
		if !j.Matches(r) {
			t.Errorf("%s: %s, result %v, want %s", j.Name, r.GetOutcome(), r.GetResult(), j.Want)
			continue
		}
		want := localResult(t, mods[j.Program], r.GetId(), j.Input, j.Fuel)
		wh := compute.ResultHash(want)
		if !bytes.Equal(r.GetResultHash(), wh[:]) {
			t.Errorf("%s: decided %x, local run %x (%v)", j.Name, r.GetResultHash(), wh, want)
		}
		if !bytes.Equal(r.GetResult().GetOutput(), want.Output) || !state.OutputKnown(r.GetResult()) {
			t.Errorf("%s: round output %q, local %q", j.Name, r.GetResult().GetOutput(), want.Output)
		}
		if len(r.GetVotes()) != 3 {
			t.Errorf("%s: %d votes, want all three keepers", j.Name, len(r.GetVotes()))
		}
		for _, v := range r.GetVotes() {
			if !bytes.Equal(v.GetResultHash(), wh[:]) {
				t.Errorf("%s: keeper %s voted %v %x, want %x", j.Name, v.GetKeeperId()[:8], v.GetKind(), v.GetResultHash(), wh)
			}
		}
		if j.Program == "sandbox" {
			t.Logf("sandbox output, the same on all three keepers and engines:\n%s", r.GetResult().GetOutput())
		}
	}
	// Every keeper agreed with every decided result.
	for _, k := range n.d.Node.Keepers() {
		if k.GetVotesIncorrect() != 0 || k.GetVotesCorrect() < uint64(len(jobs)) {
			t.Errorf("keeper %s: %d correct, %d incorrect", k.GetId()[:8], k.GetVotesCorrect(), k.GetVotesIncorrect())
		}
	}
	t.Run("registration refusals", func(t *testing.T) { computeRefusals(t, n, mods) })
	t.Run("cli", func(t *testing.T) { computeCLI(t, n, mods) })
}

// TestComputeByzantineOutvoted: a keeper that runs jobs but reports a
// forged output sits on every committee; the two honest keepers outvote
// it, the round decides the honest result, and the forger is judged
// incorrect, loses reputation and is slashed.
func TestComputeByzantineOutvoted(t *testing.T) {
	mods := exampleModules(t)
	interp := keeper.NativeEngine{ComputeKind: compute.EngineInterpreter}
	n := startComputeNet(t, []keeper.NativeEngine{interp, interp, interp},
		[]byzantine.Strategy{byzantine.Honest, byzantine.Honest, byzantine.WrongOutput})
	byz := hex.EncodeToString(n.d.Keys[2].Public().(ed25519.PublicKey))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, _, err := n.sub.RegisterProgram(ctx, mods["primes"])
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range []string{"100", "1000", "-1"} {
		r, err := n.sub.SubmitCompute(ctx, p.GetId(), []byte(in), 100_000_000, fmt.Sprint("byz", i))
		if err != nil {
			t.Fatal(err)
		}
		r = waitVotes(t, ctx, n.sub, r.GetId(), 3)
		want := localResult(t, mods["primes"], r.GetId(), []byte(in), 100_000_000)
		wh := compute.ResultHash(want)
		if r.GetOutcome() != lightkeeperv1.Outcome_OUTCOME_APPROVED || !bytes.Equal(r.GetResultHash(), wh[:]) {
			t.Fatalf("primes %s: %v with %x, want APPROVED with the honest result %x", in, r.GetOutcome(), r.GetResultHash(), wh)
		}
		for _, v := range r.GetVotes() {
			if (v.GetKeeperId() == byz) == bytes.Equal(v.GetResultHash(), wh[:]) {
				t.Errorf("primes %s: keeper %s voted %x", in, v.GetKeeperId()[:8], v.GetResultHash())
			}
		}
	}
	var k *lightkeeperv1.Keeper
	for _, x := range n.d.Node.Keepers() {
		if x.GetId() == byz {
			k = x
		}
	}
	if k.GetVotesIncorrect() != 3 || k.GetReputation() >= 1000 || k.GetSlashedTotal() == 0 {
		t.Fatalf("forger: %d incorrect votes, reputation %d, slashed %d; want 3, < 1000, > 0",
			k.GetVotesIncorrect(), k.GetReputation(), k.GetSlashedTotal())
	}
}

// computeRefusals: the API refuses what must not be registered or run,
// naming the reason.
func computeRefusals(t *testing.T, n *computeNet, mods map[string][]byte) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	importing := assemble(section(1, 1, 0x60, 0, 0), section(2, append([]byte{1, 3}, append([]byte("env"), 1, 'f', 0, 0)...)...))
	noMemory := assemble(section(1, 1, 0x60, 0, 0), section(3, 1, 0), section(7, append([]byte{1, 6}, append([]byte("_start"), 0, 0)...)...),
		section(10, 1, 2, 0, 0x0b))
	for _, tc := range []struct {
		name   string
		module []byte
		want   string
	}{
		{"not wasm", []byte("#!/bin/sh\necho hello\n"), "invalid module"},
		{"truncated", mods["primes"][:1000], "invalid module"},
		{"import outside WASI", importing, "import outside the deterministic WASI subset"},
		{"no memory", noMemory, "memory"},
		{"over the size limit", append(bytes.Clone(mods["primes"]), make([]byte, 8<<20)...), "too large"},
	} {
		_, _, err := n.sub.RegisterProgram(ctx, tc.module)
		if connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want InvalidArgument naming %q", tc.name, err, tc.want)
		}
	}
	var ce *connect.Error
	_, err := n.sub.SubmitCompute(ctx, strings.Repeat("ab", 32), nil, 1000, "unknown")
	if !errors.As(err, &ce) || ce.Code() != connect.CodeNotFound || !strings.Contains(err.Error(), "unknown program") {
		t.Errorf("unknown program: %v, want NotFound", err)
	}
	p, _, err := n.sub.RegisterProgram(ctx, mods["spin"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.sub.SubmitCompute(ctx, p.GetId(), nil, 1<<41, "much"); connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "compute.fuel") {
		t.Errorf("fuel over max_fuel: %v, want InvalidArgument", err)
	}
	if _, err := n.sub.SubmitCompute(ctx, p.GetId(), make([]byte, 2<<20), 1000, "big"); connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "compute.input") {
		t.Errorf("input over max_input_bytes: %v, want InvalidArgument", err)
	}
	res, err := n.sub.Programs.GetProgram(ctx, connect.NewRequest(&lightkeeperv1.GetProgramRequest{ProgramId: p.GetId(), IncludeModule: true}))
	if err != nil || !bytes.Equal(res.Msg.GetProgram().GetModule(), mods["spin"]) {
		t.Errorf("GetProgram: %v", err)
	}
	if _, created, err := n.sub.RegisterProgram(ctx, mods["spin"]); err != nil || created {
		t.Errorf("registering again: created %v, %v; want the same program, not created", created, err)
	}
}

// assemble assembles a module from sections.
func assemble(sections ...[]byte) []byte {
	return bytes.Join(append([][]byte{[]byte("\x00asm\x01\x00\x00\x00")}, sections...), nil)
}

func section(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }

// computeCLI: `lightkeeper program register` and `submit compute --json`.
func computeCLI(t *testing.T, n *computeNet, mods map[string][]byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	wasm := filepath.Join(dir, "sha256sum.wasm")
	input := filepath.Join(dir, "input.txt")
	if err := os.WriteFile(wasm, mods["sha256sum"], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(input, []byte("from the command line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, ctx, "program", "register", wasm, "--coordinator", n.d.URL, "--json")
	var prog map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &prog) != nil || len(prog["program_id"].(string)) != 64 {
		t.Fatalf("program register: exit %d, %q, %q", code, out, errOut)
	}
	out, errOut, code = run(t, ctx, "submit", "compute", "--coordinator", n.d.URL, "--program", wasm, "--input", input,
		"--fuel", "100000000", "--wait", "--json")
	var m map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("submit compute: exit %d, %q, %q", code, out, errOut)
	}
	output, _ := base64.StdEncoding.DecodeString(fmt.Sprint(m["output"]))
	want := localResult(t, mods["sha256sum"], m["round_id"].(string), []byte("from the command line\n"), 100_000_000)
	oh := compute.OutputHash(want.Output)
	if m["outcome"] != "APPROVED" || m["output_hash"] != hex.EncodeToString(oh[:]) || !bytes.Equal(output, want.Output) ||
		m["fuel_used"] != float64(want.FuelUsed) || m["program_id"] != prog["program_id"] {
		t.Fatalf("submit compute --json = %v; want APPROVED with output %q (fuel %d)", m, want.Output, want.FuelUsed)
	}
	// By id, and `round get` shows the output.
	out, errOut, code = run(t, ctx, "submit", "compute", "--coordinator", n.d.URL, "--program", prog["program_id"].(string),
		"--input", input, "--fuel", "100000000", "--wait")
	if code != 0 || !strings.Contains(out, strings.TrimSpace(string(want.Output))) {
		t.Fatalf("submit compute by id: exit %d, %q, %q", code, out, errOut)
	}
	out, _, code = run(t, ctx, "round", "get", m["round_id"].(string), "--coordinator", n.d.URL)
	if code != 0 || !strings.Contains(out, strings.TrimSpace(string(want.Output))) || !strings.Contains(out, "fuel used") {
		t.Fatalf("round get: exit %d:\n%s", code, out)
	}
	if _, _, code = run(t, ctx, "verify-cert", m["round_id"].(string), "--coordinator", n.d.URL); code != 0 {
		t.Fatal("verify-cert of a compute round failed")
	}
	bad := filepath.Join(dir, "bad.wasm")
	if err := os.WriteFile(bad, []byte("not a module"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = run(t, ctx, "program", "register", bad, "--coordinator", n.d.URL); code == 0 || !strings.Contains(errOut, "invalid module") {
		t.Fatalf("registering garbage: exit %d, %q", code, errOut)
	}
	if _, errOut, code = run(t, ctx, "submit", "compute", "--coordinator", n.d.URL, "--program", wasm); code != 2 || !strings.Contains(errOut, "--fuel") {
		t.Fatalf("submit compute without --fuel: exit %d, %q", code, errOut)
	}
}
