//go:build browser

package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"
	"time"
)

// crossPage is served to Chromium by TestCrossHostBrowser: it loads the
// extension's keeper.wasm and runs the cross-host harness.
const crossPage = `<!doctype html>
<meta charset="utf-8">
<title>lightkeeper compute across hosts</title>
<script src="/wasm_exec.js"></script>
<script type="module">
import { bootKeeper, runSpec } from '/crosshost-harness.mjs';
try {
  const lk = await bootKeeper(fetch('/keeper.wasm'));
  window.benchResult = await runSpec(lk, location.origin, (m) => console.log(m));
} catch (e) {
  window.benchResult = { error: String((e && e.stack) || e) };
}
window.benchDone = true;
</script>
`

// TestCrossHostBrowser runs the cross-host job list in headless Chromium
// with the extension's js keeper, on the platform engine (V8) and on
// wazero's interpreter compiled into the keeper, and compares every
// result hash and fuel count with native wazero and the wasip1 keeper
// module byte for byte (crosshost_test.go). It also times the example
// workloads metered and unmetered on V8 and on the interpreter:
// test-artifacts/crosshost-chromium.txt.
func TestCrossHostBrowser(t *testing.T) {
	ext := requireEnvDir(t, "LIGHTKEEPER_BROWSER_EXT", "test-browser")
	npmBin(t, "playwright-core")
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	mux := http.NewServeMux()
	mux.Handle("GET /keeper.wasm", http.FileServer(http.Dir(ext)))
	mux.Handle("GET /wasm_exec.js", http.FileServer(http.Dir(ext)))
	mux.HandleFunc("GET /crosshost/page.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, crossPage)
	})
	var ua string
	rep := runCrossHost(t, "chromium", true, mux, func(base string) crossReport {
		drv := startDriver(t, "bench.mjs", "--url", base+"/crosshost/page.html", "--chromium", chromium, "--timeout-ms", "600000")
		ev := drv.await("bench", 11*time.Minute)
		json.Unmarshal(ev["userAgent"], &ua)
		drv.await("done", time.Minute)
		var rep crossReport
		if err := json.Unmarshal(ev["result"], &rep); err != nil {
			t.Fatalf("harness result %s: %v", ev["result"], err)
		}
		return rep
	})
	t.Logf("browser: %s", ua)
	// Chromium allows run-time compilation (the extension's CSP has
	// 'wasm-unsafe-eval'), so both engines must have run, and the keeper
	// must pick the platform engine by default.
	if rep.Engines.Platform != "" || rep.Engines.Interpreter != "" {
		t.Errorf("Chromium refused an engine: platform %q, interpreter %q", rep.Engines.Platform, rep.Engines.Interpreter)
	}
	if rep.Engines.Default != "platform" {
		t.Errorf("the js keeper's default compute engine in Chromium is %q, want platform", rep.Engines.Default)
	}
}
