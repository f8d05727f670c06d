import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { initEngine } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION } from '../../src/model/bundleMetadata.js';
import { saveBundle } from '../../src/model/modelBundle.js';
import { OptionError } from '../../src/base/errors.js';
import { importKerasModel, KerasImportError } from '../../src/interop/keras/index.js';
import { importCommand } from '../../cli/commands/importCommand.js';
import { exportCommand } from '../../cli/commands/exportCommand.js';
import { tempDir } from '../../testkit/tempDir.js';

// These need no Python: the files are written here, with h5wasm or as raw bytes.

async function hdf5(file: string, fill: (f: InstanceType<typeof h5wasm.File>) => void): Promise<string> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'w');
  fill(f);
  f.close();
  return file;
}

function refusal(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof KerasImportError, `expected KerasImportError, got ${String(e)}`);
    assert.equal(e.code, 'keras-import');
    assert.match(e.message, pattern);
    return true;
  };
}

test('files that are not HDF5 are named for what they are', async () => {
  const dir = await tempDir();
  const random = Buffer.alloc(4096);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
  const cases: [string, string | Uint8Array, RegExp][] = [
    ['empty.h5', '', /^empty\.h5: the file is empty$/],
    ['notes.h5', 'hello, this is not a model\n', /^notes\.h5: not an HDF5 file \(it is a text file starting "hello, this is not a model"\); happysad imports Keras 2 models saved with model\.save\("model\.h5"\)$/],
    ['noise.h5', random, /^noise\.h5: not an HDF5 file \(it starts with bytes [0-9a-f ]+\)/],
    ['model.keras', Buffer.from('PK\x03\x04 rest of a zip', 'latin1'), /zip archive, perhaps a Keras 3 "\.keras" file: in Python, load it and model\.save\("model\.h5"\)/],
    ['model.json', '{"format": "layers-model", "modelTopology": {}}', /it is a TensorFlow\.js model\.json/],
  ];
  for (const [name, content, message] of cases) {
    const file = join(dir, name);
    await writeFile(file, content);
    await assert.rejects(importKerasModel(file), refusal(message), name);
  }
  await assert.rejects(importKerasModel(join(dir, 'missing.h5')), refusal(/missing\.h5: no such file/));
  const savedModel = join(dir, 'saved');
  await mkdir(savedModel);
  await writeFile(join(savedModel, 'saved_model.pb'), 'x');
  await assert.rejects(importKerasModel(savedModel), refusal(/is a TensorFlow SavedModel folder; in Python, load it and model\.save\("model\.h5"\)/));
});

test('truncated HDF5 files are called truncated, wherever the cut falls', async () => {
  const dir = await tempDir();
  const whole = await hdf5(join(dir, 'whole.h5'), (f) => {
    f.create_dataset({ name: 'data', data: new Float32Array(4096), shape: [4096], dtype: '<f' });
  });
  const bytes = await readFile(whole);
  for (const keep of [bytes.length - 100, 2000, 60, 20]) {
    const cut = join(dir, `cut-${keep}.h5`);
    await writeFile(cut, bytes.subarray(0, keep));
    await assert.rejects(importKerasModel(cut), refusal(new RegExp(`^cut-${keep}\\.h5: the file is truncated \\(${keep} bytes`)), `cut at ${keep}`);
  }
});

