// Drives the Lightkeeper extension in Debian's Chromium, headless, for
// tests/browser_test.go (make test-browser). It loads the unpacked
// extension, points it at a coordinator through the options page, imports
// a genesis key there (a test-only step: a fresh key has no stake until
// staking lands, so it would never sit on a committee), waits until the
// keeper is connected, then answers commands on stdin:
//
//   stats   print the keeper's stats
//   popup   open the popup, read what it shows, save a screenshot
//   quit    close the browser and exit 0
//
// Every answer is one JSON line on stdout: {"event": ..., ...}. Anything
// that goes wrong prints {"event":"error","message":...} and exits 1.
//
//   node extension.mjs --extension DIR --coordinator URL --seed-file FILE \
//        --artifacts DIR [--chromium /usr/bin/chromium] [--timeout-ms 120000]

import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    extension: { type: 'string' },
    coordinator: { type: 'string' },
    'seed-file': { type: 'string' },
    artifacts: { type: 'string', default: 'test-artifacts' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    'timeout-ms': { type: 'string', default: '120000' },
  },
});
for (const k of ['extension', 'coordinator', 'seed-file']) {
  if (!opt[k]) fail(`--${k} is required`);
}
const TIMEOUT = Number(opt['timeout-ms']);

function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

function fail(message) {
  emit('error', { message: String(message) });
  process.exit(1);
}

// poll calls f until it returns a truthy value or the timeout passes.
async function poll(what, f, timeoutMs = TIMEOUT, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await f();
      if (last && !last.__notYet) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not after ${timeoutMs / 1000} s (last: ${JSON.stringify(last && last.__notYet ? last.value : String(last))})`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
const notYet = (value) => ({ __notYet: true, value });

// stats asks the offscreen document from an extension page, the same way
// the popup does.
async function stats(page) {
  const res = await page.evaluate(() => chrome.runtime.sendMessage({ to: 'offscreen', type: 'stats' }).catch((e) => ({ ok: false, error: String(e) })));
  if (!res || !res.ok) throw new Error('stats: ' + (res ? res.error : 'no answer'));
  return res.result;
}

const seed = readFileSync(opt['seed-file'], 'utf8').trim();
const profile = mkdtempSync(join(tmpdir(), 'lightkeeper-chromium-'));
mkdirSync(opt.artifacts, { recursive: true });
let context;

async function main() {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: opt.chromium,
    headless: false, // --headless=new below: the old headless mode has no extensions
    ignoreDefaultArgs: ['--disable-extensions'],
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--disable-extensions-except=${opt.extension}`,
      `--load-extension=${opt.extension}`,
    ],
    viewport: { width: 800, height: 700 },
    timeout: 60000,
  });

  // The extension id is the host of its service worker's URL.
  let [sw] = context.serviceWorkers();
  if (!sw) sw = await context.waitForEvent('serviceworker', { timeout: 30000 });
  const extensionId = new URL(sw.url()).host;
  const base = `chrome-extension://${extensionId}`;

  const options = await context.newPage();
  options.on('console', (m) => process.stderr.write(`[options] ${m.text()}\n`));
  await options.goto(`${base}/options.html`);

  // The key made on install: the keeper starts with it first.
  const first = await poll('keeper with the install key', async () => {
    const s = await stats(options);
    return s.keeperId ? s : notYet(s);
  });

  await options.fill('#coordinator', opt.coordinator);
  await options.check('#enabled');
  await options.click('#save');
  await poll('settings saved', async () => ((await options.textContent('#save-status')).startsWith('Saved') ? true : notYet(await options.textContent('#save-status'))), 10000);

  await options.click('#import summary');
  await options.fill('#seed', seed);
  await options.click('#import-key');
  await poll('key imported', async () => ((await options.textContent('#key-status')).startsWith('Key imported') ? true : notYet(await options.textContent('#key-status'))), 10000);

  const wantId = await options.evaluate(async (s) => {
    // The same derivation as Go's ed25519.NewKeyFromSeed, done by the
    // browser's WebCrypto, to check the keeper took the imported key.
    const pkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, ...s.match(/../g).map((h) => parseInt(h, 16))]);
    try {
      const k = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
      const jwk = await crypto.subtle.exportKey('jwk', k);
      const b = atob(jwk.x.replace(/-/g, '+').replace(/_/g, '/'));
      return Array.from(b, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
    } catch {
      return null; // no Ed25519 in this WebCrypto: the Go test checks the id instead
    }
  }, seed);

  const ready = await poll('keeper connected with the imported key', async () => {
    const s = await stats(options);
    const ok = s.state === 'connected' && s.keeperId !== first.keeperId && s.coordinator === opt.coordinator.replace(/\/+$/, '');
    return ok ? s : notYet(s);
  });
  if (wantId && ready.keeperId !== wantId) throw new Error(`keeper id ${ready.keeperId}, but the imported seed's public key is ${wantId}`);
  await poll('options page shows the keeper id', async () => ((await options.textContent('#keeper-id')) === ready.keeperId ? true : notYet(await options.textContent('#keeper-id'))), 10000);
  await options.screenshot({ path: join(opt.artifacts, 'browser-ext-options.png'), fullPage: true });
  emit('ready', { extensionId, installKeeperId: first.keeperId, idCheckedByWebCrypto: Boolean(wantId), stats: ready });

  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = line.trim();
    if (cmd === 'stats') {
      emit('stats', { stats: await stats(options) });
    } else if (cmd === 'popup') {
      emit('popup', await popup(base));
    } else if (cmd === 'quit') {
      break;
    } else if (cmd) {
      throw new Error('unknown command ' + cmd);
    }
  }
}

