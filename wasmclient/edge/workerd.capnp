# workerd configuration for running the edge keeper on one machine, against
# a coordinator on this machine (a devnet) or anywhere. `make edge-worker`
# copies this file beside the built worker in dist/edge-worker; run it
# there:
#
#   LIGHTKEEPER_KEY=$(cat net/keys/keeper-10.key) \
#   LIGHTKEEPER_COORDINATOR=http://127.0.0.1:8080 \
#   npx workerd serve --experimental dist/edge-worker/workerd.capnp
#
#   curl http://127.0.0.1:8787/                        # status
#   curl -X POST http://127.0.0.1:8788/scheduled       # one cron event
#
# --experimental is for the cron socket only: firing scheduled() through a
# service binding needs the experimental "service_binding_extra_handlers"
# flag. Settings come from the environment, as secrets and [vars] do on
# Cloudflare (see wrangler.toml).

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "keeper", worker = .keeper),
    (name = "cron", worker = .cron),
    # Outbound fetches: a devnet listens on loopback, which workerd's
    # default network refuses, so this one also allows local and private
    # addresses. Drop "local" and "private" for a public coordinator.
    # An https coordinator whose certificate comes from a private CA needs
    # that CA here: tlsOptions = (trustedCertificates = [embed "ca.pem"]).
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "status", address = "127.0.0.1:8787", http = (), service = "keeper"),
    (name = "cron", address = "127.0.0.1:8788", http = (), service = "cron"),
  ],
);

const keeper :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "runtime.mjs", esModule = embed "runtime.mjs"),
    (name = "wasm_exec.js", esModule = embed "wasm_exec.js"),
    (name = "app.wasm", wasm = embed "app.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "LIGHTKEEPER_KEY", fromEnvironment = "LIGHTKEEPER_KEY"),
    (name = "LIGHTKEEPER_COORDINATOR", fromEnvironment = "LIGHTKEEPER_COORDINATOR"),
    (name = "LIGHTKEEPER_SESSION_SECONDS", fromEnvironment = "LIGHTKEEPER_SESSION_SECONDS"),
    (name = "LIGHTKEEPER_PULL_WAIT_SECONDS", fromEnvironment = "LIGHTKEEPER_PULL_WAIT_SECONDS"),
    (name = "LIGHTKEEPER_MAX_TASKS", fromEnvironment = "LIGHTKEEPER_MAX_TASKS"),
    # Tests only: "1" opens POST /bench/check-batch (bench.go).
    (name = "LIGHTKEEPER_BENCH", fromEnvironment = "LIGHTKEEPER_BENCH"),
  ],
  globalOutbound = "internet",
);

const cron :Workerd.Worker = (
  modules = [(name = "cron-trigger.mjs", esModule = embed "cron-trigger.mjs")],
  compatibilityDate = "2026-11-01",
  compatibilityFlags = ["service_binding_extra_handlers"],
  bindings = [(name = "KEEPER", service = "keeper")],
);
