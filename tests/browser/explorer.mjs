// Drives the explorer page in Debian's Chromium for tests/explorer_test.go
// (TestExplorer): it opens the coordinator's root, walks the views, uses
// the search box and the "verify in this browser" button, tries bad
// input, and prints what the page showed as JSON lines
// ({"event":"home",...}); the Go test decides. Every console error, page
// error and request to another origin is reported at the end.
//
//   node explorer.mjs --url http://127.0.0.1:PORT --lazy KEEPER_ID --proof-hash HEX --out DIR [--chromium /usr/bin/chromium]

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    lazy: { type: 'string' },
    'proof-hash': { type: 'string' },
    out: { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
  },
});

function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

const T = 60000;
let browser;
try {
  for (const k of ['url', 'lazy', 'proof-hash', 'out']) if (!opt[k]) throw new Error(`--${k} is required`);
  mkdirSync(opt.out, { recursive: true });
  const origin = new URL(opt.url).origin;
  browser = await chromium.launch({
    executablePath: opt.chromium,
    headless: false, // --headless=new below, the same browser as the other browser tests
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: T,
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const consoleErrors = [];
  const external = [];
  page.on('console', (m) => {
    process.stderr.write(`[page ${m.type()}] ${m.text()}\n`);
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.origin !== origin) external.push(r.url());
  });
  const shot = (name) => page.screenshot({ path: join(opt.out, name), fullPage: true });
  const text = (sel) => page.locator(sel).first().innerText({ timeout: T });

  // The root leads to the explorer; rounds are listed as they are decided.
  const res = await page.goto(opt.url + '/');
  const csp = (await res.allHeaders())['content-security-policy'] ?? '';
  await page.waitForSelector('[data-testid=rounds-table] tbody tr', { timeout: T });
  await page.waitForFunction(() => document.querySelectorAll('figure.chart path').length > 0, null, { timeout: T });
  const rows = await page.$$eval('[data-testid=rounds-table] tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)));
  emit('home', { finalUrl: page.url(), csp, rows, head: await text('[data-testid=head-height]'), rate: await text('[data-testid=rate]') });
  await shot('explorer-home.png');

  // Keepers: the lazy keeper's row shows its challenge failures.
  await page.click('nav a[href="#/keepers"]');
  await page.waitForSelector('[data-testid=keepers-table] tbody tr', { timeout: T });
  const keepers = await page.$$eval('[data-testid=keepers-table] tbody tr', (trs) =>
    trs.map((tr) => ({ id: tr.cells[0].querySelector('a').title, cells: [...tr.cells].map((c) => c.innerText) })));
  const head = await page.$$eval('[data-testid=keepers-table] thead th', (ths) => ths.map((th) => th.innerText));
  await page.waitForSelector('figure.chart text.legend', { timeout: T });
  const charted = await page.$$eval('figure.chart', (figs) =>
    figs.map((f) => ({ title: f.querySelector('.chart-title').textContent, lines: [...f.querySelectorAll('text.legend')].map((t) => t.textContent) })));
  emit('keepers', { head, keepers, charted });
  await shot('explorer-keepers.png');

  await page.goto(`${origin}/explorer/#/keeper/${opt.lazy}`);
  await page.waitForSelector('[data-testid=keeper-table] tbody tr', { timeout: T });
  await shot('explorer-keeper.png');

  // Search by the proof's hash, then open the round and verify its certificate here.
  await page.fill('#q', opt['proof-hash']);
  await page.press('#q', 'Enter');
  await page.waitForSelector('[data-testid=search-results]', { timeout: T });
  const found = await page.$$eval('[data-testid=search-results] tbody tr', (trs) =>
    trs.map((tr) => ({ what: tr.cells[0].innerText, id: tr.cells[1].querySelector('a')?.title ?? '' })));
  emit('search', { found });
  await shot('explorer-search.png');
  await page.click('[data-testid=search-results] tbody tr a');
  await page.waitForSelector('[data-testid=verify]', { timeout: T });
  const votes = await page.$$eval('[data-testid=votes] tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)));
  await page.click('[data-testid=verify]');
  await page.waitForSelector('[data-testid=verified], [data-testid=verify-result] [data-testid=error]', { timeout: T });
  emit('verify', { url: page.url(), votes, result: await text('[data-testid=verify-result]') });
  await shot('explorer-round.png');

  // Epochs and the pool's stream render.
  await page.click('nav a[href="#/epochs"]');
  await page.waitForSelector('[data-testid=epochs-table]', { timeout: T });
  await shot('explorer-epochs.png');
  await page.click('nav a[href="#/pool"]');
  await page.waitForSelector('[data-testid=withdrawals]', { timeout: T });
  await page.waitForFunction(() => document.querySelector('main dl, main [data-testid=error], main p'), null, { timeout: T });
  emit('pool', { text: await text('main') });

  // Bad input: each shows a message in the page.
  const bad = {};
  for (const [name, hash] of [
    ['malformed round id', '#/round/not-a-hash'],
    ['unknown round id', '#/round/' + '0'.repeat(64)],
    ['unknown keeper', '#/keeper/' + '0'.repeat(64)],
    ['unknown page', '#/nowhere'],
  ]) {
    await page.goto(`${origin}/explorer/${hash}`);
    bad[name] = await text(`main[data-route="${hash}"] [data-testid=error]`);
  }
  for (const [name, q] of [['malformed search', 'hello'], ['unknown hash', 'f'.repeat(64)]]) {
    await page.fill('#q', q);
    await page.press('#q', 'Enter');
    bad[name] = await text(`main[data-route="#/search?q=${q}"] [data-testid=error]`);
  }
  await shot('explorer-bad-input.png');
  emit('bad', { bad });

  emit('checks', { consoleErrors, external });
  await browser.close();
  emit('done');
} catch (e) {
  emit('error', { message: String((e && e.stack) || e) });
  try {
    await browser?.close();
  } catch {}
  process.exit(1);
}
