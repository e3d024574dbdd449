// Options page: the coordinator URL (or a list of them), on/off, and (for devnets and tests)
// importing a genesis key. Saving writes chrome.storage.local; the service
// worker sees the change and restarts the keeper with it.

import { checkCoordinatorList, isSeed, newSeed, originPattern, loadSettings, askOffscreen } from './common.js';

const $ = (id) => document.getElementById(id);

function status(el, text, ok) {
  el.textContent = text;
  el.className = 'status ' + (ok ? 'ok' : 'bad');
}

async function showKeeperId() {
  const res = await askOffscreen({ type: 'stats' });
  $('keeper-id').textContent = (res && res.ok && res.result.keeperId) || '— (starting)';
}

async function init() {
  const s = await loadSettings();
  $('coordinator').value = s.coordinator.split(/[\s,]+/).filter(Boolean).join('\n');
  $('enabled').checked = s.enabled;
  showKeeperId();
  setInterval(showKeeperId, 2000);
}

$('settings').addEventListener('submit', async (e) => {
  e.preventDefault();
  const out = $('save-status');
  let urls;
  try {
    urls = checkCoordinatorList($('coordinator').value);
  } catch (err) {
    status(out, err.message, false);
    return;
  }
  // Host permission for the coordinators' origins: loopback is granted at
  // install, anything else is asked for here (this click is the user
  // gesture that chrome.permissions.request needs).
  const origins = [...new Set(urls.map(originPattern))];
  if (!(await chrome.permissions.contains({ origins }))) {
    let granted = false;
    try {
      granted = await chrome.permissions.request({ origins });
    } catch (err) {
      status(out, 'permission request failed: ' + err.message, false);
      return;
    }
    if (!granted) {
      const hosts = [...new Set(urls.map((u) => new URL(u).host))].join(', ');
      status(out, `Not saved: the extension needs permission to reach ${hosts}.`, false);
      return;
    }
  }
  await chrome.storage.local.set({ coordinator: urls.join(', '), enabled: $('enabled').checked });
  $('coordinator').value = urls.join('\n');
  status(out, 'Saved. The keeper restarts with these settings.', true);
});

$('import-key').addEventListener('click', async () => {
  const out = $('key-status');
  const seed = $('seed').value.trim().toLowerCase();
  if (!isSeed(seed)) {
    status(out, 'A key seed is 64 hex digits (32 bytes), as in a lightkeeper .key file.', false);
    return;
  }
  await chrome.storage.local.set({ seed });
  $('seed').value = '';
  status(out, 'Key imported. The keeper restarts with it.', true);
});

$('new-key').addEventListener('click', async () => {
  if (!confirm('Replace this keeper\'s key with a new one? The current key is lost.')) return;
  await chrome.storage.local.set({ seed: newSeed() });
  status($('key-status'), 'New key made. The keeper restarts with it.', true);
});

init().catch((err) => status($('save-status'), 'cannot load settings: ' + err.message, false));
