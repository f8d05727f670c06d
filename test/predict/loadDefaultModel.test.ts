import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError, defaultModelDir, loadModel } from '../../src/index.js';
import { ROOT } from '../../testkit/runCli.js';

test('loadModel() and loadModel("default") load the default model shipped in the package; defaultModelDir() says where', async () => {
  assert.equal(defaultModelDir(), join(ROOT, 'models', 'default'));
  const shipped = JSON.parse(await readFile(join(ROOT, 'models/default/happysad.json'), 'utf8'));
  for (const model of [await loadModel(), await loadModel('default')]) {
    assert.equal(model.metadata.name, shipped.name);
    assert.equal(model.metadata.threshold, shipped.threshold);
    const [row] = await model.predict(join(ROOT, 'examples/sad/Avinash_13.jpg'));
    assert.equal(row!.label, 'sad');
    await model.close();
  }
  await assert.rejects(loadModel(join(ROOT, 'no-such-model')), (err: unknown) => err instanceof BundleError && /no-such-model/.test(err.message));
});
