// mcp-remote (npm), the stdio-to-HTTP bridge most MCP users run today, in front of a real
// `coda serve` with bearer auth, driven by the official TypeScript SDK client.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { run, startServe, tempDir, writeFile } from './stdio-support.mjs';

const proxy = fileURLToPath(new URL('./node_modules/mcp-remote/dist/proxy.js', import.meta.url));

await run('bridge: mcp-remote in front of coda serve', async () => {
  const dir = tempDir();
  const token = 'mcp-remote-test-token-0123456789';
  const config = writeFile(dir, 'coda.yaml', `
auth:
  mode: bearer
  tokens:
    - {env: CODA_MCP_REMOTE_TEST_TOKEN, subject: remote-user}
plugins:
  load:
    - {name: transport-mcp-http, required: true}
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
`);
  process.env.CODA_MCP_REMOTE_TEST_TOKEN = token;
  const server = await startServe(['--config', config, '--data-dir', `${dir}/data`]);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [proxy, `${server.url}/mcp`, '--transport', 'http-only', '--header',
      `Authorization:Bearer ${token}`],
    env: { ...process.env, MCP_REMOTE_CONFIG_DIR: `${dir}/mcp-auth` },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'coda-mcp-remote-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    assert.equal(client.getServerVersion()?.name, 'coda');
    const { tools } = await client.listTools();
    assert.ok(Array.isArray(tools));
    assert.deepEqual(await client.ping(), {});
  } catch (e) {
    e.message += `\n--- mcp-remote stderr ---\n${stderr}\n--- coda output ---\n${server.output()}`;
    throw e;
  } finally {
    await client.close();
    await server.stop();
  }
});
