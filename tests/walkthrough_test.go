package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README's walkthrough of a replicated chain ("A replicated chain
// (CometBFT)"), command for command as the README writes them: /tmp/lk-net
// stands for the data directory, $R0, $R2, $PID0 and $ROUND for what the
// earlier steps printed.
var walkthrough = struct {
	devnet, submit, kill, roundGet, verifyCert, restart, compare string
}{
	devnet:     "lightkeeper devnet --replicas 4 --data /tmp/lk-net",
	submit:     "lightkeeper submit proof --coordinator $R0 --format snarkjs --vk verifier/snarkjs/testdata/mul_vk.json --proof verifier/snarkjs/testdata/mul_proof.json --public verifier/snarkjs/testdata/mul_public.json --wait --json",
	kill:       "kill -9 $PID0",
	roundGet:   "lightkeeper round get $ROUND --coordinator $R2",
	verifyCert: "lightkeeper verify-cert $ROUND --coordinator $R2",
	restart:    "lightkeeper node --home /tmp/lk-net/replica-0",
	compare:    "lightkeeper query chain --coordinator $R0,$R2",
}

var replicaLine = regexp.MustCompile(`^  replica (\d+)  api (\S+)  pid (\d+)  home (\S+)  log (\S+)$`)

// TestREADMEWalkthrough runs the README's replicated walkthrough through
// the built binary, in the README's order, and checks each step's
// outcome: 4 replicas start; a proof submitted through replica 0 is
// APPROVED; replica 0 is killed with SIGKILL; replica 2 serves the round
// and a certificate that verifies; replica 0 restarted from its home
// rejoins, and the two report one height with one app hash.
func TestREADMEWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 4 replica processes")
	}
	begin := time.Now()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rest := string(readme)
	for _, step := range []string{walkthrough.devnet, walkthrough.submit, walkthrough.kill, walkthrough.roundGet, walkthrough.verifyCert, walkthrough.restart, walkthrough.compare} {
		i := strings.Index(rest, step)
		if i < 0 {
			t.Fatalf("the README's walkthrough no longer has, after the steps before it:\n  %s\n(update the README and this test together)", step)
		}
		rest = rest[i+len(step):]
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "lk-net")
	vars := map[string]string{"/tmp/lk-net": dir}
	expand := func(line string) []string {
		for k, v := range vars {
			line = strings.ReplaceAll(line, k, v)
		}
		f := strings.Fields(line)
		if f[0] == "lightkeeper" {
			f[0] = binary
		}
		return f
	}
	// run runs one step at the repository root (the README's fixture paths
	// are relative to it).
	run := func(line string) (stdout string, code int) {
		t.Helper()
		f := expand(line)
		cmd := exec.CommandContext(ctx, f[0], f[1:]...)
		cmd.Dir = ".."
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if code != 0 {
			t.Logf("%s: exit %d\n%s%s", line, code, out.String(), errOut.String())
		}
		return out.String(), code
	}
	// retry runs a step until ok accepts its output: a replica answers from
	// its own committed blocks, which may trail another's for a moment.
	retry := func(line string, within time.Duration, ok func(stdout string) bool) string {
		t.Helper()
		for deadline := time.Now().Add(within); ; time.Sleep(200 * time.Millisecond) {
			out, code := run(line)
			if code == 0 && ok(out) {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: exit %d, output:\n%s", line, code, out)
			}
		}
	}
	// startLong starts a step that keeps running; its stdout lines arrive
	// on the channel, its stderr goes to logPath.
	startLong := func(line, logPath string) (*exec.Cmd, <-chan string) {
		t.Helper()
		f := expand(line)
		cmd := exec.Command(f[0], f[1:]...)
		cmd.Dir = ".."
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = logf
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 64)
		go func() {
			defer close(lines)
			defer logf.Close()
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		t.Cleanup(func() {
			// Ctrl-C: the devnet stops its replicas and keepers.
			cmd.Process.Signal(syscall.SIGINT)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("%s did not stop within 30 s of SIGINT", line)
			}
		})
		return cmd, lines
	}
	next := func(lines <-chan string, what string, within time.Duration) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the command ended before printing %s", what)
			}
			return l
		case <-time.After(within):
			t.Fatalf("no %s within %v", what, within)
		}
		return ""
	}

	// 1. The devnet: one line per replica, then how to restart and compare.
	_, devOut := startLong(walkthrough.devnet, filepath.Join(t.TempDir(), "devnet.log"))
	if l := next(devOut, "the ready line", 90*time.Second); !strings.HasPrefix(l, "replicated devnet ready: ") {
		t.Fatalf("devnet printed %q", l)
	}
	apis, pids := map[string]string{}, map[string]string{}
	for range 4 {
		l := next(devOut, "a replica line", 5*time.Second)
		m := replicaLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("replica line %q", l)
		}
		if want := filepath.Join(dir, "replica-"+m[1]); m[4] != want || m[5] != want+".log" {
			t.Fatalf("replica %s: home %s log %s, want %s", m[1], m[4], m[5], want)
		}
		apis[m[1]], pids[m[1]] = m[2], m[3]
	}
	if l := next(devOut, "the restart line", 5*time.Second); !strings.HasSuffix(l, " node --home "+filepath.Join(dir, "replica-N")) {
		t.Fatalf("restart line %q", l)
	}
	vars["$R0"], vars["$R2"], vars["$PID0"] = apis["0"], apis["2"], pids["0"]
	t.Logf("devnet ready in %v", time.Since(begin).Round(time.Millisecond))

	// 2. A proof through replica 0, decided.
	out, code := run(walkthrough.submit)
	var submitted struct {
		RoundID       string `json:"round_id"`
		Outcome       string `json:"outcome"`
		DecidedHeight uint64 `json:"decided_height"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &submitted) != nil || submitted.Outcome != "APPROVED" || len(submitted.RoundID) != 64 {
		t.Fatalf("submit: exit %d, output %s", code, out)
	}
	vars["$ROUND"] = submitted.RoundID

	// 3. Replica 0 crashes.
	if _, code := run(walkthrough.kill); code != 0 {
		t.Fatal("kill failed")
	}
	pid0, _ := strconv.Atoi(pids["0"])
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid0, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("replica 0 (pid %d) still runs 10 s after kill -9", pid0)
		}
	}

	// 4. The round and its certificate from replica 2.
	retry(walkthrough.roundGet, 10*time.Second, func(s string) bool {
		return strings.Contains(s, submitted.RoundID) && strings.Contains(s, "outcome   APPROVED")
	})
	retry(walkthrough.verifyCert, 10*time.Second, func(s string) bool {
		return strings.HasPrefix(s, "certificate OK: round "+submitted.RoundID+" APPROVED")
	})

	// 5. Replica 0 back from its home.
	_, nodeOut := startLong(walkthrough.restart, filepath.Join(dir, "replica-0.log"))
	if l := next(nodeOut, "the node's running line", 60*time.Second); !strings.HasPrefix(l, "replica replica-0 running (height ") || !strings.HasSuffix(l, "API "+apis["0"]) {
		t.Fatalf("restarted replica printed %q", l)
	}

	// 6. Replicas 0 and 2 at one height with one app hash, past the round.
	heightRE := regexp.MustCompile(`(?m)^all 2 at height (\d+) with the same app hash$`)
	out = retry(walkthrough.compare, 30*time.Second, func(s string) bool { return heightRE.MatchString(s) })
	h, _ := strconv.ParseUint(heightRE.FindStringSubmatch(out)[1], 10, 64)
	if h < submitted.DecidedHeight {
		t.Fatalf("replicas agree at height %d, before the round was decided (%d)", h, submitted.DecidedHeight)
	}
	t.Logf("README walkthrough: round %s APPROVED, read from replica 2 after replica 0's kill -9; replica 0 rejoined at height %d; %v in all",
		submitted.RoundID[:12], h, time.Since(begin).Round(time.Millisecond))
}
