# The headless wazero keeper: the GOOS=wasip1 reactor module
# (wasmclient/wasip1) and its Go host (wasmclient/host). Included by the
# top-level Makefile:
#
#	include wasmclient/wasm.mk
#
# It hooks itself into `make test`: `unit` (and `fuzz`) build the module
# first and hand it to the tests through LIGHTKEEPER_WASM (so the packages
# that need it do not each build their own copy at the same time), and
# `lint` also vets the module for wasip1.

GO          ?= go
# Where the module goes; `lightkeeper keeper --engine wasm` and `lightkeeper
# devnet --wasm-keepers N` load it from here unless given --wasm FILE.
WASM_KEEPER ?= bin/keeper-wasip1.wasm

# This file defines targets; keep the including Makefile's default goal
# even if it is included before the first target there.
wasm_mk_default_goal := $(.DEFAULT_GOAL)

.PHONY: wasm-keeper wasm-vet wasm-bench

# wasm-keeper builds the module. It always runs go build rather than being
# a file target: go build knows what is stale (an unchanged rebuild takes
# about a second), so the file never lags the verifier's sources.
wasm-keeper:
	@mkdir -p $(dir $(WASM_KEEPER))
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -o $(WASM_KEEPER) ./wasmclient/wasip1
	@ls -l $(WASM_KEEPER)

# wasm-vet vets the module as built (its exports only exist for wasip1).
wasm-vet:
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./wasmclient/wasip1/

# wasm-bench: verification natively and in the module side by side
# (BenchmarkVerify/{native,wasm}/{groth16,plonk}/{bn254,bls12_381}), host
# start-up with a cold and a warm compilation cache, one more instance, a
# withdrawal proof, and a compute job (BenchmarkCompute: about a minute, as
# it checks and compiles a Go program inside the module).
wasm-bench: wasm-keeper
	LIGHTKEEPER_WASM=$(abspath $(WASM_KEEPER)) $(GO) test -run '^$$' -bench . -benchmem ./wasmclient/host/

# Hooks into the top-level targets.
unit fuzz: wasm-keeper
unit fuzz: export LIGHTKEEPER_WASM := $(abspath $(WASM_KEEPER))
lint: wasm-vet

.DEFAULT_GOAL := $(wasm_mk_default_goal)
