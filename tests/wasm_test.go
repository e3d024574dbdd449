package tests

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lightkeeper-net/lightkeeper/coordinator/config"
	"github.com/lightkeeper-net/lightkeeper/internal/devnet"
	"github.com/lightkeeper-net/lightkeeper/internal/setup"
	"github.com/lightkeeper-net/lightkeeper/internal/workload"
	"github.com/lightkeeper-net/lightkeeper/keeper"
	lightkeeperv1 "github.com/lightkeeper-net/lightkeeper/proto/lightkeeper/v1"
	wasmhost "github.com/lightkeeper-net/lightkeeper/wasmclient/host"
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
	cfg := config.Default()
	cfg.Consensus.VerificationTimeout = 20
	for _, c := range []struct {
		name string
		byz  []keeper.Strategy
	}{
		{"honest", nil},
		{"approve-all", []keeper.Strategy{keeper.ApproveAll, keeper.ApproveAll, keeper.ApproveAll}},
		{"reject-all", []keeper.Strategy{keeper.RejectAll, keeper.RejectAll, keeper.RejectAll}},
		{"mixed", []keeper.Strategy{keeper.Random, keeper.Silent, keeper.Equivocate}},
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
			d := startDevnet(t, devnet.Options{Keepers: 10, Byzantine: c.byz, Config: &cfg, WasmKeepers: 10, WasmEngine: eng})
			outs := runAll(t, d.URL, allItems(t))
			checkOutcomes(t, outs)
			checkCertificates(t, d.URL, outs)

			// Honest keepers and equivocators check every task they get,
			// including those of rounds decided before their turn came.
			checkers, rounds := 10, 0
			for _, st := range c.byz {
				if st != keeper.Equivocate {
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
	cfg := config.Default()
	cfg.Consensus.VerificationTimeout = int64(timeout)
	d, err := devnet.Start(ctx, devnet.Options{Keepers: n, ExtraGenesisKeepers: extra, Config: &cfg})
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
