// A workerd worker for tests/crosshost_edge_test.go: it runs the js keeper
// (wasmclient/js's keeper.wasm, the same program the browser extension
// runs) inside workerd and answers GET /run?base=URL with the results of
// the cross-host harness (crosshost-harness.mjs) on the spec the Go test
// serves at URL. keeper.wasm is a module of the worker, compiled when the
// worker loads: workerd refuses to compile WebAssembly at run time, which
// is what the harness reports for the platform engine.
import './wasm_exec.js';
import keeperModule from './keeper.wasm';
import { bootKeeper, runSpec } from './crosshost-harness.mjs';

export default {
  async fetch(req) {
    const url = new URL(req.url);
    const base = url.searchParams.get('base');
    if (url.pathname !== '/run' || !base) return new Response('GET /run?base=URL\n', { status: 404 });
    try {
      // A fresh Go instance per request: workerd ties timers and promises
      // to the request that made them.
      const lk = await bootKeeper(keeperModule);
      const out = await runSpec(lk, base, (m) => console.log(m));
      return Response.json(out);
    } catch (e) {
      return Response.json({ error: String((e && e.stack) || e) }, { status: 500 });
    }
  },
};
