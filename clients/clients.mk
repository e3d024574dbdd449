# The clients in other languages (issue #13): the TypeScript package
# (clients/ts), the Python gRPC client (clients/python) and the
# circom/snarkjs material (clients/snarkjs). Included by the Makefile;
# `make test` runs test-clients.
#
#   make generate-ts       regenerate clients/ts/src/gen (protoc-gen-es from clients/ts/node_modules)
#   make checkgenerate-ts  fail when the committed TypeScript differs from what generate-ts writes
#   make test-clients      the above, the Go <-> TypeScript certificate vectors in Node, then a devnet
#                          on loopback with Byzantine and wasip1 keepers deciding circom/snarkjs proofs
#                          submitted through the API, the CLI, the TypeScript client and the Python
#                          gRPC client (tests/clients_test.go, -tags clients)

clients_mk_default_goal := $(.DEFAULT_GOAL)

GO              ?= go
BUF             ?= $(GO) tool -modfile=tools/go.mod buf
CLIENTS_TS      := clients/ts
CLIENTS_STAMP   := $(CLIENTS_TS)/node_modules/.package-lock.json
CLIENTS_TIMEOUT ?= 15m

.PHONY: clients-deps generate-ts checkgenerate-ts test-clients test-clients-ts

# npm ci: the lock file lists every package (no per-platform builds here,
# unlike tests/browser's workerd), so the tree is exactly the lock's.
clients-deps: $(CLIENTS_STAMP)
$(CLIENTS_STAMP): $(CLIENTS_TS)/package.json $(CLIENTS_TS)/package-lock.json
	cd $(CLIENTS_TS) && npm ci --no-audit --no-fund && touch node_modules/.package-lock.json

generate-ts: clients-deps
	rm -rf $(CLIENTS_TS)/src/gen
	$(BUF) generate --template buf.gen.ts.yaml

checkgenerate-ts: generate-ts
	@if [ -n "$$(git status --porcelain -- $(CLIENTS_TS)/src/gen)" ]; then \
		echo "generated TypeScript is out of date; run 'make generate-ts' and commit:"; \
		git status --porcelain -- $(CLIENTS_TS)/src/gen; exit 1; fi

# test-clients-ts: type-check and the tests that need no coordinator (the
# certificate vectors of coordinator/state/testdata/certs).
test-clients-ts: clients-deps
	cd $(CLIENTS_TS) && rm -rf dist && npx tsc -p . && node --test dist/test/

test-clients: checkgenerate-ts test-clients-ts wasm-keeper
	LIGHTKEEPER_TS_BUILT=1 LIGHTKEEPER_WASM=$(abspath $(WASM_KEEPER)) $(GO) test -tags clients -count=1 -timeout $(CLIENTS_TIMEOUT) -run '^TestClientsSnarkjs$$' -v ./tests/

.DEFAULT_GOAL := $(clients_mk_default_goal)
