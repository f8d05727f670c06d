import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

// A run that stops with its promise unsettled (nothing left to wait on) must not pass for a
// finished one: exit 1 and a message. A run that settles, or ends by process.exit(), is left alone.

const guard = resolve('cli/unfinishedRun.ts');
const run = (body: string) => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { failIfUnfinished } from ${JSON.stringify(guard)};\n${body}`], { encoding: 'utf8' });

test('a run whose promise can never settle exits 1 and says its output is incomplete', () => {
  const r = run("failIfUnfinished(new Promise(() => {}), 'predict');");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /happysad predict: internal error: the run stopped before it finished.*its output is incomplete/);
  assert.equal(r.stdout, '');
  const json = run("failIfUnfinished(new Promise(() => {}), 'predict', true);");
  assert.equal(json.status, 1);
  assert.equal(JSON.parse(json.stdout).error.code, 'internal', 'with --json, one JSON object on stdout');
});

test('a run that settles, or that ends with process.exit(), keeps its own exit code and says nothing', () => {
  const settled = run("failIfUnfinished(new Promise((r) => setTimeout(r, 20)), 'predict');");
  assert.equal(settled.status, 0);
  assert.equal(settled.stderr, '');
  const failed = run("const p = Promise.reject(new Error('x')); p.catch(() => { process.exitCode = 3; }); failIfUnfinished(p, 'predict');");
  assert.equal(failed.status, 3);
  assert.equal(failed.stderr, '');
  const exited = run("failIfUnfinished(new Promise(() => {}), 'serve'); setTimeout(() => process.exit(0), 20);");
  assert.equal(exited.status, 0);
  assert.equal(exited.stderr, '');
});
