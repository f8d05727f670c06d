import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeModel, scrapeMetrics } from '../../testkit/serveFixtures.js';
import { compiled } from '../../testkit/compiledCli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const runner = compiled('test/serve/runServeCommand.ts');

test('happysad serve --port 0: prints its address, answers, and exits 0 on SIGTERM', async () => {
  const model = await makeModel({ faces: false });
  const child = spawn(process.execPath, [runner, '--model', model, '--port', '0', '--queue', '3'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address printed within 60 s:\n${stderr}`)), 60_000);
      child.stderr.on('data', () => {
        const m = /on (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', () => reject(new Error(`exited early:\n${stderr}`)));
    });
    const health = await (await fetch(`${address}/healthz`)).json();
    assert.equal(health.status, 'ok');
    const metrics = await scrapeMetrics(address);
    assert.equal(metrics.get('happysad_queue_limit', { kind: 'queue' }), 3, 'options reach the server');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /stopping/);
});
