# Lightkeeper. `make demo` shows the system working; `make test` is what CI
# runs (.ci/run installs what it needs first). `make help` lists every
# target. Code generators and buf are pinned in go.mod / tools/go.mod and run
# through `go tool`: nothing to install but Go.

GO          ?= go
BUF         := $(GO) tool -modfile=tools/go.mod buf
BIN         := bin/lightkeeper
FUZZTIME    ?= 20s
# FUZZFLAGS go to every fuzz run. Minimizing each new input for up to 60 s
# (Go's default) starved the slower targets (docs/fuzzing.md); add
# -parallel=1 for one worker per target on a shared machine.
FUZZFLAGS   ?= -fuzzminimizetime=100x
GOTESTFLAGS ?=

# The wasip1 keeper module; `lightkeeper keeper --engine wasm` and
# `lightkeeper devnet --wasm-keepers N` load it from here unless given --wasm.
WASM_KEEPER ?= bin/keeper-wasip1.wasm
# The GOOS=js builds (browser extension, edge worker) go to dist/.
DIST        ?= dist
EXT_DIR     := $(DIST)/browser-ext
EXT_ZIP     := $(DIST)/lightkeeper-browser-ext.zip
EDGE_DIR    := $(DIST)/edge-worker
EDGE_PROOFS_DIR := $(DIST)/edge-worker-proofs
EDGE_BN254_DIR  := $(DIST)/edge-worker-bn254
# Every edge build brings its own HTTP client (the runtime's fetch), so the
# keeper's default net/http client — and with it crypto/tls — stays out.
EDGE_TAGS        := lightkeeper_nohttpclient
EDGE_PROOFS_TAGS := $(EDGE_TAGS) lightkeeper_nocompute
# The BN254-only proofs build: no BLS12-381 backends (verifier/backends.go);
# GROTH16_ONLY=1 leaves PLONK out too. Sizes: docs/benchmarks.md, "Edge bundle".
EDGE_BN254_TAGS  := $(EDGE_PROOFS_TAGS) lightkeeper_nobls12381 $(if $(GROTH16_ONLY),lightkeeper_noplonk)
EXT_SOURCES := manifest.json background.js common.js offscreen.html offscreen.js keeper-worker.js \
               popup.html popup.js options.html options.js style.css
