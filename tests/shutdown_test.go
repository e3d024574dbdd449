package tests

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// uleb appends v as unsigned LEB128.
func uleb(b []byte, v int) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// heavyProgram is a wasip1 command that registration accepts but that is
// as expensive to compile as the compile limits allow: n functions of
// 1,000 nested loops (the deepest accepted; 16 of them is the whole
// nesting-work budget). Loops, not blocks: metering checks the fuel at
// every loop header, so each level gets its own branch to compile, where
// nested blocks are paid in one segment with nothing to check.
func heavyProgram(n int) []byte {
	const depth = 1000
	sec := func(out []byte, id byte, body []byte) []byte {
		return append(uleb(append(out, id), len(body)), body...)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = sec(m, 1, []byte{1, 0x60, 0, 0}) // one type: [] -> []
	fn := uleb(nil, n+1)
	for range n + 1 {
		fn = append(fn, 0)
	}
	m = sec(m, 3, fn)
	m = sec(m, 5, []byte{1, 0, 1}) // one page
	exp := []byte{2, 6}
	exp = append(exp, "memory"...)
	exp = append(exp, 2, 0, 6)
	exp = append(exp, "_start"...)
	exp = uleb(append(exp, 0), n) // _start is the last function
	m = sec(m, 7, exp)
	var body []byte
	body = append(body, 0) // no locals
	for range depth {
		body = append(body, 0x03, 0x40) // loop, empty block type
	}
	for range depth + 1 {
		body = append(body, 0x0b)
	}
	code := uleb(nil, n+1)
	for range n {
		code = append(uleb(code, len(body)), body...)
	}
	code = append(code, 2, 0, 0x0b) // _start: end
	return sec(m, 10, code)
}

// cpuTime is the CPU time the process has used so far (Linux).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// TestShutdownWhileCompiling: a devnet whose keepers are compiling heavy
// (accepted) programs stops within seconds of SIGTERM (issue #9, finding
// 7: it used to stay at 190% CPU for 20 minutes).
func TestShutdownWhileCompiling(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to see the keepers compile")
	}
	dir := t.TempDir()
	cmd := exec.Command(binary, "devnet", "--listen", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--keepers", "10", "--log-level", "warn")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "devnet ready: "); ok {
				u, _, _ := strings.Cut(l, " ")
				urls <- u
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	var url string
	select {
	case url = <-urls:
	case err := <-exited:
		t.Fatalf("devnet exited before it was ready: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("devnet not ready in 60s\n%s", stderr.String())
	}

	// Three programs, so that three compiles compete for the cores: far
	// more than the 15 s the test allows, if shutdown waited for them.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, n := range []int{16, 15, 14} {
		file := filepath.Join(dir, fmt.Sprintf("heavy%d.wasm", i))
		if err := os.WriteFile(file, heavyProgram(n), 0o644); err != nil {
			t.Fatal(err)
		}
		if o, e, code := run(t, ctx, "program", "register", file, "--coordinator", url); code != 0 {
			t.Fatalf("program register: exit %d, %s %s", code, o, e)
		}
		if o, e, code := run(t, ctx, "submit", "compute", "--coordinator", url, "--program", file, "--fuel", "1000000"); code != 0 {
			t.Fatalf("submit compute: exit %d, %s %s", code, o, e)
		}
	}
	// Wait until the keepers are busy compiling: the process burns CPU.
	// Half a second of it, then SIGTERM at once: with tiering (first runs
	// on the interpreter, one background compile at a time) and the
	// compile limits, these compiles now take about 1.5 CPU-seconds in
	// all, spent within 2-4 s of the submissions, so a later or larger
	// mark would find them done.
	before, deadline := cpuTime(cmd.Process.Pid), time.Now().Add(30*time.Second)
	for cpuTime(cmd.Process.Pid)-before < time.Second/2 {
		if time.Now().After(deadline) {
			t.Fatal("the devnet's keepers did not start compiling in 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		t.Logf("devnet exited %v after SIGTERM (%v)", time.Since(sent).Round(time.Millisecond), err)
	case <-time.After(15 * time.Second):
		t.Fatalf("devnet still running 15s after SIGTERM\n%s", stderr.String())
	}
}
