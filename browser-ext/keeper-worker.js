// Dedicated worker that runs the Go keeper (keeper.wasm, built from
// wasmclient/js). wasm_exec.js is Go's loader, copied from
// $(go env GOROOT)/lib/wasm at build time. Requests come from the
// offscreen document as {id, op, arg}; answers go back as {id, ok, result}
// or {id, ok: false, error}.

importScripts('wasm_exec.js');

const ops = new Set(['start', 'stop', 'stats']);
let api = null;

self.lightkeeperReady = (a) => {
  api = a;
  self.postMessage({ type: 'ready', version: a.version });
};

async function boot() {
  const go = new Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch('keeper.wasm'), go.importObject);
  // run resolves only if the Go program exits, which it should never do.
  await go.run(instance);
  self.postMessage({ type: 'exited', error: 'keeper program exited' });
}

self.onmessage = async (e) => {
  const { id, op, arg } = e.data || {};
  if (!id) return;
  try {
    if (!api) throw new Error('keeper not loaded yet');
    if (!ops.has(op)) throw new Error('unknown operation ' + op);
    const result = arg === undefined ? await api[op]() : await api[op](arg);
    self.postMessage({ id, ok: true, result });
  } catch (err) {
    self.postMessage({ id, ok: false, error: String((err && err.message) || err) });
  }
};

boot().catch((err) => self.postMessage({ type: 'failed', error: 'loading keeper.wasm: ' + ((err && err.message) || err) }));
