// The official TypeScript SDK client against coda over Streamable HTTP: initialize, tools/list,
// tools/call with progress. usage: CODA_URL=http://127.0.0.1:PORT node mcp-sdk-client.mjs json|sse
// In sse mode (the server streams notifications) the call must deliver 3 increasing progress
// notifications before the result; in json mode (response_mode: json) none, and still the result.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const mode = process.argv[2];
assert.ok(mode === 'json' || mode === 'sse', 'usage: mcp-sdk-client.mjs json|sse');
const url = new URL(`${process.env.CODA_URL}/mcp`);

const client = new Client({ name: 'coda-sdk-test', version: '1.0.0' });
const logs = [];
client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logs.push(n.params));
const transport = new StreamableHTTPClientTransport(url);
await client.connect(transport);

const info = client.getServerVersion();
assert.equal(info.name, 'coda');
assert.ok(client.getServerCapabilities().tools, 'tools capability');

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
for (const name of ['test_simple_text', 'test_tool_with_progress', 'test_tool_with_logging']) {
  assert.ok(names.includes(name), `${name} listed: ${names.join(', ')}`);
}

const simple = await client.callTool({ name: 'test_simple_text', arguments: {} });
assert.equal(simple.content[0].text, 'This is a simple text response for testing.');

const progress = [];
const result = await client.callTool(
  { name: 'test_tool_with_progress', arguments: {} },
  CallToolResultSchema,
  { onprogress: (p) => progress.push(p) });
assert.equal(result.content[0].text, 'Progress tool completed');
if (mode === 'sse') {
  assert.equal(progress.length, 3, `progress notifications: ${JSON.stringify(progress)}`);
  assert.ok(progress[0].progress < progress[1].progress && progress[1].progress < progress[2].progress);
  assert.equal(progress[2].total, 100);
} else {
  assert.equal(progress.length, 0, 'json mode streams nothing');
}

await client.setLoggingLevel('info');
await client.callTool({ name: 'test_tool_with_logging', arguments: {} });
assert.equal(logs.length, mode === 'sse' ? 3 : 0, `log notifications: ${JSON.stringify(logs)}`);

const failed = await client.callTool({ name: 'test_error_handling', arguments: {} });
assert.equal(failed.isError, true);

await client.close();
console.log(`ok: ${mode} mode, ${tools.length} tools, ${progress.length} progress notifications`);
