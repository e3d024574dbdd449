// Service worker: owns the settings and keeps the offscreen document (where
// the keeper runs) alive. It holds no keeper state itself, because Chrome
// stops an idle MV3 service worker after ~30 s and would take that state
// with it; see README.md, "Where the keeper runs".

import { TO_BACKGROUND, TO_OFFSCREEN, isSeed, newSeed, loadSettings } from './common.js';

const OFFSCREEN_URL = 'offscreen.html';
const KEEPALIVE_ALARM = 'lightkeeper-keepalive';

// ensureKey makes the keeper's key on first use. The seed comes from
// crypto.getRandomValues and stays in chrome.storage.local.
async function ensureKey() {
  const { seed } = await chrome.storage.local.get('seed');
  if (!isSeed(seed)) {
    await chrome.storage.local.set({ seed: newSeed() });
  }
}

let creating = null; // one createDocument at a time

async function hasOffscreen() {
  const contexts = await chrome.runtime.getContexts({
    contextTypes: ['OFFSCREEN_DOCUMENT'],
    documentUrls: [chrome.runtime.getURL(OFFSCREEN_URL)],
  });
  return contexts.length > 0;
}

// ensureOffscreen creates the offscreen document unless it exists. The
// document asks for its configuration itself once loaded ('get-config').
async function ensureOffscreen() {
  if (await hasOffscreen()) return;
  if (!creating) {
    creating = chrome.offscreen
      .createDocument({
        url: OFFSCREEN_URL,
        // The document runs the keeper in a dedicated Web Worker.
        reasons: ['WORKERS'],
        justification: 'Runs the Lightkeeper keeper (WebAssembly) in a worker: it long-polls the coordinator and verifies proofs.',
      })
      .catch((e) => {
        // Another context may have won the race; anything else is real.
        if (!String(e && e.message).includes('single offscreen')) throw e;
      })
      .finally(() => {
        creating = null;
      });
  }
  await creating;
}

async function configForOffscreen() {
  await ensureKey();
  return loadSettings();
}

// applySettings tells a running offscreen document about new settings.
async function applySettings() {
  if (!(await hasOffscreen())) {
    await ensureOffscreen(); // it will fetch the settings when it loads
    return;
  }
  const config = await configForOffscreen();
  try {
    await chrome.runtime.sendMessage({ to: TO_OFFSCREEN, type: 'configure', config });
  } catch (e) {
    console.warn('lightkeeper: offscreen document did not take the settings:', e);
  }
}

async function boot() {
  await ensureKey();
  // An alarm wakes this worker every minute to check the document is
  // still there (the browser may discard it under memory pressure).
  await chrome.alarms.create(KEEPALIVE_ALARM, { periodInMinutes: 1 });
  await ensureOffscreen();
}

chrome.runtime.onInstalled.addListener(() => {
  boot().catch((e) => console.error('lightkeeper: install:', e));
});
chrome.runtime.onStartup.addListener(() => {
  boot().catch((e) => console.error('lightkeeper: startup:', e));
});
chrome.alarms.onAlarm.addListener((a) => {
  if (a.name === KEEPALIVE_ALARM) ensureOffscreen().catch((e) => console.error('lightkeeper: keepalive:', e));
});
chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'local' && (changes.seed || changes.coordinator || changes.enabled)) {
    applySettings().catch((e) => console.error('lightkeeper: settings:', e));
  }
});

chrome.runtime.onMessage.addListener((msg, _sender, sendResponse) => {
  if (!msg || msg.to !== TO_BACKGROUND) return false;
  switch (msg.type) {
    case 'get-config': // from the offscreen document, on load
      configForOffscreen().then(sendResponse, (e) => sendResponse({ error: String(e) }));
      return true;
    case 'ensure': // from the popup, when nothing answers
      ensureOffscreen().then(
        () => sendResponse({ ok: true }),
        (e) => sendResponse({ ok: false, error: String(e) }),
      );
      return true;
  }
  return false;
});
