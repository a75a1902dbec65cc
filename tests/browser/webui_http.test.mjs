// The web UI transport over real sockets, against the real `coda` binary: static files and their
// security headers, the ticket endpoint, and MCP over the WebSocket (node:test; Node 22).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { startCoda, webUiConfig } from './support/coda.mjs';

let coda;

before(async () => {
  coda = await startCoda({ configYaml: webUiConfig({ webUi: { ticket_ttl_s: 2, max_message_kb: 64 } }) });
});
after(async () => { await coda?.stop(); });

// A raw request (fetch cannot send Origin or Upgrade headers of its own choosing).
function raw(method, path, headers = {}) {
  const url = new URL(coda.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode, headers: res.headers, body: '' }); });
    req.on('error', reject);
    req.end();
  });
}

async function ticket(headers = {}) {
  const r = await fetch(`${coda.url}/ui/api/ticket`, { method: 'POST', headers });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.match(body.ticket, /^[0-9a-f]{64}$/);
  assert.equal(body.ws_path, '/ws');
  return body.ticket;
}

// Opens /ws with a fresh ticket; resolves with a small JSON-RPC helper.
function openSocket(t) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${coda.url.replace('http', 'ws')}/ws?ticket=${t}`);
    const waiting = new Map();
    const frames = [];
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      frames.push(m);
      if (m.id !== undefined && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); }
    };
    ws.onerror = () => reject(new Error('WebSocket error'));
    ws.onopen = () => resolve({
      ws,
      frames,
      call(id, method, params = {}) {
        return new Promise((res) => { waiting.set(id, res); ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params })); });
      },
      closed: new Promise((res) => { ws.onclose = (e) => res(e.code); }),
    });
  });
}

function assertSecurityHeaders(headers) {
  const csp = headers.get ? headers.get('content-security-policy') : headers['content-security-policy'];
  assert.ok(csp, 'a Content-Security-Policy');
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /https?:|\*/, 'no external source in the CSP');
  const get = (n) => (headers.get ? headers.get(n) : headers[n]);
  assert.equal(get('x-content-type-options'), 'nosniff');
  assert.equal(get('referrer-policy'), 'no-referrer');
  assert.equal(get('x-frame-options'), 'DENY');
}

describe('static dashboard', () => {
  test('/ redirects to the dashboard', async () => {
    const r = await fetch(`${coda.url}/`, { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/ui/');
    const bare = await fetch(`${coda.url}/ui`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/ui/');
  });

  test('the page and its modules are served with security headers and validators', async () => {
    const page = await fetch(`${coda.url}/ui/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assertSecurityHeaders(page.headers);
    const html = await page.text();
    assert.match(html, /<script type="module" src="js\/app\.js"><\/script>/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'nothing loaded from another host');
    for (const asset of ['js/app.js', 'js/mcp_client.js', 'js/ansi.js', 'js/output_log.js', 'app.css']) {
      const r = await fetch(`${coda.url}/ui/${asset}`);
      assert.equal(r.status, 200, asset);
      assert.match(r.headers.get('content-type'), asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      const etag = r.headers.get('etag');
      assert.ok(etag, `${asset} has an ETag`);
      const again = await fetch(`${coda.url}/ui/${asset}`, { headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304, `${asset} revalidates`);
    }
  });

  test('unknown and unsafe paths are 404, writes are 405', async () => {
    for (const p of ['/ui/nope.js', '/ui/.hidden', '/ui/js/../index.html', '/ui/%2e%2e/etc/passwd', '/nothing-here']) {
      const r = await raw('GET', p);
      assert.equal(r.status, 404, p);
    }
    const post = await fetch(`${coda.url}/ui/index.html`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  test('the UI headers stay off /mcp', async () => {
    const r = await fetch(`${coda.url}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-security-policy'), null);
    assert.equal(r.headers.get('x-frame-options'), null);
  });

  test('the page config names the endpoints and the caller', async () => {
    const r = await fetch(`${coda.url}/ui/api/config`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const config = await r.json();
    assert.equal(config.mcp_path, '/mcp');
    assert.equal(config.ws_path, '/ws');
    assert.equal(config.ticket_path, '/ui/api/ticket');
    assert.equal(typeof config.poll_interval_ms, 'number');
    assert.equal(typeof config.user, 'object');
  });
});

describe('tickets', () => {
  test('only POST from the page itself gets a ticket', async () => {
    const get = await fetch(`${coda.url}/ui/api/ticket`);
    assert.equal(get.status, 405);
    const foreign = await fetch(`${coda.url}/ui/api/ticket`, { method: 'POST', headers: { Origin: 'https://evil.example.com' } });
    assert.equal(foreign.status, 403);
    await ticket({ Origin: coda.url });
    const a = await ticket();
    const b = await ticket();
    assert.notEqual(a, b);
  });

  test('the upgrade needs a valid, unused, fresh ticket from an allowed Origin', async () => {
    const upgrade = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    assert.equal((await raw('GET', '/ws', upgrade)).status, 401);
    assert.equal((await raw('GET', `/ws?ticket=${'0'.repeat(64)}`, upgrade)).status, 401);
    const t = await ticket();
    assert.equal((await raw('GET', `/ws?ticket=${t}`, { ...upgrade, Origin: 'https://evil.example.com' })).status, 403);
    const used = await ticket();
    assert.equal((await raw('GET', `/ws?ticket=${used}`, upgrade)).status, 101);
    assert.equal((await raw('GET', `/ws?ticket=${used}`, upgrade)).status, 401, 'single use');
    const stale = await ticket();
    await new Promise((r) => setTimeout(r, 2500));  // ticket_ttl_s is 2 in this host
    assert.equal((await raw('GET', `/ws?ticket=${stale}`, upgrade)).status, 401, 'expired');
  });
});

describe('MCP over WebSocket', () => {
  test('initialize, ping and tools/list answer one frame per message, ids echoed', async () => {
    const s = await openSocket(await ticket());
    const init = await s.call(7, 'initialize', { protocolVersion: '2025-11-25', capabilities: {},
      clientInfo: { name: 'webui-test', version: '1' } });
    assert.equal(init.result.protocolVersion, '2025-11-25');
    assert.equal(init.result.serverInfo.name, 'coda');
    s.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    assert.deepEqual((await s.call('s', 'ping')).result, {});
    const list = await s.call(0, 'tools/list');
    assert.ok(Array.isArray(list.result.tools));
    const unknown = await s.call(9, 'no/such/method');
    assert.equal(unknown.error.code, -32601);
    assert.ok(s.frames.every((f) => f.id !== undefined || f.method), 'the notification got no reply');
    s.ws.close();
    await s.closed;
  });

  test('a frame over max_message_kb closes the socket with 1009', async () => {
    const s = await openSocket(await ticket());
    s.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(70 * 1024) } }));
    assert.equal(await s.closed, 1009);
  });

  test('unparseable text is answered with -32700', async () => {
    const s = await openSocket(await ticket());
    const answer = new Promise((res) => { s.ws.onmessage = (e) => res(JSON.parse(e.data)); });
    s.ws.send('{not json');
    assert.equal((await answer).error.code, -32700);
    s.ws.close();
    await s.closed;
  });
});
