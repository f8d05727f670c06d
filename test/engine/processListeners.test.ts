import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../fixtures/runCli.js';

/**
 * A script run in a fresh Node process with the library loaded from src/: it loads the default
 * model, predicts one photo, closes it, then fails the way an app's own code would.
 */
function runAfterLoad(failure: string): { code: number | null; stdout: string; stderr: string } {
  const script = `
    import { loadModel } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
    const guarded = () => process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    const before = guarded();
    const model = await loadModel();
    const [row] = await model.predict(${JSON.stringify(join(ROOT, 'examples/happy/Azra_Akin_0003.jpg'))});
    await model.close();
    console.log(JSON.stringify({ label: row.label, before, after: guarded() }));
    ${failure}
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('after loadModel(), predict and close, an app error exits 1 with its own message, and no listener is left on process', () => {
  const r = runAfterLoad(`throw new Error('the app failed on its own');`);
  const report = JSON.parse(r.stdout.trim().split('\n')[0]!);
  assert.equal(report.label, 'happy');
  assert.equal(report.after, report.before, 'uncaughtException/unhandledRejection listeners added by loading a model');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Error: the app failed on its own/);
  assert.doesNotMatch(r.stderr, /tf-backend-wasm/);
});

test('after loadModel(), an unhandled rejection ends the process as Node does by default (exit 1, the reason printed)', () => {
  const r = runAfterLoad(`Promise.reject(new Error('a promise the app forgot'));`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Error: a promise the app forgot/);
  assert.doesNotMatch(r.stderr, /tf-backend-wasm/);
});
