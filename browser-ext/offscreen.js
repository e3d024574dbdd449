// Offscreen document: lives as long as the browser runs the extension and
// hosts the keeper in a dedicated worker (keeper-worker.js), so a long
// verification never blocks this document's message handling. It relays
// the popup's and the service worker's requests to the worker. Offscreen
// documents get chrome.runtime only, so settings arrive by message.

import { TO_BACKGROUND, TO_OFFSCREEN } from './common.js';

const CALL_TIMEOUT_MS = 15000;

let worker = null;
let workerReady = null; // Promise resolved when the Go program is up
let pending = new Map(); // call id → {resolve, reject, timer}
let nextId = 1;
let config = null; // last settings applied
let fatal = null; // why the worker cannot run, for stats
let ready = false; // the Go program is up

function spawn() {
  fatal = null;
  ready = false;
  worker = new Worker('keeper-worker.js');
  let markReady, markFailed;
  workerReady = new Promise((res, rej) => {
    markReady = res;
    markFailed = rej;
  });
  workerReady.catch(() => {}); // surfaced through call()
  worker.onmessage = (e) => {
    const m = e.data || {};
    if (m.type === 'ready') {
      ready = true;
      markReady();
    } else if (m.type === 'exited' || m.type === 'failed') {
      // The Go program ended (it should not): restart it with the same
      // settings after a pause, rather than leave the keeper dead.
      fatal = m.error || 'keeper program exited';
      console.error('lightkeeper: keeper worker ' + m.type + ': ' + fatal);
      markFailed(new Error(fatal));
      failAll(new Error(fatal));
      worker.terminate();
      worker = null;
      setTimeout(() => {
        if (!worker) start(config).catch((err) => console.error('lightkeeper: restart:', err));
      }, 5000);
    } else if (m.id && pending.has(m.id)) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    }
  };
  worker.onerror = (e) => {
    fatal = 'keeper worker error: ' + (e.message || 'unknown');
    console.error('lightkeeper:', fatal);
  };
}

function failAll(err) {
  for (const p of pending.values()) {
    clearTimeout(p.timer);
    p.reject(err);
  }
  pending = new Map();
}

async function call(op, arg) {
  if (!worker) spawn();
  await workerReady;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`keeper did not answer ${op} in ${CALL_TIMEOUT_MS / 1000} s`));
    }, CALL_TIMEOUT_MS);
    pending.set(id, { resolve, reject, timer });
    worker.postMessage({ id, op, arg });
  });
}

// start applies settings: stop when disabled, else (re)start the keeper.
async function start(cfg) {
  config = cfg;
  if (!cfg || cfg.error) throw new Error((cfg && cfg.error) || 'no settings');
  if (!cfg.enabled || !cfg.seed) {
    if (worker) await call('stop');
    return { running: false };
  }
  return call('start', { coordinator: cfg.coordinator, seed: cfg.seed });
}

async function stats() {
  const base = { state: 'stopped', lastVotes: [], checks: {} };
  if (config && !config.enabled) return { ...base, disabled: true };
  if (fatal) return { ...base, state: 'error', lastError: fatal };
  // Loading and compiling keeper.wasm takes a moment: answer at once.
  if (!worker || !ready) return { ...base, state: 'starting' };
  return JSON.parse(await call('stats'));
}

chrome.runtime.onMessage.addListener((msg, _sender, sendResponse) => {
  if (!msg || msg.to !== TO_OFFSCREEN) return false;
  const reply = (p) =>
    p.then(
      (result) => sendResponse({ ok: true, result }),
      (e) => sendResponse({ ok: false, error: String((e && e.message) || e) }),
    );
  switch (msg.type) {
    case 'configure':
      reply(start(msg.config));
      return true;
    case 'stats':
      reply(stats());
      return true;
  }
  return false;
});

// On load, fetch the settings from the service worker and start.
spawn();
chrome.runtime
  .sendMessage({ to: TO_BACKGROUND, type: 'get-config' })
  .then(start)
  .catch((e) => {
    fatal = 'cannot start: ' + ((e && e.message) || e);
    console.error('lightkeeper:', fatal);
  });
