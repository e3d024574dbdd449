// Shared by the service worker, the popup and the options page.
//
// Storage (chrome.storage.local, readable by this extension's own pages
// only — it has no content scripts):
//   seed         32-byte ed25519 seed in hex: the keeper's key. Made on
//                install; only its public key and signatures ever leave.
//   coordinator  base URL of the coordinator, or the URLs of several
//                coordinators of one chain in order of preference,
//                separated by ", " (the keeper moves to the next when one
//                cannot be reached)
//   enabled      whether the keeper runs

export const DEFAULT_COORDINATOR = 'http://127.0.0.1:8080';

// Messages carry a `to` field so each context answers only its own: a
// runtime message reaches every extension page and the service worker.
export const TO_BACKGROUND = 'background';
export const TO_OFFSCREEN = 'offscreen';

export function isSeed(s) {
  return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
}

export function newSeed() {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// checkCoordinatorURL returns the normalised URL or throws with a reason a
// person can act on.
export function checkCoordinatorURL(s) {
  let u;
  try {
    u = new URL(String(s).trim());
  } catch {
    throw new Error('not a URL: ' + s);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new Error('the coordinator URL must start with http:// or https://');
  }
  if (u.search || u.hash) {
    throw new Error('the coordinator URL takes no ?query or #fragment');
  }
  return u.origin + u.pathname.replace(/\/+$/, '');
}

// checkCoordinatorList splits a list of coordinator URLs — one per line or
// separated by commas — checks each, and returns them normalised, in
// order. Empty entries are skipped; the error names the bad URL. The js
// keeper checks the list again (keeper.ParseCoordinators).
export function checkCoordinatorList(s) {
  const urls = [];
  for (const entry of String(s).split(/[\s,]+/)) {
    if (!entry) continue;
    let url;
    try {
      url = checkCoordinatorURL(entry);
    } catch (err) {
      throw new Error(`${entry}: ${err.message}`);
    }
    if (urls.includes(url)) throw new Error(`${entry}: listed twice`);
    urls.push(url);
  }
  if (urls.length === 0) throw new Error('give at least one coordinator URL');
  return urls;
}

// originPattern is the host permission a coordinator URL needs.
export function originPattern(url) {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}/*`;
}

export async function loadSettings() {
  const s = await chrome.storage.local.get(['seed', 'coordinator', 'enabled']);
  return {
    seed: isSeed(s.seed) ? s.seed : null,
    coordinator: s.coordinator || DEFAULT_COORDINATOR,
    enabled: s.enabled !== false,
  };
}

// askOffscreen sends a message to the offscreen document; it resolves to
// null when the document is not there (yet).
export async function askOffscreen(msg) {
  try {
    return await chrome.runtime.sendMessage({ to: TO_OFFSCREEN, ...msg });
  } catch {
    return null; // "Receiving end does not exist"
  }
}
