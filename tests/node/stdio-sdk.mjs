// The official TypeScript SDK client spawns `coda serve --stdio` with StdioClientTransport, as Claude
// Desktop, Claude Code or Cursor would, and runs initialize -> tools/list -> ping over stdin/stdout,
// then a task with a fixture agent.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, step, tempDir, withCodaClient, writeFile } from './stdio-support.mjs';

await step('stdio: TypeScript SDK client over coda serve --stdio', async () => {
  await withCodaClient(['serve', '--stdio', '--data-dir', tempDir()], async (client) => {
    assert.equal(client.getServerVersion()?.name, 'coda');
    const { tools } = await client.listTools();
    assert.ok(Array.isArray(tools), 'tools/list returns an array');
    for (const tool of tools) assert.ok(tool.description, `tool ${tool.name} has a description`);
    assert.deepEqual(await client.ping(), {});
  });
});

// The task tools over stdio, as a local Claude Desktop user would use them: coda_run returns at once,
// the agent (the fake Claude Code CLI of tests/fixtures/agents, run by the real agent-cli plugin
// through the host's process service) does the work, and coda_get_result with wait_s brings its answer.
await run('stdio: coda_run then coda_get_result with an agent', async () => {
  const data = tempDir();
  const agents = fileURLToPath(new URL('../fixtures/agents', import.meta.url));
  const config = writeFile(data, 'coda.yaml', `plugins:
  load: [agent-cli]
agents:
  order: [claude]
  policy:
    env_allowlist: [HOME, LANG]
    env: {PATH: "${agents}:/usr/bin:/bin"}
    kill_grace_s: 1
  backends:
    claude: {component: dev.coda.agent.cli, preset: claude}
`);
  await withCodaClient(['serve', '--stdio', '--config', config, '--data-dir', join(data, 'data')], async (client) => {
    const run = await client.callTool({ name: 'coda_run', arguments: { prompt: 'add a README' } });
    assert.ok(!run.isError, JSON.stringify(run));
    const { task_id: taskId, session_id: sessionId, status } = run.structuredContent;
    assert.match(taskId, /^task_[0-9a-f]{32}$/);
    assert.match(sessionId, /^sess_[0-9a-f]{32}$/);
    assert.equal(status, 'queued');
    let result;
    for (let i = 0; i < 6; ++i) {
      const got = await client.callTool({ name: 'coda_get_result', arguments: { task_id: taskId, wait_s: 10 } });
      assert.ok(!got.isError, JSON.stringify(got));
      result = got.structuredContent;
      if (!['queued', 'running'].includes(result.status)) break;
    }
    assert.equal(result.status, 'completed', JSON.stringify(result));
    assert.equal(result.agent, 'claude');
    assert.match(result.summary, /Claude finished the task/);
    assert.equal(result.usage.output_tokens, 340);
    const inbox = await client.callTool({ name: 'coda_inbox', arguments: {} });
    assert.deepEqual(inbox.structuredContent.tasks.map((t) => t.task_id), [taskId]);
  });
});
