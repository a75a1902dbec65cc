// Shared helpers of the stdio and bridge Node tests (stdio-*.mjs, bridge-*.mjs).
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const codaBinary = process.env.CODA_BINARY;
if (!codaBinary) {
  console.error('CODA_BINARY is not set (ctest sets it to the built coda)');
  process.exit(2);
}

// A fresh temporary directory, removed at exit.
export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'coda-node-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeFile(dir, name, text) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// Starts `coda serve` on a free loopback port and resolves with {url, stop(), output()} once it
// printed its URL and /readyz answers 200. The process is killed at exit if the test forgets it.
export async function startServe(args) {
  const child = spawn(codaBinary, ['serve', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const killAtExit = () => child.kill('SIGKILL');
  process.on('exit', killAtExit);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 20000;
  let url;
  while (!url) {
    const m = output.match(/listening on (http:\/\/[^\s/]+)/);
    if (m) url = m[1];
    else if (child.exitCode !== null) throw new Error(`coda exited early:\n${output}`);
    else if (Date.now() > deadline) throw new Error(`coda did not print its URL:\n${output}`);
    else await sleep(20);
  }
  while (true) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch { /* not accepting yet */ }
    if (Date.now() > deadline) throw new Error(`coda did not become ready:\n${output}`);
    await sleep(20);
  }
  return {
    url,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      const { code } = await exited;
      process.off('exit', killAtExit);
      return code;
    },
  };
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Runs `body`, printing the failure and exiting non-zero on an exception; exits 0 otherwise.
// One named check: prints "ok - NAME", or "not ok - NAME" and the error and exits 1.
export async function step(name, body) {
  try {
    await body();
    console.log(`ok - ${name}`);
  } catch (e) {
    console.error(`not ok - ${name}\n${e?.stack ?? e}`);
    process.exit(1);
  }
}

// The script's last check: like step, then exits 0 (whatever handles are still open).
export async function run(name, body) {
  await step(name, body);
  process.exit(0);
}

// Spawns `command ARGS` under the SDK's StdioClientTransport (as Claude Desktop would), connects a
// Client, runs `fn(client, stderr)` (stderr() is what the child printed so far) and closes. A failure
// carries the child's stderr (headed by `label`), then `moreOutput()`.
export async function withStdioClient({ command, args, env = {}, label = command }, fn,
  moreOutput = () => '') {
  const transport = new StdioClientTransport({
    command,
    args,
    env: { ...process.env, ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => { stderr += d; });
  const client = new Client({ name: 'coda-node-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    await fn(client, () => stderr);
  } catch (e) {
    e.message += `\n--- ${label} stderr ---\n${stderr}${moreOutput()}`;
    throw e;
  } finally {
    await client.close();
  }
}

// withStdioClient for `coda ARGS`.
export async function withCodaClient(args, fn, moreOutput = () => '') {
  return withStdioClient({ command: codaBinary, args, label: 'coda' }, fn, moreOutput);
}
