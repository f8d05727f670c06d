import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compiled } from '../../testkit/compiledCli.js';
import { ROOT } from '../../testkit/runCli.js';

/**
 * A script run in a fresh Node process with the library loaded as an app loads it, as JavaScript
 * (src/ compiled, no tsx in the process): it loads the default model, predicts one photo, closes
 * it, then fails the way an app's own code would.
 */
function runAfterLoad(failure: string): { code: number | null; stdout: string; stderr: string } {
  const script = `
    import { loadModel } from ${JSON.stringify(compiled('src/index.ts'))};
    const guarded = () => process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    const before = guarded();
    const model = await loadModel();
    const [row] = await model.predict(${JSON.stringify(join(ROOT, 'examples/happy/Azra_Akin_0003.jpg'))});
    await model.close();
    console.log(JSON.stringify({ label: row.label, before, after: guarded() }));
    ${failure}
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
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

test('in a worker thread too, starting the engine leaves its process listeners as they were', async () => {
  const { Worker } = await import('node:worker_threads');
  // Node 20 does not carry tsx into workers: the engine's .ts is loaded through tsx's API, as spawnWorker does.
  const engine = pathToFileURL(join(ROOT, 'src/engine/engine.ts')).href;
  const source = `
    const { parentPort } = require('node:worker_threads');
    const guarded = () => process.listenerCount('uncaughtException') + process.listenerCount('unhandledRejection');
    const before = guarded();
    import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
      .then((tsx) => tsx.tsImport(${JSON.stringify(engine)}, ${JSON.stringify(import.meta.url)}))
      .then((m) => m.initEngine())
      .then(() => parentPort.postMessage({ before, after: guarded() }));
  `;
  const worker = new Worker(source, { eval: true });
  const counts = await new Promise<{ before: number; after: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(counts.after, counts.before);
});
