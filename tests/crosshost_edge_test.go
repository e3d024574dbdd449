//go:build edge

package tests

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCrossHostEdge runs the cross-host job list in npm's workerd: the js
// keeper (the extension's keeper.wasm, on the same Go compute code as the
// edge worker) inside a worker (tests/browser/crosshost-worker.mjs), on
// every compute engine workerd allows, compared byte for byte with native
// wazero, compiler and interpreter (crosshost_test.go; the wasip1 keeper
// module's leg runs in TestCrossHostBrowser only). workerd refuses
// to compile WebAssembly at run time, so the platform engine is expected
// to be refused there, with workerd's own message, and the interpreter to
// run every job; if a workerd ever allows it, its results are compared
// too. The timing table goes to test-artifacts/crosshost-workerd.txt.
func TestCrossHostEdge(t *testing.T) {
	ext := requireEnvDir(t, "LIGHTKEEPER_BROWSER_EXT", "test-edge")
	workerd := npmBin(t, "workerd")

	// The worker's directory: its config and modules beside the keeper.
	dir := t.TempDir()
	for _, f := range []struct{ from, to string }{
		{filepath.Join("browser", "crosshost-workerd.capnp"), "crosshost-workerd.capnp"},
		{filepath.Join("browser", "crosshost-worker.mjs"), "crosshost-worker.mjs"},
		{filepath.Join("browser", "crosshost-harness.mjs"), "crosshost-harness.mjs"},
		{filepath.Join(ext, "keeper.wasm"), "keeper.wasm"},
		{filepath.Join(ext, "wasm_exec.js"), "wasm_exec.js"},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sock, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	workerURL := "http://" + ln.Addr().String()
	ln.Close() // sock is a duplicate that stays open for workerd
	cmd := exec.Command(workerd, "serve", filepath.Join(dir, "crosshost-workerd.capnp"), "--socket-fd", "http=3")
	cmd.ExtraFiles = []*os.File{sock}
	exited, out := runWorkerd(t, cmd)

	rep := runCrossHost(t, "workerd", false, http.NewServeMux(), func(base string) crossReport {
		client := &http.Client{Timeout: 10 * time.Minute}
		var res *http.Response
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			res, err = client.Get(workerURL + "/run?base=" + url.QueryEscape(base))
			if err == nil {
				break
			}
			select {
			case <-exited:
				t.Fatalf("workerd exited:\n%s", out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("workerd does not answer: %v", err)
			}
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var rep crossReport
		if err := json.Unmarshal(b, &rep); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("worker answered %d: %.2000s (%v)", res.StatusCode, b, err)
		}
		return rep
	})
	// What workerd says about compiling at run time is the reason the edge
	// worker keeps the interpreter (wasmclient/edge/main.go).
	if rep.Engines.Platform != "" {
		if !strings.Contains(rep.Engines.Platform, "disallowed") {
			t.Errorf("workerd refused the platform engine for an unexpected reason: %s", rep.Engines.Platform)
		}
		if rep.Engines.Default != "interpreter" {
			t.Errorf("default compute engine in workerd is %q, want interpreter", rep.Engines.Default)
		}
	}
	if rep.Engines.Interpreter != "" {
		t.Errorf("workerd refused the interpreter: %s", rep.Engines.Interpreter)
	}
}
