# compute.mk: targets for deterministic compute (verifier/compute and the
# example programs in examples/). Included by the Makefile.
#
#   make examples         build every example for GOOS=wasip1 into $(EXAMPLES_DIR)
#   make compute-test     the compute package's tests (they build the examples themselves)
#   make compute-wasm     the compute package builds for js/wasm and wasip1/wasm
#   make compute-bench    metered vs unmetered, compiler vs interpreter, registration speed
#   make compute-fuzz     each compute fuzz target for FUZZTIME

GO           ?= go
FUZZTIME     ?= 20s
EXAMPLES_DIR ?= bin/examples
EXAMPLES     := $(notdir $(patsubst %/,%,$(dir $(wildcard examples/*/main.go))))

.PHONY: examples compute-test compute-wasm compute-bench compute-fuzz

examples:
	@mkdir -p $(EXAMPLES_DIR)
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $(GO) build -trimpath -o $(EXAMPLES_DIR)/ ./examples/...
	@for e in $(EXAMPLES); do mv -f $(EXAMPLES_DIR)/$$e $(EXAMPLES_DIR)/$$e.wasm; done
	@ls -l $(EXAMPLES_DIR)

compute-test:
	$(GO) test -count=1 ./verifier/compute/

compute-wasm:
	GOOS=wasip1 GOARCH=wasm $(GO) build ./verifier/compute/
	GOOS=js GOARCH=wasm $(GO) build ./verifier/compute/

compute-bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./verifier/compute/

compute-fuzz:
	@for f in FuzzCheck FuzzInstrument FuzzLEB128; do \
		echo "fuzz verifier/compute $$f"; \
		$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./verifier/compute/ || exit 1; \
	done
