# Lightkeeper. `make demo` shows the system working; `make test` is what CI
# runs. Tools (buf, protoc-gen-go, protoc-gen-connect-go) are pinned in
# go.mod and tools/go.mod and run through `go tool`: nothing to install.

GO        ?= go
BUF       := $(GO) tool -modfile=tools/go.mod buf
BIN       := bin/lightkeeper
FUZZTIME  ?= 20s
GOTESTFLAGS ?=

.PHONY: all build demo test test-go unit wasm generate checkgenerate lint fmt bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/lightkeeper

demo:
	$(GO) run ./cmd/lightkeeper demo

# test is the whole default suite: generated code is current, lint is
# clean, the verifier builds for both WebAssembly targets, every Go test
# (including the fuzz seed corpora and the end-to-end tests on loopback)
# passes, and so do the tests in real JavaScript runtimes — headless
# Chromium and workerd, including the cross-host compute comparison
# (test-browser, test-edge: they need Debian's chromium and the npm
# packages of tests/browser, which .ci/run installs). test-go is the Go
# part alone.
test: test-go test-browser test-edge test-clients

test-go: checkgenerate lint wasm unit

unit:
	$(GO) test $(GOTESTFLAGS) -count=1 -timeout 20m ./...

wasm:
	GOOS=wasip1 GOARCH=wasm $(GO) build ./verifier/...
	GOOS=js GOARCH=wasm $(GO) build ./verifier/...

generate:
	find proto -name '*.pb.go' -delete
	find proto -name '*.connect.go' -delete
	$(BUF) generate

# checkgenerate fails when the committed generated code differs from what
# `make generate` writes.
checkgenerate: generate
	@if [ -n "$$(git status --porcelain -- proto)" ]; then \
		echo "generated code is out of date; run 'make generate' and commit:"; \
		git status --porcelain -- proto; exit 1; fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then \
		echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(BUF) lint

fmt:
	gofmt -w $$(git ls-files '*.go')

# bench prints the micro-benchmarks (verification per scheme × curve, the
# state machine's vote path, the store's block commit) and then the
# whole-system load figures of `lightkeeper bench`.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./verifier/ ./coordinator/state/ ./pebbledb/
	$(BIN) bench

# fuzz runs each fuzz target for FUZZTIME (the seed corpora already run in
# `make test`).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin

include wasmclient/wasm.mk
include wasmclient/js.mk
include compute.mk
include clients/clients.mk
