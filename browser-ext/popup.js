// Popup: shows the keeper's state at a glance, refreshed every second.

import { TO_BACKGROUND, askOffscreen } from './common.js';

const $ = (id) => document.getElementById(id);
const STATES = {
  connected: ['connected', 'ok'],
  connecting: ['connecting…', 'wait'],
  reconnecting: ['reconnecting…', 'warn'],
  starting: ['starting…', 'wait'],
  stopped: ['stopped', 'off'],
  error: ['error', 'bad'],
};

function shortId(id) {
  return id && id.length > 16 ? id.slice(0, 8) + '…' + id.slice(-6) : id || '—';
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  return Math.round(s / 3600) + ' h ago';
}

function render(s) {
  const [label, cls] = STATES[s.state] || [s.state, 'off'];
  const badge = $('state');
  badge.textContent = s.disabled ? 'paused' : label;
  badge.className = 'badge ' + (s.disabled ? 'off' : cls);
  badge.dataset.state = s.state;

  const err = s.state !== 'connected' ? s.lastError || s.infoError : '';
  $('error').hidden = !err;
  $('error').textContent = err || '';

  $('keeper-id').textContent = shortId(s.keeperId);
  $('keeper-id').title = s.keeperId || '';
  $('keeper-id').dataset.full = s.keeperId || '';
  $('coordinator').textContent = s.coordinator || '—';
  $('rounds').textContent = String(s.roundsVerified ?? 0);
  $('approvals').textContent = String(s.approvals ?? 0);
  $('rejections').textContent = String(s.rejections ?? 0);
  $('abstains').textContent = String(s.abstains ?? 0);
  $('abstains-wrap').hidden = !s.abstains;
  const k = s.keeper;
  $('reputation').textContent = k ? k.reputation.toLocaleString('en-US') : '—';
  $('stake').textContent = k ? k.stake.toLocaleString('en-US') + (k.stake === 0 ? ' (no stake: never drawn)' : '') : '—';
  $('version').textContent = s.version ? 'v' + s.version : '';

  const list = $('votes');
  list.replaceChildren();
  const votes = s.lastVotes || [];
  if (votes.length === 0) {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = 'none yet';
    list.append(li);
  }
  for (const v of votes.slice(0, 5)) {
    const li = document.createElement('li');
    li.dataset.round = v.roundId;
    li.dataset.vote = v.vote;
    const kind = document.createElement('span');
    kind.className = 'vote ' + v.vote.toLowerCase();
    kind.textContent = v.vote;
    const round = document.createElement('code');
    round.textContent = v.roundId.slice(0, 10) + '…';
    round.title = v.roundId + (v.reason ? ' — ' + v.reason : '');
    const when = document.createElement('span');
    when.className = 'muted';
    when.textContent = ago(v.time);
    li.append(kind, round, when);
    list.append(li);
  }
}

let nudged = false;

async function refresh() {
  const res = await askOffscreen({ type: 'stats' });
  if (res && res.ok) {
    render(res.result);
    return;
  }
  render({ state: res ? 'error' : 'starting', lastError: res ? res.error : '', lastVotes: [] });
  if (!res && !nudged) {
    // Nothing answered: ask the service worker to (re)create the keeper.
    nudged = true;
    chrome.runtime.sendMessage({ to: TO_BACKGROUND, type: 'ensure' }).catch(() => {});
  }
}

refresh();
setInterval(refresh, 1000);