// popup opens popup.html as the toolbar button would (in a tab of the
// popup's size: headless Chromium has no toolbar to click), waits until it
// shows a connected keeper with votes, and reads it back.
async function popup(base) {
  const page = await context.newPage();
  await page.setViewportSize({ width: 370, height: 470 });
  await page.goto(`${base}/popup.html`);
  await poll('popup shows a connected keeper with votes', async () => {
    const state = await page.getAttribute('#state', 'data-state');
    const votes = await page.locator('#votes li[data-vote]').count();
    const rep = await page.textContent('#reputation');
    return state === 'connected' && votes > 0 && rep !== '—' ? true : notYet({ state, votes, rep });
  }, 30000);
  const text = async (sel) => (await page.textContent(sel)).trim();
  const fields = {
    state: await text('#state'),
    dataState: await page.getAttribute('#state', 'data-state'),
    keeperId: await page.getAttribute('#keeper-id', 'data-full'),
    keeperIdShown: await text('#keeper-id'),
    coordinator: await text('#coordinator'),
    roundsVerified: await text('#rounds'),
    approvals: await text('#approvals'),
    rejections: await text('#rejections'),
    reputation: await text('#reputation'),
    stake: await text('#stake'),
    error: (await page.isVisible('#error')) ? await text('#error') : '',
    votes: await page.$$eval('#votes li[data-vote]', (lis) => lis.map((li) => ({ round: li.dataset.round, vote: li.dataset.vote, text: li.textContent }))),
  };
  // The popup's own box, as the toolbar would show it.
  const shot = join(opt.artifacts, 'browser-ext-popup.png');
  await page.locator('body').screenshot({ path: shot });
  const s = await stats(page);
  await page.close();
  return { fields, stats: s, screenshot: shot };
}

const watchdog = setTimeout(() => fail('driver ran out of time'), 20 * 60 * 1000);
main()
  .then(async () => {
    clearTimeout(watchdog);
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    emit('done');
    process.exit(0);
  })
  .catch(async (e) => {
    try {
      await context?.close();
    } catch {}
    rmSync(profile, { recursive: true, force: true });
    fail(e && e.stack ? e.stack : e);
  });
