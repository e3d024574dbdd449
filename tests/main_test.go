package tests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary is the lightkeeper command, built once for the tests that need a
// real process (kill -9, the CLI's exit codes).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lightkeeper-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "lightkeeper")
	build := exec.Command("go", "build", "-o", binary, "github.com/lightkeeper-net/lightkeeper/cmd/lightkeeper")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building lightkeeper:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running lightkeeper command.
type process struct {
	cmd    *exec.Cmd
	output *strings.Builder
	done   chan struct{}
}

// startCoordinator starts `lightkeeper coordinator` and returns once it
// prints its URL.
func startCoordinator(t *testing.T, args ...string) (*process, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"coordinator", "--log-level", "warn"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, output: new(strings.Builder), done: make(chan struct{})}
	cmd.Stderr = p.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	urls := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "coordinator listening on "); ok {
				urls <- u
			}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
	}()
	select {
	case u := <-urls:
		return p, u
	case <-p.done:
		t.Fatalf("coordinator exited before serving:\n%s", p.output)
	case <-time.After(30 * time.Second):
		t.Fatalf("coordinator did not start in 30s:\n%s", p.output)
	}
	return nil, ""
}

// kill sends SIGKILL: no shutdown code runs, as in a crash.
func (p *process) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
	<-p.done
}

// run runs the lightkeeper command and returns its stdout, stderr and exit
// code.
func run(t *testing.T, ctx context.Context, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}
