// The task tools through the official TypeScript SDK client over Streamable HTTP, against the real
// `coda serve` with the fixture agent plugin: coda_run returns while the agent still runs; coda_inbox
// lists the task; coda_get_result with wait_s streams progress notifications and returns the result;
// coda_cancel stops a running agent (its process is gone). The SDK checks every structuredContent
// against the tool's outputSchema.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { run, sleep, startServe, tempDir, writeFile } from './stdio-support.mjs';

const pluginDir = process.env.CODA_PLUGIN_DIR;
const fixtureDir = process.env.CODA_FIXTURE_PLUGIN_DIR;

function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(pred, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(50);
  }
  return pred();
}

await run('tasks: TypeScript SDK client runs, lists, waits for and cancels tasks', async () => {
  const dir = tempDir();
  const dataDir = `${dir}/data`;
  const config = writeFile(dir, 'coda.yaml', `
plugins:
  search_paths: ["${pluginDir}", "${fixtureDir}"]
  load: [{name: transport-mcp-http, required: true}, {name: agent-fixture, required: true}]
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
agents:
  order: [fixture]
  policy: {kill_grace_s: 1}
  backends:
    fixture: {component: dev.coda.test.agent-fixture}
`);
  const server = await startServe(['--config', config, '--data-dir', dataDir]);
  const client = new Client({ name: 'coda-tasks-test', version: '1.0.0' });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    assert.match(client.getInstructions() ?? '', /coda_run/);
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const name of ['coda_run', 'coda_inbox', 'coda_get_result', 'coda_cancel']) {
      assert.ok(byName[name], `${name} is listed`);
      assert.ok(byName[name].outputSchema, `${name} has an outputSchema`);
      assert.ok(byName[name].description.length > 20);
    }
    assert.equal(byName.coda_inbox.annotations.readOnlyHint, true);
    assert.equal(byName.coda_run.annotations.readOnlyHint, false);
    assert.equal(byName.coda_cancel.annotations.destructiveHint, true);

    // coda_run answers while the agent still runs (it sleeps 3 s).
    const t0 = Date.now();
    const submitted = await client.callTool({ name: 'coda_run',
      arguments: { prompt: 'FIXTURE: lines 2\nFIXTURE: sleep 3\nFIXTURE: write done.txt',
        email: 'dev@example.com', context: '{"catalog":"main"}' } });
    assert.ok(!submitted.isError, JSON.stringify(submitted));
    const { task_id: taskId, session_id: sessionId } = submitted.structuredContent;
    assert.match(taskId, /^task_[0-9a-f]{32}$/);
    assert.match(sessionId, /^sess_[0-9a-f]{32}$/);
    assert.deepEqual(JSON.parse(submitted.content[0].text), submitted.structuredContent);
    const early = await client.callTool({ name: 'coda_get_result', arguments: { task_id: taskId } });
    assert.ok(['queued', 'running'].includes(early.structuredContent.status),
      `not final yet: ${early.structuredContent.status}`);
    assert.ok(Date.now() - t0 < 3000, 'coda_run did not wait for the agent');

    const inbox = await client.callTool({ name: 'coda_inbox', arguments: {} });
    assert.equal(inbox.structuredContent.tasks.length, 1);
    assert.equal(inbox.structuredContent.tasks[0].task_id, taskId);

    // wait_s: progress notifications while waiting, then the final result.
    const progress = [];
    const done = await client.request(
      { method: 'tools/call', params: { name: 'coda_get_result',
        arguments: { task_id: taskId, wait_s: 20 } } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push(p), timeout: 30000 });
    assert.equal(done.structuredContent.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.structuredContent.files_changed, ['done.txt']);
    assert.ok(progress.length >= 1, 'progress notifications while waiting');

    // coda_cancel stops the agent process.
    const hang = await client.callTool({ name: 'coda_run', arguments: { prompt: 'FIXTURE: hang' } });
    const hangId = hang.structuredContent.task_id;
    const pidFile = `${dataDir}/workspaces/${hang.structuredContent.session_id}/.coda/tasks/${hangId}/agent.pid`;
    assert.ok(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== ''));
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(alive(pid));
    const cancelled = await client.callTool({ name: 'coda_cancel', arguments: { task_id: hangId } });
    assert.equal(cancelled.structuredContent.status, 'cancelled', JSON.stringify(cancelled));
    assert.ok(await waitFor(() => !alive(pid)), 'the agent process is gone');

    const bad = await client.callTool({ name: 'coda_run',
      arguments: { prompt: 'x', context: '{not json' } });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0].text, /context is not a JSON object/);
  } catch (e) {
    e.message += `\n--- coda output ---\n${server.output()}`;
    throw e;
  } finally {
    await client.close();
    await server.stop();
  }
});
