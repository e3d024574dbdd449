// Measures the js keeper's verification in Debian's Chromium (V8), for
// tests/browser_test.go (TestBrowserVerifyBench). It opens a page the Go
// test serves on 127.0.0.1 — the page loads keeper.wasm and times
// lightkeeper.check() on one valid proof per scheme × curve — and prints
// the page's result as one JSON line: {"event":"bench","result":{...}}.
//
//   node bench.mjs --url http://127.0.0.1:PORT/bench.html?reps=20 [--chromium /usr/bin/chromium]

import { chromium } from 'playwright-core';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    chromium: { type: 'string', default: process.env.CHROMIUM || '/usr/bin/chromium' },
    'timeout-ms': { type: 'string', default: '300000' },
  },
});

function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
}

let browser;
try {
  if (!opt.url) throw new Error('--url is required');
  browser = await chromium.launch({
    executablePath: opt.chromium,
    headless: false, // --headless=new below, the same browser as the extension test
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60000,
  });
  const page = await browser.newPage();
  page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
  await page.goto(opt.url);
  await page.waitForFunction(() => window.benchDone === true, null, { timeout: Number(opt['timeout-ms']), polling: 500 });
  const result = await page.evaluate(() => window.benchResult);
  if (result.error) throw new Error('bench page: ' + result.error);
  emit('bench', { result, userAgent: await page.evaluate(() => navigator.userAgent) });
  await browser.close();
  emit('done');
} catch (e) {
  emit('error', { message: String((e && e.stack) || e) });
  try {
    await browser?.close();
  } catch {}
  process.exit(1);
}
