// The dashboard end to end: the real `coda` binary with the fixture agent, Debian's chromium driven by
// playwright-core. Steps (each leaves a screenshot in $CODA_ARTIFACT_DIR):
//   01 the empty inbox over the WebSocket        05 the WebSocket blocked: polling keeps output live
//   02 a submitted task's output arriving live   06 chaining a new task on a finished one's session
//   03 the finished task with its result         07 viewer_url from coda_run opens that task
//   04 another task cancelled                    08 a phone-width view
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { chromium } from '../node/node_modules/playwright-core/index.mjs';
import { artifactDir, startCoda, webUiConfig } from './support/coda.mjs';
import { FIXTURE_AGENT, slowTaskPrompt, hangingTaskPrompt } from './support/fixture_agent.mjs';

const CHROMIUM = process.env.CODA_CHROMIUM || '/usr/bin/chromium';
const artifacts = artifactDir();
let step = 0;
const log = (...a) => console.log(`[dashboard] ${a.join(' ')}`);

async function shot(page, name) {
  step += 1;
  const file = path.join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  log(`screenshot ${file}`);
}

// Polls `fn` until it returns a truthy value (or throws after timeoutMs with `what`).
async function eventually(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function logLines(page) {
  return page.locator('.log .log-line').count();
}

async function submitTask(page, prompt) {
  await page.click('#new-task-link');
  await page.fill('#f-prompt', prompt);
  await page.click('#submit-task');
  await page.waitForURL(/#\/tasks\/task_/);
  return decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
}

// Lines must arrive over time, not all at once at the end: sees the count grow at least twice while
// the task is still running.
async function expectLiveLines(page, label) {
  const seen = new Set();
  await eventually(`${label}: output growing while the task runs`, async () => {
    const status = await page.locator('.detail-status .pill').textContent();
    const n = await logLines(page);
    if (status.trim() === 'running' && n > 0) seen.add(n);
    return seen.size >= 3;
  }, 30000);
  return Math.max(...seen);
}

async function mcpCall(url, name, args) {
  const r = await fetch(`${url}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }) });
  const text = await r.text();
  const json = JSON.parse(text.startsWith('{') ? text : text.split('\n').filter((l) => l.startsWith('data:')).pop().slice(5));
  assert.ok(!json.error, `${name}: ${JSON.stringify(json.error)}`);
  assert.ok(!json.result.isError, `${name}: ${JSON.stringify(json.result)}`);
  return json.result.structuredContent || JSON.parse(json.result.content[0].text);
}

async function main() {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
  const coda = await startCoda({ configYaml: webUiConfig({ agent: FIXTURE_AGENT,
    webUi: { poll_interval_ms: 500 } }) });
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox',
      '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') log(`console: ${m.text()}`); });

    // Every WebSocket goes through this route, so the test can cut it like a hostile proxy would.
    let blockWebSockets = false;
    const sockets = [];
    await page.routeWebSocket(/\/ws/, (ws) => {
      if (blockWebSockets) { ws.close({ code: 1011, reason: 'blocked by the test' }); return; }
      sockets.push(ws);
      ws.connectToServer();
    });

    // 01: the empty inbox, live over the WebSocket.
    await page.goto(`${coda.url}/`);
    await page.waitForURL(/\/ui\/$/);
    await eventually('WebSocket mode', async () =>
      (await page.getAttribute('#connection', 'data-mode')) === 'websocket');
    await page.locator('#inbox-empty').waitFor({ state: 'visible' });
    assert.match(await page.locator('#inbox-empty').textContent(), /No tasks yet/);
    await shot(page, 'empty-inbox');

    // 02/03: submit a task, watch its lines arrive, see it finish.
    const firstId = await submitTask(page, slowTaskPrompt(10, 700));
    await expectLiveLines(page, 'first task');
    await shot(page, 'live-output');
    await eventually('first task completed', async () =>
      (await page.locator('.detail-status .pill').textContent()).trim() === 'completed', 30000);
    await page.locator('.result').waitFor({ state: 'visible' });
    assert.ok(await logLines(page) >= 3, 'the log kept the lines');
    assert.equal(await page.locator(`.task-item[data-task-id="${firstId}"]`).count(), 1, 'the inbox lists it');
    await shot(page, 'completed');

    // 04: cancel another task.
    const hangingId = await submitTask(page, hangingTaskPrompt());
    await eventually('hanging task running', async () =>
      (await page.locator('.detail-status .pill').textContent()).trim() === 'running');
    await page.click('#cancel-task');
    await page.click('#cancel-task');  // the second click confirms
    await eventually('cancelled', async () =>
      (await page.locator('.detail-status .pill').textContent()).trim() === 'cancelled', 30000);
    await eventually('inbox shows cancelled', async () =>
      (await page.getAttribute(`.task-item[data-task-id="${hangingId}"]`, 'data-status')) === 'cancelled');
    await shot(page, 'cancelled');

    // Filters: counts per status, and filtering to one.
    await page.click('.chip[data-status="cancelled"]');
    await eventually('filtered to cancelled', async () => {
      const ids = await page.locator('.task-item').evaluateAll((els) => els.map((e) => e.dataset.taskId));
      return ids.length === 1 && ids[0] === hangingId;
    });
    await page.click('.chip[data-status="all"]');

    // 05: block the WebSocket; the page falls back to HTTP polling and stays live.
    blockWebSockets = true;
    for (const ws of sockets) await ws.close({ code: 1011, reason: 'blocked by the test' });
    await eventually('polling mode', async () =>
      (await page.getAttribute('#connection', 'data-mode')) === 'http');
    assert.match(await page.locator('#connection').textContent(), /Polling/);
    await submitTask(page, slowTaskPrompt(10, 700));
    await expectLiveLines(page, 'polling task');
    await shot(page, 'polling-live');
    await eventually('polling task completed', async () =>
      (await page.locator('.detail-status .pill').textContent()).trim() === 'completed', 30000);
    assert.equal(await page.getAttribute('#connection', 'data-mode'), 'http', 'still polling');

    // 06: chain a new task on the first task's session.
    await page.goto(`${coda.url}/ui/#/tasks/${firstId}`);
    await page.locator('#continue-task').waitFor({ state: 'visible' });
    await page.click('#continue-task');
    await page.locator('.chain-note').waitFor({ state: 'visible' });
    await page.fill('#f-prompt', slowTaskPrompt(3, 100));
    await shot(page, 'chain-form');
    await page.click('#submit-task');
    await page.waitForURL((u) => /#\/tasks\/task_/.test(u.hash) && !u.hash.includes(firstId));
    const chainedId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    const firstSession = (await mcpCall(coda.url, 'coda_get_result', { task_id: firstId })).session_id;
    const inbox = await mcpCall(coda.url, 'coda_inbox', {});
    const entry = inbox.tasks.find((t) => t.task_id === chainedId);
    assert.ok(entry, 'the chained task is in the inbox');
    assert.equal(entry.previous_session_id, firstSession, 'chained on the first task\'s session');

    // 07: coda_run's viewer_url opens that task in a fresh page.
    const run = await mcpCall(coda.url, 'coda_run', { prompt: slowTaskPrompt(2, 100) });
    assert.equal(run.viewer_url, `${coda.url}/ui/#/tasks/${run.task_id}`, 'coda_run returns viewer_url');
    const viewerUrl = run.viewer_url;
    const viewer = await context.newPage();
    await viewer.goto(viewerUrl);
    await viewer.locator('.detail-title').waitFor({ state: 'visible' });
    await eventually('viewer shows the task', async () =>
      (await viewer.locator('.meta').textContent()).includes(run.task_id));
    await shot(viewer, 'viewer-url');
    await viewer.close();

    // 08: a phone-width view of the inbox and a task.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${coda.url}/ui/#/`);
    await page.locator('.task-item').first().waitFor({ state: 'visible' });
    await shot(page, 'phone-inbox');
    await page.goto(`${coda.url}/ui/#/tasks/${firstId}`);
    await page.locator('.detail-title').waitFor({ state: 'visible' });
    await shot(page, 'phone-task');

    assert.deepEqual(pageErrors, [], 'no script errors on the page');
    log(`ok (chained ${chainedId} on ${firstSession})`);
  } finally {
    await browser?.close();
    await coda.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
