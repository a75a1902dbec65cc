// The official TypeScript SDK client spawns `coda serve --stdio` with StdioClientTransport, as Claude
// Desktop, Claude Code or Cursor would, and runs initialize -> tools/list -> ping over stdin/stdout.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { codaBinary, run, tempDir } from './stdio-support.mjs';

await run('stdio: TypeScript SDK client over coda serve --stdio', async () => {
  const data = tempDir();
  const transport = new StdioClientTransport({
    command: codaBinary,
    args: ['serve', '--stdio', '--data-dir', data],
    env: { ...process.env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'coda-stdio-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    assert.equal(client.getServerVersion()?.name, 'coda');
    const { tools } = await client.listTools();
    assert.ok(Array.isArray(tools), 'tools/list returns an array');
    for (const tool of tools) assert.ok(tool.description, `tool ${tool.name} has a description`);
    assert.deepEqual(await client.ping(), {});
  } catch (e) {
    e.message += `\n--- coda stderr ---\n${stderr}`;
    throw e;
  } finally {
    await client.close();
  }
});
