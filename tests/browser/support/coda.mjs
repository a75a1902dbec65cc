// Starts the real `coda` binary for the web UI tests and stops it (with everything it started)
// afterwards. Paths come from the environment that tests/browser/CMakeLists.txt sets:
//   CODA_BINARY, CODA_PLUGIN_DIR, CODA_FIXTURE_PLUGIN_DIR, CODA_ARTIFACT_DIR
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this test through ctest (tests/browser)`);
  return value;
}

// A fresh directory, removed by the returned cleanup function.
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), prefix));
}

// Runs `coda serve` on a free loopback port with `configYaml` and a temp data dir. Resolves once
// `coda listening on http://HOST:PORT` was printed and /readyz answers 200.
export async function startCoda({ configYaml, env = {}, timeoutMs = 20000 }) {
  const dir = tempDir('coda-webui-');
  const configPath = path.join(dir, 'coda.yaml');
  fs.writeFileSync(configPath, configYaml);
  const dataDir = path.join(dir, 'data');
  const child = spawn(requireEnv('CODA_BINARY'),
    ['serve', '--config', configPath, '--listen', '127.0.0.1:0', '--data-dir', dataDir],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let stopped = false;

  const server = {
    url: null,
    dataDir,
    output: () => output,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  process.on('exit', () => { if (!stopped) child.kill('SIGKILL'); });

  const deadline = Date.now() + timeoutMs;
  while (!server.url) {
    const match = output.match(/coda listening on (http:\/\/[^\s]+)/);
    if (match) server.url = match[1];
    else if (child.exitCode !== null || Date.now() > deadline) {
      await server.stop();
      throw new Error(`coda did not start:\n${output}`);
    } else await new Promise((r) => setTimeout(r, 50));
  }
  for (;;) {
    try {
      const r = await fetch(`${server.url}/readyz`);
      if (r.status === 200) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`coda never became ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}

// The YAML for a host with the MCP HTTP transport, the web UI and (when given) the fixture agent.
export function webUiConfig({ webUi = {}, agent = null, extra = '' } = {}) {
  const plugins = [requireEnv('CODA_PLUGIN_DIR')];
  if (process.env.CODA_FIXTURE_PLUGIN_DIR) plugins.push(process.env.CODA_FIXTURE_PLUGIN_DIR);
  const webUiLines = Object.entries(webUi).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`).join('\n');
  return `server:
  listen: 127.0.0.1:0
plugins:
  search_paths: ${JSON.stringify(plugins)}
  load:
    - {name: transport-mcp-http, required: true}
    - {name: transport-web-ui, required: true}
${agent ? `    - {name: ${agent.plugin}, required: true}\n` : ''}transports:
  mcp-http:
    component: dev.coda.transport.mcp-http
    path: /mcp
  web-ui:
    component: dev.coda.transport.web-ui
${webUiLines}
${agent ? `agents:
  order: [${agent.name}]
  backends:
    ${agent.name}:
      component: ${agent.component}
${agent.config || ''}` : ''}${extra}`;
}

// Where screenshots and logs go (created on demand).
export function artifactDir() {
  const dir = process.env.CODA_ARTIFACT_DIR || path.join(process.cwd(), 'artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
