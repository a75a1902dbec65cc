// Progress while a call runs, on every network transport: coda_get_result waiting 12 s on a running
// task sends notifications/progress spread over the wait — not bunched with the answer — over
// Streamable HTTP in response_mode auto (the official SDK client) and sse (headers at once), and
// over the web UI's WebSocket. The real `coda serve` with the fixture agent plugin; the four waits run
// at once on one host, so they also show that waits do not queue behind one another.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { run, startServe, tempDir, writeFile } from './stdio-support.mjs';

const pluginDir = process.env.CODA_PLUGIN_DIR;
const fixtureDir = process.env.CODA_FIXTURE_PLUGIN_DIR;
const WAIT_S = 12;

// Progress arrival times (ms after the call was sent) must cover the wait: the first within the
// first seconds, the last near its end, the answer after them.
function assertSpread(label, times, answeredAt) {
  assert.ok(times.length >= 3, `${label}: ${times.length} progress notifications: ${times}`);
  assert.ok(times[0] < 4000, `${label}: first progress only after ${times[0]} ms`);
  assert.ok(times.at(-1) - times[0] > 8000, `${label}: progress bunched: ${times}`);
  assert.ok(answeredAt >= WAIT_S * 1000 - 1000, `${label}: answered after ${answeredAt} ms`);
  assert.ok(times.at(-1) <= answeredAt, `${label}: progress after the answer`);
}

async function sdkClient(url) {
  const client = new Client({ name: 'coda-streaming-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

async function runTask(client) {
  const r = await client.callTool({ name: 'coda_run', arguments: { prompt: 'FIXTURE: sleep 60' } });
  assert.ok(!r.isError, JSON.stringify(r));
  return r.structuredContent.task_id;
}

// The SDK client: progress via onprogress, timed on arrival.
async function sdkWait(client, taskId) {
  const times = [];
  const t0 = Date.now();
  const result = await client.callTool(
    { name: 'coda_get_result', arguments: { task_id: taskId, wait_s: WAIT_S } },
    CallToolResultSchema,
    { onprogress: () => times.push(Date.now() - t0), timeout: 60000 });
  const answeredAt = Date.now() - t0;
  assert.equal(result.structuredContent.status, 'running');
  return { times, answeredAt };
}

// response_mode sse, with a raw fetch: the status line and headers arrive at once, then the events.
async function rawSseWait(url, taskId) {
  const t0 = Date.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: {
      name: 'coda_get_result', arguments: { task_id: taskId, wait_s: WAIT_S },
      _meta: { progressToken: 'raw' } } }),
  });
  const headersAt = Date.now() - t0;
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /text\/event-stream/);
  const times = [];
  let answeredAt = -1;
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    text += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const event = text.slice(0, end);
      text = text.slice(end + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('');
      if (!data) continue;
      const msg = JSON.parse(data);
      if (msg.method === 'notifications/progress') times.push(Date.now() - t0);
      if (msg.id === 9) answeredAt = Date.now() - t0;
    }
  }
  assert.ok(headersAt < 2000, `sse: headers only after ${headersAt} ms`);
  return { times, answeredAt };
}

// The web UI's WebSocket: a ticket, then JSON-RPC messages timed on arrival.
async function wsWait(base, taskId) {
  const ticket = await (await fetch(`${base}/ui/api/ticket`, { method: 'POST' })).json();
  const ws = new WebSocket(`${base.replace('http', 'ws')}${ticket.ws_path}?ticket=${ticket.ticket}`);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const times = [];
  let t0 = 0;
  const answered = new Promise((resolve) => {
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.method === 'notifications/progress') times.push(Date.now() - t0);
      if (msg.id === 2) resolve(Date.now() - t0);
    };
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {
    protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ws', version: '1' } } }));
  t0 = Date.now();
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: {
    name: 'coda_get_result', arguments: { task_id: taskId, wait_s: WAIT_S },
    _meta: { progressToken: 'ws' } } }));
  const answeredAt = await answered;
  ws.close();
  return { times, answeredAt };
}

await run('streaming: progress spread over a 12 s wait on HTTP (auto, sse) and WebSocket', async () => {
  const dir = tempDir();
  const config = writeFile(dir, 'coda.yaml', `
plugins:
  search_paths: ["${pluginDir}", "${fixtureDir}"]
  load: [{name: transport-mcp-http, required: true}, {name: transport-web-ui, required: true},
         {name: agent-fixture, required: true}]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
  mcp-sse: {component: dev.coda.transport.mcp-http, path: /mcp-sse, response_mode: sse}
  web-ui: {component: dev.coda.transport.web-ui, path: /ui}
tasks: {max_per_owner: 5, max_concurrent: 5}
agents:
  order: [fixture]
  policy: {kill_grace_s: 1}
  backends:
    fixture: {component: dev.coda.test.agent-fixture}
`);
  const server = await startServe(['--config', config, '--data-dir', `${dir}/data`]);
  try {
    const auto = await sdkClient(`${server.url}/mcp`);
    const sse = await sdkClient(`${server.url}/mcp-sse`);
    const tasks = [];
    for (let i = 0; i < 4; ++i) tasks.push(await runTask(auto));
    const [a, s, raw, w] = await Promise.all([
      sdkWait(auto, tasks[0]),
      sdkWait(sse, tasks[1]),
      rawSseWait(`${server.url}/mcp-sse`, tasks[2]),
      wsWait(server.url, tasks[3]),
    ]);
    assertSpread('http auto', a.times, a.answeredAt);
    assertSpread('http sse (SDK)', s.times, s.answeredAt);
    assertSpread('http sse (raw)', raw.times, raw.answeredAt);
    assertSpread('websocket', w.times, w.answeredAt);
    await auto.close();
    await sse.close();
  } catch (e) {
    e.message += `\n--- coda output ---\n${server.output()}`;
    throw e;
  } finally {
    await server.stop();
  }
});
