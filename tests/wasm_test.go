package tests

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/devtools/byzantine"
	"github.com/lightkeeper-net/lightkeeper/devtools/devnet"
	"github.com/lightkeeper-net/lightkeeper/devtools/workload"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	"github.com/lightkeeper-net/lightkeeper/protocol"
	"github.com/lightkeeper-net/lightkeeper/verifier/compute"
	wasmhost "github.com/lightkeeper-net/lightkeeper/wasmclient/host"
	"google.golang.org/protobuf/types/known/durationpb"
)

// wasmModule returns the wasip1 keeper module: $LIGHTKEEPER_WASM when set
// (`make test` builds it once for every package), else a fresh build.
func wasmModule(t *testing.T) string {
	t.Helper()
	if f := os.Getenv("LIGHTKEEPER_WASM"); f != "" {
		return f
	}
	f := filepath.Join(t.TempDir(), "keeper-wasip1.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := wasmhost.BuildModule(ctx, f); err != nil {
		t.Fatal(err)
	}
	return f
}

// countingEngine counts the checks that reach the wasm engine, to show
// the keepers' verdicts really came from the module.
type countingEngine struct {
	keeper.Engine
	checks atomic.Int64
}

func (e *countingEngine) Check(ctx context.Context, t *lightkeeperv1.Task) keeper.Verdict {
	e.checks.Add(1)
	return e.Engine.Check(ctx, t)
}

// TestWasmKeepers: ten keepers whose every check runs in the wasip1
// module under wazero (one compiled module, pooled instances) decide
// every valid proof APPROVED and every invalid one REJECTED, on every
// scheme × curve, with all ten honest and with three of them Byzantine.
func TestWasmKeepers(t *testing.T) {
	module := wasmModule(t)
	cache := t.TempDir() // the first subtest compiles, the others load
	// Ten keepers checking ~24 tasks each in wasm (10-15x native's time)
	// on a two-core machine need several seconds for a workload that
	// native keepers finish within the 3 s other tests use.
	cfg := testConfig()
	params := protocol.DefaultParams()
	params.VerificationTimeout = durationpb.New(20 * time.Second)
	for _, c := range []struct {
		name string
		byz  []byzantine.Strategy
	}{
		{"honest", nil},
		{"approve-all", []byzantine.Strategy{byzantine.ApproveAll, byzantine.ApproveAll, byzantine.ApproveAll}},
		{"reject-all", []byzantine.Strategy{byzantine.RejectAll, byzantine.RejectAll, byzantine.RejectAll}},
		{"mixed", []byzantine.Strategy{byzantine.Random, byzantine.Silent, byzantine.Equivocate}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			h, err := wasmhost.Load(ctx, module, wasmhost.NewConfig().WithCompilationCacheDir(cache))
			if err != nil {
				t.Fatal(err)
			}
			// Registered before the devnet's cleanup, so it runs after the
			// keepers have stopped.
			t.Cleanup(func() { h.Close(ctx) })
			eng := &countingEngine{Engine: h.Engine()}
			d := startDevnet(t, devnet.Options{Keepers: 10, Byzantine: c.byz, Config: &cfg, Params: params, WasmKeepers: 10, WasmEngine: eng})
			outs := runAll(t, d.URL, allItems(t))
			checkOutcomes(t, outs)
			checkCertificates(t, d.URL, outs)

			// Honest keepers and equivocators check every task they get,
			// including those of rounds decided before their turn came.
			checkers, rounds := 10, 0
			for _, st := range c.byz {
				if st != byzantine.Equivocate {
					checkers--
				}
			}
			for _, o := range outs {
				if o.err == nil {
					rounds++
				}
			}
			want := int64(checkers * rounds)
			for deadline := time.Now().Add(time.Minute); eng.checks.Load() < want && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			if n := eng.checks.Load(); n < want {
				t.Errorf("%d checks reached the wasm engine, want at least %d (%d rounds × %d checking keepers)", n, want, rounds, checkers)
			}
			if s := h.Stats(); s.Discarded != 0 {
				t.Errorf("wasm instances failed: %+v", s)
			}

			byzantine := map[string]bool{}
			for _, k := range d.Keepers[10-len(c.byz):] {
				byzantine[k.ID()] = true
			}
			for _, k := range d.Node.Keepers() {
				if !byzantine[k.GetId()] && (k.GetVotesIncorrect() != 0 || k.GetVotesCorrect() == 0) {
					t.Errorf("honest wasm keeper %s: %d correct, %d incorrect votes", k.GetId()[:8], k.GetVotesCorrect(), k.GetVotesIncorrect())
				}
			}
		})
	}
}

