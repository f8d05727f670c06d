import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initEngine } from '../../src/engine/engine.js';
import { loadModel } from '../../src/predict/classifier.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const modelDir = join(root, 'models', 'default');
const examples = join(root, 'examples');

// The README's first example: the shipped model on the shipped photos. Six photos are an
// illustration, not an accuracy figure (those are in models/default/happysad.json); the test
// guards against a bundle or preprocessing change that silently breaks the out-of-the-box path.
test('the default model finds the one face in each example photo and scores every happy one above every sad one', async () => {
  await initEngine();
  const meta = JSON.parse(await readFile(join(modelDir, 'happysad.json'), 'utf8'));
  assert.ok(meta.preprocessing.faces, 'the default model crops faces');
  const files: { file: string; truth: string }[] = [];
  for (const cls of ['happy', 'sad']) {
    for (const name of (await readdir(join(examples, cls))).sort()) files.push({ file: join(examples, cls, name), truth: cls });
  }
  assert.equal(files.length, 6);
  const classifier = await loadModel(modelDir, { workers: 1 });
  try {
    const rows = await classifier.predict(files.map((f) => f.file));
    rows.forEach((row, i) => {
      assert.equal(row.error, undefined, `${files[i].file}: ${row.error}`);
      assert.equal(row.faces?.length, 1, `${files[i].file}: one face expected, found ${row.faces?.length ?? 0}`);
    });
    // A ranking, not six labels: a retrained model or a retuned threshold may move a photo across
    // the cut, but broken preprocessing (wrong crop, colour, scale) scrambles the order.
    const scores = (cls: string) => rows.filter((_, i) => files[i].truth === cls).map((r) => r.score!);
    assert.ok(Math.min(...scores('happy')) > Math.max(...scores('sad')), `happy ${scores('happy')} vs sad ${scores('sad')}`);
  } finally {
    await classifier.close();
  }
});
