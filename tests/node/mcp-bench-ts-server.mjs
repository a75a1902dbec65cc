// The benchmark's peer: the official TypeScript SDK serving the same tool definitions statelessly
// with JSON responses (a fresh Server + transport per request, the SDK's documented stateless pattern).
// usage: node mcp-bench-ts-server.mjs TOOLS_JSON_FILE   (prints "listening on PORT")
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ListToolsRequestSchema, CallToolRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const tools = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const httpServer = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const server = new Server({ name: 'ts-bench', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => { transport.close(); server.close(); });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
});
httpServer.keepAliveTimeout = 60000;
httpServer.listen(0, '127.0.0.1', () => console.log(`listening on ${httpServer.address().port}`));
