// The official TypeScript SDK client spawns `coda bridge` in front of a real `coda serve` with bearer
// auth: the first token the token command prints is rejected and refreshed; tools/list and ping work;
// with the server stopped, a request fails with a -32000 error that names the failure.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { run, startServe, tempDir, withCodaClient, writeFile } from './stdio-support.mjs';

await run('bridge: TypeScript SDK client through coda bridge to coda serve', async () => {
  const dir = tempDir();
  const goodToken = 'bridge-test-token-0123456789abcdef';
  const config = writeFile(dir, 'coda.yaml', `
auth:
  mode: bearer
  tokens:
    - {env: CODA_BRIDGE_TEST_TOKEN, subject: bridge-user, email: bridge@example.com}
plugins:
  load:
    - {name: transport-mcp-http, required: true}
transports:
  mcp-http: {component: dev.coda.transport.mcp-http, path: /mcp}
`);
  // Prints an expired token first (as a stale cache would), then the good one.
  const counter = `${dir}/count`;
  const tokenScript = writeFile(dir, 'token.sh', `
n=$(cat "${counter}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${counter}"
if [ $n -eq 1 ]; then echo '{"access_token":"stale-token","expiry":"2999-01-01T00:00:00Z"}';
else echo '{"access_token":"${goodToken}","token_type":"Bearer","expiry":"2999-01-01T00:00:00Z"}'; fi
`);
  process.env.CODA_BRIDGE_TEST_TOKEN = goodToken;
  const server = await startServe(['--config', config, '--data-dir', `${dir}/data`]);

  const args = ['bridge', '--url', `${server.url}/mcp`, '--token-command', `sh ${tokenScript}`,
    '--timeout', '10'];
  try {
    await withCodaClient(args, async (client, stderr) => {
      assert.equal(client.getServerVersion()?.name, 'coda');
      assert.equal(readFileSync(counter, 'utf8').trim(), '2', 'the rejected token was refreshed once');
      const { tools } = await client.listTools();
      assert.ok(Array.isArray(tools));
      assert.deepEqual(await client.ping(), {});
      assert.ok(!stderr().includes(goodToken) && !stderr().includes('stale-token'), 'no token in the log');

      assert.equal(await server.stop(), 0);
      await assert.rejects(client.ping(), (e) => {
        assert.equal(e.code, -32000, `expected -32000, got ${e.code}: ${e.message}`);
        assert.match(e.message, /refused/);
        return true;
      });
    }, () => `\n--- coda serve output ---\n${server.output()}`);
  } finally {
    await server.stop();
  }
});