// TestWasmKeeperCommands runs the two commands that start wasm keepers as
// a user would: `lightkeeper keeper --engine wasm` joining a network, and
// `lightkeeper devnet --wasm-keepers 10`.
func TestWasmKeeperCommands(t *testing.T) {
	module := wasmModule(t)
	cache := t.TempDir()
	var items []workload.Item
	for _, it := range allItems(t) {
		if strings.HasSuffix(it.Name, "/valid") || strings.HasSuffix(it.Name, "/flipped-bit") {
			items = append(items, it)
		}
	}

	t.Run("keeper", func(t *testing.T) {
		// Nine keepers in process, the tenth is the command. One wasm
		// keeper checks 8 tasks well within 3 s, and rounds then close
		// quickly, which settles its votes.
		d := startDevnetWithExtra(t, 9, 1, 3)
		key := filepath.Join(t.TempDir(), "keeper.key")
		if err := setup.WriteKey(key, d.Keys[9]); err != nil {
			t.Fatal(err)
		}
		startWasmProcess(t, "keeper starting", "keeper", "--engine", "wasm", "--wasm", module, "--wasm-cache", cache,
			"--coordinator", d.URL, "--key", key, "--log-level", "info")
		if err := d.WaitOnline(context.Background(), 10, 60*time.Second); err != nil {
			t.Fatal(err)
		}
		outs := runAll(t, d.URL, items)
		checkOutcomes(t, outs)
		waitClosed(t, d.URL, outs)
		id := setup.KeyID(d.Keys[9])
		for _, k := range d.Node.Keepers() {
			if k.GetId() == id && (k.GetVotesCorrect() == 0 || k.GetVotesIncorrect() != 0) {
				t.Errorf("the wasm keeper command cast %d correct and %d incorrect votes", k.GetVotesCorrect(), k.GetVotesIncorrect())
			}
		}
	})

	t.Run("devnet", func(t *testing.T) {
		line := startWasmProcess(t, "devnet ready: ", "devnet", "--listen", "127.0.0.1:0", "--data", t.TempDir(),
			"--keepers", "10", "--wasm-keepers", "10", "--wasm", module, "--wasm-cache", cache, "--log-level", "warn")
		url, _, _ := strings.Cut(strings.TrimPrefix(line, "devnet ready: "), " ")
		if !strings.Contains(line, "10 wasm") {
			t.Errorf("devnet printed %q", line)
		}
		outs := runAll(t, url, items)
		checkOutcomes(t, outs)
		checkCertificates(t, url, outs)
	})

	t.Run("missing module", func(t *testing.T) {
		_, errOut, code := run(t, context.Background(), "devnet", "--listen", "127.0.0.1:0", "--wasm-keepers", "1",
			"--wasm", filepath.Join(t.TempDir(), "none.wasm"))
		if code == 0 || !strings.Contains(errOut, "make wasm-keeper") {
			t.Errorf("exit %d, stderr %q; want a failure saying how to build the module", code, errOut)
		}
	})
}

// startDevnetWithExtra starts n keepers in process with extra more keys in
// genesis, for keepers the test runs itself, and rounds that time out
// after timeout seconds.
func startDevnetWithExtra(t *testing.T, n, extra, timeout int) *devnet.Devnet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := testConfig()
	params := protocol.DefaultParams()
	params.VerificationTimeout = durationpb.New(time.Duration(timeout) * time.Second)
	d, err := devnet.Start(ctx, devnet.Options{Keepers: n, ExtraGenesisKeepers: extra, Config: &cfg, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("devnet close: %v", err)
		}
	})
	return d
}

// startWasmProcess runs the lightkeeper command until the test ends and
// returns the first line of its output (stdout or stderr) that contains
// want. It is stopped with an interrupt, as a user would, so it cleans up.
func startWasmProcess(t *testing.T, want string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // one pipe for both
	var output strings.Builder
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines, done := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			if !found {
				output.WriteString(sc.Text() + "\n")
			}
			if !found && strings.Contains(sc.Text(), want) {
				found = true
				lines <- sc.Text()
			}
		}
		io.Copy(io.Discard, out)
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("%s did not stop within 15s of an interrupt", args[0])
		}
	})
	select {
	case l := <-lines:
		return l
	case <-done:
		t.Fatalf("%s exited before printing %q:\n%s", args[0], want, output.String())
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("%s did not print %q within 2 minutes", args[0], want)
	}
	return ""
}

