# workerd configuration of tests/crosshost_edge_test.go: the js keeper in a
# worker (crosshost-worker.mjs) that may fetch from loopback, where the Go
# test serves the job list and the programs. The test copies this file,
# the two .mjs files, keeper.wasm and wasm_exec.js into one directory and
# passes the listening socket as fd 3 (--socket-fd http=3).

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "crosshost", worker = .crosshost),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "crosshost")],
);

const crosshost :Workerd.Worker = (
  modules = [
    (name = "crosshost-worker.mjs", esModule = embed "crosshost-worker.mjs"),
    (name = "crosshost-harness.mjs", esModule = embed "crosshost-harness.mjs"),
    (name = "wasm_exec.js", esModule = embed "wasm_exec.js"),
    (name = "keeper.wasm", wasm = embed "keeper.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  globalOutbound = "loopback",
);
