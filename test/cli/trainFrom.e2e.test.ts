import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { makeClassFolders } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { runCli } from '../../testkit/runCli.js';

// `happysad train DIR --from MODEL|default`: the CLI side (the library's is test/train/trainFrom.test.ts).

test('train --from a model: fine-tunes it, says where it started and how that model scored; --json carries it', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 12, { size: 40 });
  const first = join(await tempDir(), 'first');
  const fast = ['--epochs', '1', '--batch', '8', '--workers', '1'];
  assert.equal(runCli(['train', data, '--arch', 'seed-a', '--input', '32x32x1', ...fast, '--seed', '4', '--out', first]).code, 0);
  const out = join(await tempDir(), 'tuned');
  const text = runCli(['train', data, '--from', first, ...fast, '--seed', '4', '--out', out]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stderr, /before fine-tuning, first scores balanced accuracy \d\.\d{3} on the \d+ validation images/);
  assert.match(text.stdout, new RegExp(`Started from ${first}; on these validation images it scored balanced accuracy \\d\\.\\d{3} before fine-tuning`));
  const meta = JSON.parse(await readFile(join(out, 'happysad.json'), 'utf8'));
  assert.equal(meta.startedFrom.from, first);
  assert.equal(meta.training.options.learningRate, 1e-4, 'the fine-tuning rate, not train\'s default');
  const again = runCli(['train', data, '--from', first, ...fast, '--seed', '4', '--lr', '0.0003', '--no-augment', '--out', join(await tempDir(), 'j'), '--json']);
  assert.equal(again.code, 0, again.stderr);
  const j = JSON.parse(again.stdout);
  assert.equal(j.startedFrom.from, first);
  assert.equal(j.startedFrom.validationBefore.n, j.validation.n, 'before and after on the same images');
});

test('train --from: contradicting options and --no-augment alone are usage errors; --from default is the shipped model', async () => {
  const data = await tempDir();
  await makeClassFolders(data, 4, { size: 40 });
  const out = join(await tempDir(), 'x');
  const input = runCli(['train', data, '--from', 'default', '--input', '32x32x1', '--out', out]);
  assert.equal(input.code, 2);
  assert.match(input.stderr, /--input 32x32x1 conflicts with --from default, whose input is 48x48x1/);
  const arch = runCli(['train', data, '--from', 'default', '--arch', 'seed-b', '--out', out]);
  assert.equal(arch.code, 2);
  assert.match(arch.stderr, /--arch seed-b conflicts with --from default, a face-48 model/);
  const alone = runCli(['train', data, '--no-augment', '--out', out]);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--no-augment only changes a --from run/);
});