// TestWasmKeepersCompute: three keepers whose compute jobs run inside the
// wasip1 module, on wazero's interpreter there, hold every seat of the
// compute committees and decide COMPUTE rounds as native keepers do: a
// clean run APPROVED with the program's output, and a job that runs out
// of fuel REJECTED with the out_of_fuel trap. Every keeper votes the
// result of a local native run, and none abstains.
func TestWasmKeepersCompute(t *testing.T) {
	module := wasmModule(t)
	mods := exampleModules(t)
	ctx := context.Background()
	// One instance for the three keepers: it checks and compiles the
	// program once (seconds in the module), then runs the six jobs.
	h, err := wasmhost.Load(ctx, module, wasmhost.NewConfig().WithCompilationCacheDir(t.TempDir()).WithMaxInstances(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) }) // after the devnet's cleanup: the keepers stop first
	eng := &countingEngine{Engine: h.Engine()}
	cfg := testConfig()
	params := protocol.DefaultParams()
	// A round's deadline bounds its compute runs; the interpreter inside
	// wasm is slow and the first run also checks and compiles the program.
	params.VerificationTimeout = durationpb.New(120 * time.Second)
	d := startDevnet(t, devnet.Options{Keepers: 3, Config: &cfg, Params: params, WasmKeepers: 3, WasmEngine: eng})
	sub := workload.NewSubmitter(http.DefaultClient, d.URL)
	wctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	p, _, err := sub.RegisterProgram(wctx, mods["primes"])
	if err != nil {
		t.Fatal(err)
	}
	// One program for both jobs, so the module checks one: primes runs
	// out of fuel in the Go runtime's start-up when given too little.
	jobs := []workload.ComputeJob{
		{Name: "primes/1000", Program: "primes", Input: []byte("1000"), Fuel: 50_000_000, Want: workload.Approved, Output: "primes below 1000: 168, largest 997"},
		{Name: "primes/out-of-fuel", Program: "primes", Input: []byte("1000"), Fuel: 500_000, Want: workload.Rejected, Trap: compute.TrapOutOfFuel},
	}
	rounds := make([]*lightkeeperv1.Round, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := sub.SubmitCompute(wctx, p.GetId(), j.Input, j.Fuel, "wasm-"+j.Name)
			if err != nil {
				errs[i] = err
				return
			}
			rounds[i], errs[i] = sub.WaitResult(wctx, r.GetId(), 10*time.Second)
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			t.Fatalf("%s: %v", j.Name, errs[i])
		}
		r := waitVotes(t, wctx, sub, rounds[i].GetId(), 3)
		if !j.Matches(r) {
			t.Errorf("%s: %s, result %v; want %s", j.Name, r.GetOutcome(), r.GetResult(), j.Want)
			continue
		}
		want := localResult(t, mods[j.Program], r.GetId(), j.Input, j.Fuel)
		wh := compute.ResultHash(want)
		if !bytes.Equal(r.GetResultHash(), wh[:]) || !bytes.Equal(r.GetResult().GetOutput(), want.Output) {
			t.Errorf("%s: decided %x with output %q; a native run gives %x, %q", j.Name, r.GetResultHash(), r.GetResult().GetOutput(), wh, want.Output)
		}
		if len(r.GetVotes()) != 3 {
			t.Errorf("%s: %d votes, want all three keepers'", j.Name, len(r.GetVotes()))
		}
		for _, v := range r.GetVotes() {
			if v.GetKind() == lightkeeperv1.VoteKind_VOTE_KIND_ABSTAIN || !bytes.Equal(v.GetResultHash(), wh[:]) {
				t.Errorf("%s: keeper %s voted %v (%v) %x, want %x", j.Name, v.GetKeeperId()[:8], v.GetKind(), v.GetReason(), v.GetResultHash(), wh)
			}
		}
	}
	if n := eng.checks.Load(); n < int64(3*len(jobs)) {
		t.Errorf("%d checks reached the wasm engine, want %d", n, 3*len(jobs))
	}
	if s := h.Stats(); s.Discarded != 0 {
		t.Errorf("wasm instances failed: %+v", s)
	}
	for _, k := range d.Node.Keepers() {
		if k.GetVotesIncorrect() != 0 {
			t.Errorf("wasm keeper %s: %d incorrect votes", k.GetId()[:8], k.GetVotesIncorrect())
		}
	}
}
