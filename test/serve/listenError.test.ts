import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { makeModel } from '../../testkit/serveFixtures.js';
import { cliArgs } from '../../testkit/compiledCli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The real entry point: it catches the command's error, so only closing the model lets the process end.
const BOUND_MS = 30_000; // loading the model included; the bug was a hang forever

let model: string;
before(async () => {
  model = await makeModel({ faces: false });
});

async function serve(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...cliArgs(), 'serve', '--model', model, '--concurrency', '1', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr, ms: performance.now() - started };
}

function assertCleanExit(r: { code: number | null; stderr: string; ms: number }, message: RegExp): void {
  assert.ok(r.ms < BOUND_MS, `still running after ${BOUND_MS / 1000} s:\n${r.stderr}`);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line:\n${r.stderr}`);
}

test('serve on a port in use: exits 2 with one line saying to choose another --port', async () => {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as { port: number }).port;
  try {
    const r = await serve(['--port', String(port), '--host', '127.0.0.1']);
    assertCleanExit(r, new RegExp(`^happysad serve: port ${port} is in use on 127\\.0\\.0\\.1: .*--port 0 for a free one`));
  } finally {
    holder.close();
  }
});

test('serve on a host that does not resolve: exits 2 with one line saying to use an IP address', async () => {
  // A malformed name (empty label): the resolver refuses it locally, so no DNS query leaves the machine.
  const r = await serve(['--port', '0', '--host', 'no_such_host..']);
  assertCleanExit(r, /^happysad serve: cannot listen on host no_such_host\.\.: address not found \(getaddrinfo E[A-Z_]+\); use an IP address/);
});
