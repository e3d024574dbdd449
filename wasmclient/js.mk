# The GOOS=js keeper hosts: the browser extension and the edge worker, and
# their tests with real runtimes (Debian's Chromium through playwright-core,
# npm's workerd). Included by the top-level Makefile:
#
#	include wasmclient/js.mk
#
# Every output goes to dist/ (ignored by git). It hooks `make wasm` (so
# `make test`) to type-check the js keeper.

# This file defines targets; keep the including Makefile's default goal.
js_mk_default_goal := $(.DEFAULT_GOAL)

GO           ?= go
DIST         ?= dist
EXT_DIR      := $(DIST)/browser-ext
EXT_ZIP      := $(DIST)/lightkeeper-browser-ext.zip
EDGE_DIR     := $(DIST)/edge-worker
JS_VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
JS_LDFLAGS   := -s -w -X main.version=$(JS_VERSION)
NPM_DIR      := tests/browser
NPM_STAMP    := $(NPM_DIR)/node_modules/.package-lock.json
EXT_SOURCES  := manifest.json background.js common.js offscreen.html offscreen.js keeper-worker.js \
                popup.html popup.js options.html options.js style.css
# Tests that drive real runtimes take a while; bounded all the same.
JS_TEST_TIMEOUT ?= 15m

.PHONY: browser-ext edge-worker test-browser test-edge test-js-compute js-deps js-vet

# `make wasm` (part of `make test`) also type-checks the js keeper, so a
# change in keeper/ or verifier/ that breaks it fails fast, without npm or
# a browser.
wasm: js-vet
js-vet:
	GOOS=js GOARCH=wasm $(GO) vet ./wasmclient/js ./keeper ./verifier/compute

# browser-ext: an unpacked extension in dist/browser-ext (load it with
# chrome://extensions → "Load unpacked") and the same files zipped.
browser-ext:
	rm -rf $(EXT_DIR) $(EXT_ZIP)
	mkdir -p $(EXT_DIR)
	cp $(addprefix browser-ext/,$(EXT_SOURCES)) $(EXT_DIR)/
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(EXT_DIR)/
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="$(JS_LDFLAGS)" -o $(EXT_DIR)/keeper.wasm ./wasmclient/js
	$(GO) run wasmclient/js/zipdir.go $(EXT_DIR) $(EXT_ZIP)
	@ls -l $(EXT_DIR)/keeper.wasm $(EXT_ZIP)

# edge-worker: the worker's files in dist/edge-worker (worker.mjs,
# runtime.mjs, wasm_exec.js from github.com/syumai/workers, and app.wasm),
# with a workerd config to run it locally (wasmclient/edge/README.md).
edge-worker:
	$(GO) run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o $(abspath $(EDGE_DIR))
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="$(JS_LDFLAGS)" -o $(abspath $(EDGE_DIR))/app.wasm ./wasmclient/edge
	cp wasmclient/edge/workerd.capnp wasmclient/edge/cron-trigger.mjs $(EDGE_DIR)/
	GOOS=js GOARCH=wasm $(GO) vet ./wasmclient/edge
	@ls -l $(EDGE_DIR)/app.wasm

# js-deps: playwright-core and workerd at the exact versions of
# package.json and package-lock.json. npm install rather than npm ci: the
# registry reached here has only the Linux builds of workerd's platform
# packages, so the lock cannot list the others and npm ci refuses it.
js-deps: $(NPM_STAMP)
$(NPM_STAMP): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm install --no-audit --no-fund && touch node_modules/.package-lock.json

# test-js-compute: verifier/compute's platform engine (compute jobs on the
# JavaScript host's own WebAssembly engine) against wazero's interpreter,
# in Node's V8 (go_js_wasm_exec; the jsengine_js_test.go tests).
test-js-compute:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" -run '^TestPlatform' ./verifier/compute/

# test-browser: headless Chromium loads dist/browser-ext; the extension
# keeps a genesis key and votes beside native keepers; then the time to
# verify each scheme × curve in Chromium against native, in one run
# (tests/browser_test.go; tables in test-artifacts/); then the same
# compute jobs in Chromium (V8 and the interpreter), natively and in the
# wasip1 module, compared byte for byte and timed
# (tests/crosshost_browser_test.go). LIGHTKEEPER_COMPUTE_BENCH=full adds
# the full-size compute timings on V8.
test-browser: browser-ext js-deps test-js-compute
	LIGHTKEEPER_BROWSER_EXT=$(abspath $(EXT_DIR)) $(GO) test -tags browser -count=1 -timeout $(JS_TEST_TIMEOUT) -run '^(TestBrowserExtension|TestBrowserVerifyBench|TestCrossHostBrowser)$$' -v ./tests/

# test-edge: npm's workerd runs dist/edge-worker, the test fires its
# scheduled event, and its votes must show in certificates; and
# keeper.Poll, what the worker calls, natively (tests/edge_test.go); then
# the compute jobs in workerd (the js keeper of dist/browser-ext in a test
# worker: every engine workerd allows, i.e. the interpreter) against
# native, byte for byte (tests/crosshost_edge_test.go).
test-edge: edge-worker browser-ext js-deps
	LIGHTKEEPER_EDGE_WORKER=$(abspath $(EDGE_DIR)) LIGHTKEEPER_BROWSER_EXT=$(abspath $(EXT_DIR)) $(GO) test -tags edge -count=1 -timeout $(JS_TEST_TIMEOUT) -run '^(TestEdgeWorker|TestPollOnce|TestCrossHostEdge)$$' -v ./tests/

.DEFAULT_GOAL := $(js_mk_default_goal)