JS_VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
JS_LDFLAGS  := -s -w -X main.version=$(JS_VERSION)
NPM_DIR     := tests/browser
NPM_STAMP   := $(NPM_DIR)/node_modules/.package-lock.json
# Tests that drive real runtimes take a while; bounded all the same.
JS_TEST_TIMEOUT ?= 15m
# The TypeScript client (clients/ts) and its npm packages.
CLIENTS_TS      := clients/ts
CLIENTS_STAMP   := $(CLIENTS_TS)/node_modules/.package-lock.json
CLIENTS_TIMEOUT ?= 15m
# The explorer's page: sources and esbuild in explorer/web, the built
# bundle (committed, embedded in the coordinator) in explorer/dist.
EXPLORER_WEB    := explorer/web
EXPLORER_DIST   := explorer/dist
EXPLORER_STAMP  := $(EXPLORER_WEB)/node_modules/.package-lock.json
EXAMPLES_DIR ?= bin/examples
EXAMPLES     := $(notdir $(patsubst %/,%,$(dir $(wildcard examples/*/main.go))))

.DEFAULT_GOAL := help
.PHONY: help build demo test test-go test-browser test-edge test-js-compute test-clients test-clients-ts unit wasm \
        demo-replicated generate generate-ts checkgenerate checkgenerate-ts lint fmt bench fuzz clean \
        wasm-keeper browser-ext edge-worker edge-worker-proofs edge-worker-bn254 examples js-deps clients-deps wasm-bench wasm-alternatives compute-bench \
        explorer explorer-deps checkexplorer

## help: list the targets
help:
	@echo "Lightkeeper — make targets:"
	@awk -F': ' '/^## /{sub(/^## /,""); printf "  %-16s %s\n", $$1, substr($$0, length($$1)+3)}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------------------
# The two commands of the README

## demo: an embedded coordinator, keepers (3 Byzantine), real proofs, results on screen
demo:
	$(GO) run ./cmd/lightkeeper demo

## demo-replicated: 4 replicas (CometBFT) as separate processes, keepers, real proofs; one replica killed and restarted
demo-replicated:
	$(GO) run ./cmd/lightkeeper demo --replicas 4

## test: everything CI checks: test-go, the tests in Chromium and workerd, the clients in other languages
test: test-go test-browser test-edge test-clients

# ---------------------------------------------------------------------------
# Go: build, generated code, lint, tests

## build: the CLI in bin/lightkeeper
build:
	$(GO) build -o $(BIN) ./cmd/lightkeeper

## test-go: generated code current, lint clean, wasm builds, every Go test
test-go: checkgenerate lint wasm unit

## unit: every Go test incl. end-to-end and the fuzz seed corpora (builds the wasip1 keeper first)
unit: wasm-keeper
	LIGHTKEEPER_WASM=$(abspath $(WASM_KEEPER)) $(GO) test $(GOTESTFLAGS) -count=1 -timeout 20m ./...

## wasm: the verifier and the js keeper build and vet for both WebAssembly targets
wasm:
	GOOS=wasip1 GOARCH=wasm $(GO) build ./verifier/...
	GOOS=js GOARCH=wasm $(GO) build ./verifier/...
	GOOS=js GOARCH=wasm $(GO) vet ./wasmclient/js ./keeper ./verifier/compute

# generate writes into a temporary directory and replaces the committed
# files only when buf succeeded, so a failed generation (no module proxy,
# a bad .proto) never leaves the tree without its generated code.
## generate: regenerate the protobuf and Connect code from proto/
generate:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BUF) generate -o "$$tmp" && \
	test -n "$$(find "$$tmp/proto" -name '*.pb.go' 2>/dev/null)" && \
	find proto -name '*.pb.go' -delete && find proto -name '*.connect.go' -delete && \
	cp -R "$$tmp/proto/." proto/

## checkgenerate: fail when the committed generated code differs from what generate writes
checkgenerate: generate
	@if [ -n "$$(git status --porcelain -- proto)" ]; then \
		echo "generated code is out of date; run 'make generate' and commit:"; \
		git status --porcelain -- proto; exit 1; fi

## lint: gofmt, go vet (also for the wasip1 module) and buf lint
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then \
		echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./wasmclient/wasip1/
	$(BUF) lint

## fmt: gofmt every tracked Go file
fmt:
	gofmt -w $$(git ls-files '*.go')

# docs/fuzzing.md lists the targets and what a run costs.
## fuzz: run each fuzz target for FUZZTIME (the seed corpora already run in unit)
fuzz: wasm-keeper
	@export LIGHTKEEPER_WASM=$(abspath $(WASM_KEEPER)); \
	for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg || exit 1; \
		done; \
	done

## clean: remove bin/ and dist/
clean:
	rm -rf bin $(DIST)

# ---------------------------------------------------------------------------
# Keeper hosts: the wasip1 module, the browser extension, the edge worker

# wasm-keeper always runs go build rather than being a file target: go
# build knows what is stale (an unchanged rebuild takes about a second).
## wasm-keeper: the GOOS=wasip1 keeper module (wasmclient/wasip1) in bin/
wasm-keeper:
	@mkdir -p $(dir $(WASM_KEEPER))
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -o $(WASM_KEEPER) ./wasmclient/wasip1
	@ls -l $(WASM_KEEPER)

## browser-ext: the unpacked Manifest V3 extension in dist/browser-ext, and zipped
browser-ext:
	rm -rf $(EXT_DIR) $(EXT_ZIP)
	mkdir -p $(EXT_DIR)
	cp $(addprefix browser-ext/,$(EXT_SOURCES)) $(EXT_DIR)/
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(EXT_DIR)/
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="$(JS_LDFLAGS)" -o $(EXT_DIR)/keeper.wasm ./wasmclient/js
	$(GO) run wasmclient/js/zipdir.go $(EXT_DIR) $(EXT_ZIP)
	@ls -l $(EXT_DIR)/keeper.wasm $(EXT_ZIP)

## edge-worker: the edge worker (syumai/workers) in dist/edge-worker, with a workerd config
edge-worker:
	$(GO) run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o $(abspath $(EDGE_DIR))
	GOOS=js GOARCH=wasm $(GO) build -tags "$(EDGE_TAGS)" -trimpath -ldflags="$(JS_LDFLAGS)" -o $(abspath $(EDGE_DIR))/app.wasm ./wasmclient/edge
	cp wasmclient/edge/workerd.capnp wasmclient/edge/cron-trigger.mjs $(EDGE_DIR)/
	GOOS=js GOARCH=wasm $(GO) vet -tags "$(EDGE_TAGS)" ./wasmclient/edge
	@ls -l $(EDGE_DIR)/app.wasm

## edge-worker-proofs: the proofs-only edge worker (no compute jobs: abstains on them) in dist/edge-worker-proofs
edge-worker-proofs:
	$(GO) run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o $(abspath $(EDGE_PROOFS_DIR))
	GOOS=js GOARCH=wasm $(GO) build -tags "$(EDGE_PROOFS_TAGS)" -trimpath -ldflags="$(JS_LDFLAGS)" -o $(abspath $(EDGE_PROOFS_DIR))/app.wasm ./wasmclient/edge
	cp wasmclient/edge/workerd.capnp wasmclient/edge/cron-trigger.mjs $(EDGE_PROOFS_DIR)/
	GOOS=js GOARCH=wasm $(GO) vet -tags "$(EDGE_PROOFS_TAGS)" ./wasmclient/edge
	@ls -l $(EDGE_PROOFS_DIR)/app.wasm; echo "gzipped: $$(gzip -c $(EDGE_PROOFS_DIR)/app.wasm | wc -c) bytes"

## edge-worker-bn254: proofs on BN254 only (abstains on BLS12-381 and compute; GROTH16_ONLY=1: on PLONK too) in dist/edge-worker-bn254
edge-worker-bn254:
	$(GO) run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o $(abspath $(EDGE_BN254_DIR))
	GOOS=js GOARCH=wasm $(GO) build -tags "$(EDGE_BN254_TAGS)" -trimpath -ldflags="$(JS_LDFLAGS)" -o $(abspath $(EDGE_BN254_DIR))/app.wasm ./wasmclient/edge
	cp wasmclient/edge/workerd.capnp wasmclient/edge/cron-trigger.mjs $(EDGE_BN254_DIR)/
	GOOS=js GOARCH=wasm $(GO) vet -tags "$(EDGE_BN254_TAGS)" ./wasmclient/edge
	@ls -l $(EDGE_BN254_DIR)/app.wasm; echo "gzipped: $$(gzip -c $(EDGE_BN254_DIR)/app.wasm | wc -c) bytes"

## examples: the example compute programs (GOOS=wasip1) in bin/examples
examples:
	@mkdir -p $(EXAMPLES_DIR)
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $(GO) build -trimpath -o $(EXAMPLES_DIR)/ ./examples/...
	@for e in $(EXAMPLES); do mv -f $(EXAMPLES_DIR)/$$e $(EXAMPLES_DIR)/$$e.wasm; done
	@ls -l $(EXAMPLES_DIR)

# npm install rather than npm ci: the registry reached here has only the
# Linux builds of workerd's platform packages, so the lock cannot list the
# others and npm ci refuses it.
## js-deps: playwright-core and workerd at the versions of tests/browser's lock file
js-deps: $(NPM_STAMP)
$(NPM_STAMP): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	cd $(NPM_DIR) && npm install --no-audit --no-fund && touch node_modules/.package-lock.json

# ---------------------------------------------------------------------------
# Tests in real JavaScript runtimes (Debian's chromium, npm's workerd)

## test-js-compute: compute jobs on V8's own WebAssembly engine vs wazero, in Node
test-js-compute:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" -run '^TestPlatform' ./verifier/compute/

# The extension keeps a genesis key and votes beside native keepers; then
# each scheme × curve timed in Chromium against native; then the compute
# jobs in Chromium (V8 and the interpreter) compared byte for byte with
# native and the wasip1 module. LIGHTKEEPER_COMPUTE_BENCH=full adds the
# full-size compute timings.
# TestExplorer opens the coordinator's explorer against a devnet with a
# lazy keeper (docs/explorer.md); screenshots go to test-artifacts/.
## test-browser: headless Chromium runs the extension keeper, the cross-host compute jobs and the explorer
test-browser: browser-ext js-deps test-js-compute
	LIGHTKEEPER_BROWSER_EXT=$(abspath $(EXT_DIR)) $(GO) test -tags browser -count=1 -timeout $(JS_TEST_TIMEOUT) -run '^(TestBrowserExtension|TestBrowserVerifyBench|TestCrossHostBrowser|TestExplorer)$$' -v ./tests/

# workerd runs dist/edge-worker, the test fires its scheduled event and its
# votes must show in certificates; then the compute jobs in workerd (the
# interpreter: workerd forbids run-time compilation) against native.
## test-edge: npm's workerd runs the edge worker keeper and the cross-host compute jobs
test-edge: edge-worker edge-worker-proofs edge-worker-bn254 browser-ext js-deps
	LIGHTKEEPER_EDGE_WORKER=$(abspath $(EDGE_DIR)) LIGHTKEEPER_EDGE_WORKER_PROOFS=$(abspath $(EDGE_PROOFS_DIR)) LIGHTKEEPER_EDGE_WORKER_BN254=$(abspath $(EDGE_BN254_DIR)) LIGHTKEEPER_BROWSER_EXT=$(abspath $(EXT_DIR)) $(GO) test -tags edge -count=1 -timeout $(JS_TEST_TIMEOUT) -run '^(TestEdgeWorker|TestEdgeWorkerProofsOnly|TestEdgeWorkerBN254|TestPollOnce|TestCrossHostEdge)$$' -v ./tests/

# ---------------------------------------------------------------------------
# Clients in other languages: TypeScript (clients/ts), Python gRPC
# (clients/python), circom/snarkjs material (clients/snarkjs)

# npm ci: the lock file lists every package (no per-platform builds here,
# unlike tests/browser's workerd), so the tree is exactly the lock's.
## clients-deps: the TypeScript client's npm packages, from its lock file
clients-deps: $(CLIENTS_STAMP)
$(CLIENTS_STAMP): $(CLIENTS_TS)/package.json $(CLIENTS_TS)/package-lock.json
	cd $(CLIENTS_TS) && npm ci --no-audit --no-fund && touch node_modules/.package-lock.json

# Like generate: into a temporary directory first, replacing the committed
# code only when protoc-gen-es succeeded.
## generate-ts: regenerate clients/ts/src/gen (protoc-gen-es from clients/ts/node_modules)
generate-ts: clients-deps
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BUF) generate --template buf.gen.ts.yaml -o "$$tmp" && \
	test -d "$$tmp/$(CLIENTS_TS)/src/gen" && \
	rm -rf $(CLIENTS_TS)/src/gen && cp -R "$$tmp/$(CLIENTS_TS)/src/gen" $(CLIENTS_TS)/src/gen

## checkgenerate-ts: fail when the committed TypeScript differs from what generate-ts writes
checkgenerate-ts: generate-ts
	@if [ -n "$$(git status --porcelain -- $(CLIENTS_TS)/src/gen)" ]; then \
		echo "generated TypeScript is out of date; run 'make generate-ts' and commit:"; \
		git status --porcelain -- $(CLIENTS_TS)/src/gen; exit 1; fi

## test-clients-ts: type-check the TypeScript client; the Go<->TypeScript certificate vectors in Node
test-clients-ts: clients-deps
	cd $(CLIENTS_TS) && rm -rf dist && npx tsc -p . && node --test dist/test/

# A devnet on loopback with Byzantine and wasip1 keepers decides
# circom/snarkjs proofs submitted through the API, the CLI, the TypeScript
# client and the Python gRPC client (tests/clients_test.go).
## test-clients: the TypeScript and Python clients and snarkjs proofs against a live devnet
test-clients: checkgenerate-ts checkexplorer test-clients-ts wasm-keeper
	LIGHTKEEPER_TS_BUILT=1 LIGHTKEEPER_WASM=$(abspath $(WASM_KEEPER)) $(GO) test -tags clients -count=1 -timeout $(CLIENTS_TIMEOUT) -run '^TestClientsSnarkjs$$' -v ./tests/

# ---------------------------------------------------------------------------
# The explorer (docs/explorer.md): a page bundled by esbuild from
# explorer/web/src and the TypeScript client's sources. The bundle is
# committed so that building the coordinator needs no npm, and checked
# like generated code.

## explorer-deps: esbuild at the version of explorer/web's lock file
explorer-deps: $(EXPLORER_STAMP)
$(EXPLORER_STAMP): $(EXPLORER_WEB)/package.json $(EXPLORER_WEB)/package-lock.json
	cd $(EXPLORER_WEB) && npm ci --no-audit --no-fund && touch node_modules/.package-lock.json

# esbuild only strips the types: the client's tsc (clients/ts) checks them,
# with a tsconfig esbuild does not read (its "paths" would change how
# esbuild resolves the packages).
## explorer: type-check and rebuild the explorer's page into explorer/dist (commit it)
explorer: clients-deps explorer-deps
	$(CLIENTS_TS)/node_modules/.bin/tsc -p $(EXPLORER_WEB)/tsconfig.check.json
	node $(EXPLORER_WEB)/build.mjs --out $(EXPLORER_DIST)
	@ls -l $(EXPLORER_DIST)

# The build is deterministic (pinned versions, no timestamps, no legal
# comments, no source maps): a rebuild elsewhere must match byte for byte.
## checkexplorer: fail when the committed explorer/dist differs from what explorer builds
checkexplorer: clients-deps explorer-deps
	$(CLIENTS_TS)/node_modules/.bin/tsc -p $(EXPLORER_WEB)/tsconfig.check.json
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	node $(EXPLORER_WEB)/build.mjs --out "$$tmp" && \
	if ! diff -r $(EXPLORER_DIST) "$$tmp" >/dev/null; then \
		echo "explorer/dist is out of date; run 'make explorer' and commit:"; \
		diff -rq $(EXPLORER_DIST) "$$tmp"; exit 1; fi

# ---------------------------------------------------------------------------
# Measurements (docs/benchmarks.md)

## bench: verification, state machine and store micro-benchmarks, then `lightkeeper bench`
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./verifier/ ./coordinator/state/ ./pebbledb/
	$(BIN) bench

## wasm-bench: verification natively and in the wasip1 module side by side
wasm-bench: wasm-keeper
	LIGHTKEEPER_WASM=$(abspath $(WASM_KEEPER)) $(GO) test -run '^$$' -bench . -benchmem ./wasmclient/host/

# The build alternatives of docs/benchmarks.md ("wasm build alternatives"):
# a PGO build (profile: the verifier natively on gnark-crypto's pure-Go
# code, what the wasm build runs; reused when present) and a build without
# bounds checks (an experiment, never shipped), each loaded beside the
# default module and on wazero's interpreter in one benchmark run.
WASM_ALT_DIR ?= /tmp/lightkeeper-wasm-alt
## wasm-alternatives: the wasip1 module's build alternatives against the default build, in one run
wasm-alternatives: wasm-keeper
	@mkdir -p $(WASM_ALT_DIR)
	test -s $(WASM_ALT_DIR)/purego.pprof || $(GO) test -tags purego -run '^$$' -bench 'BenchmarkVerifyBatch|BenchmarkVerifyProof' -benchtime 1s -cpuprofile $(WASM_ALT_DIR)/purego.pprof -o $(WASM_ALT_DIR)/verifier.test ./verifier/
	GOOS=wasip1 GOARCH=wasm $(GO) build -pgo=$(WASM_ALT_DIR)/purego.pprof -buildmode=c-shared -o $(WASM_ALT_DIR)/pgo.wasm ./wasmclient/wasip1
	GOOS=wasip1 GOARCH=wasm $(GO) build -gcflags=all=-B -buildmode=c-shared -o $(WASM_ALT_DIR)/nobounds.wasm ./wasmclient/wasip1
	LIGHTKEEPER_WASM=$(abspath $(WASM_KEEPER)) LIGHTKEEPER_WASM_ALT=pgo=$(WASM_ALT_DIR)/pgo.wasm,nobounds=$(WASM_ALT_DIR)/nobounds.wasm LIGHTKEEPER_WASM_INTERP=1 \
		$(GO) test -run '^$$' -bench 'BenchmarkVerifyBatch/groth16/bn254' -benchtime 1s -timeout 30m ./wasmclient/host/

## compute-bench: metered vs unmetered, compiler vs interpreter, registration speed
compute-bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./verifier/compute/
