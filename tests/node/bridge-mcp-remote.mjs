// mcp-remote (npm), the stdio-to-HTTP bridge most MCP users run today, in front of a real
// `coda serve` with bearer auth, driven by the official TypeScript SDK client.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { run, startServe, tempDir, withStdioClient, writeFile } from './stdio-support.mjs';

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
  try {
    await withStdioClient({
      command: process.execPath,
      args: [proxy, `${server.url}/mcp`, '--transport', 'http-only', '--header',
        `Authorization:Bearer ${token}`],
      env: { MCP_REMOTE_CONFIG_DIR: `${dir}/mcp-auth` },
      label: 'mcp-remote',
    }, async (client) => {
      assert.equal(client.getServerVersion()?.name, 'coda');
      const { tools } = await client.listTools();
      assert.ok(Array.isArray(tools));
      assert.deepEqual(await client.ping(), {});
    }, () => `\n--- coda output ---\n${server.output()}`);
  } finally {
    await server.stop();
  }
});