test('HDF5 files that are not Keras models say what they hold instead', async () => {
  const dir = await tempDir();
  const plain = await hdf5(join(dir, 'data.h5'), (f) => {
    f.create_group('measurements');
    f.create_dataset({ name: 'data', data: new Float32Array([1, 2, 3]), shape: [3], dtype: '<f' });
  });
  await assert.rejects(importKerasModel(plain), refusal(/^data\.h5: an HDF5 file but not a Keras model \(no model_config attribute; it contains "data", "measurements"\)$/));
  const weightsOnly = await hdf5(join(dir, 'weights.h5'), (f) => {
    f.create_attribute('layer_names', ['dense'], null, 'S5');
    f.create_group('dense');
  });
  await assert.rejects(importKerasModel(weightsOnly), refusal(/holds only weights \(model\.save_weights\); happysad needs the whole model/));
  const keras1 = await hdf5(join(dir, 'old.h5'), (f) => {
    f.create_attribute('model_config', JSON.stringify({ class_name: 'Sequential', config: [] }));
    f.create_attribute('keras_version', '1.2.2');
  });
  await assert.rejects(importKerasModel(keras1), refusal(/saved by Keras 1\.2\.2; happysad imports Keras 2 files/));
  const badJson = await hdf5(join(dir, 'bad.h5'), (f) => f.create_attribute('model_config', '{"class_name": '));
  await assert.rejects(importKerasModel(badJson), refusal(/model_config is not valid JSON/));
  const twoInputs = await hdf5(join(dir, 'two.h5'), (f) => f.create_attribute('model_config', JSON.stringify({
    class_name: 'Functional', config: { name: 'm', layers: [], input_layers: [['a', 0, 0], ['b', 0, 0]], output_layers: [['c', 0, 0]] },
  })));
  await assert.rejects(importKerasModel(twoInputs), refusal(/has 2 inputs and 1 outputs; happysad imports models with one image input and one output/));
});

async function captureLog(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  try {
    return { code: await run(), out: lines.join('\n') };
  } finally {
    console.log = original;
  }
}

test('the export and import commands round-trip a bundle and check their options', async () => {
  await initEngine();
  const dir = await tempDir();
  const bundle = join(dir, 'mine');
  const model = getArchitecture('seed-b').build({ input: [32, 32, 1], numClasses: 2, seed: 5 });
  await saveBundle(bundle, model, {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'mine', arch: 'seed-b', classes: ['happy', 'sad'], output: 'sigmoid', positiveClass: 'happy',
    threshold: 0.5, preprocessing: defaultPreprocessSpec([32, 32, 1]), seed: 5, training: null, dataset: null, metrics: null, versions: {}, createdAt: new Date(0).toISOString(),
  });
  model.dispose();
  const h5 = join(dir, 'mine.h5');
  const exported = await captureLog(() => exportCommand([bundle, '--format', 'keras-h5', '--out', h5]));
  assert.equal(exported.code, 0);
  assert.match(exported.out, /^Wrote .*mine\.h5: Keras 2 \.h5, 13 layers, [\d,]+ parameters\n {2}the sigmoid output is p\(sad\) \(the last layer was negated/);
  assert.match(exported.out, /keras\.models\.load_model\(".*mine\.h5"\)/);

  const back = join(dir, 'back');
  const imported = await captureLog(() => importCommand([h5, '--out', back, '--json']));
  const summary = JSON.parse(imported.out);
  assert.deepEqual([summary.classes, summary.positiveClass, summary.input, summary.scale], [['happy', 'sad'], 'happy', [32, 32, 1], 1 / 255]);
  const text = await captureLog(() => importCommand([h5, '--out', join(dir, 'again'), '--scale', '1/127.5']));
  assert.match(text.out, /classes {3}happy, sad \(one sigmoid unit = p\(happy\); score = p\(happy\)\)\n {2}input {5}32x32x1, pixels x 1\/127\.5/);

  await assert.rejects(importCommand([]), (e: unknown) => e instanceof OptionError && /import takes one \.h5 file/.test(e.message));
  await assert.rejects(importCommand([h5]), (e: unknown) => e instanceof OptionError && /import needs --out MODEL_DIR/.test(e.message));
  await assert.rejects(importCommand([h5, '--out', back, '--scale', 'lots']), /--scale lots: expected a positive number such as 1\/255/);
  await assert.rejects(importCommand([h5, '--out', back, '--input', '32x32x2']), /channels must be 1/);
  await assert.rejects(exportCommand([bundle, '--out', h5, '--format', 'onnx']), /--format onnx: the only export format is keras-h5/);
  await assert.rejects(exportCommand([bundle]), /export needs --out FILE\.h5/);
});
