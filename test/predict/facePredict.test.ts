import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { initEngine } from '../../src/engine/engine.js';
import { defaultPreprocessSpec } from '../../src/input/preprocessSpec.js';
import { DEFAULT_FACE_CROP, FaceCropper } from '../../src/faces/faceCropper.js';
import { FaceCropCache } from '../../src/faces/faceCropCache.js';
import { FacePipeline } from '../../src/faces/facePipeline.js';
import { getArchitecture } from '../../src/model/architectures.js';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION } from '../../src/model/bundleMetadata.js';
import { saveBundle } from '../../src/model/modelBundle.js';
import { loadModel } from '../../src/predict/classifier.js';
import { train } from '../../src/train/train.js';
import { tempDir } from '../../testkit/tempDir.js';

const photos = fileURLToPath(new URL('../../examples', import.meta.url));
const happy = join(photos, 'happy/Azra_Akin_0003.jpg');
let modelDir: string;

before(async () => {
  await initEngine();
  modelDir = join(await tempDir(), 'face-model');
  const spec = { ...defaultPreprocessSpec([48, 48, 1]), faces: DEFAULT_FACE_CROP };
  const model = getArchitecture('seed-a').build({ input: [48, 48, 1], numClasses: 2, seed: 1 });
  await saveBundle(modelDir, model, {
    format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, name: 'face', arch: 'seed-a', classes: ['happy', 'sad'], output: 'sigmoid',
    positiveClass: 'happy', threshold: 0.5, preprocessing: spec, seed: 1, training: null, dataset: null, metrics: null, versions: {}, createdAt: new Date(0).toISOString(),
  });
  model.dispose();
});

test('a face model reports each face with its box inside the image, and the image row follows the first face', async () => {
  const classifier = await loadModel(modelDir);
  assert.equal(classifier.expectsFaces, true);
  const [row] = await classifier.predict(happy);
  const { width, height } = await sharp(happy).rotate().metadata();
  assert.ok(row.faces && row.faces.length >= 1, 'a face is found in the example photo');
  const [x, y, w, h] = row.faces[0].box;
  assert.ok(x >= 0 && y >= 0 && w > 20 && h > 20 && x + w <= width! && y + h <= height!, `box ${row.faces[0].box} in ${width}x${height}`);
  assert.ok(row.faces[0].detector_score > 0.3);
  assert.equal(row.label, row.faces[0].label);
  assert.equal(row.score, row.faces[0].score);
  assert.equal(row.face, undefined);
  await classifier.close();
});

test('no face found: the whole image is classified and the row says so; faces: false classifies whole images', async () => {
  const classifier = await loadModel(modelDir);
  const flat = await sharp({ create: { width: 200, height: 160, channels: 3, background: '#7a8a9a' } }).png().toBuffer();
  const [none] = await classifier.predict(flat);
  assert.equal(none.face, 'none-found');
  assert.equal(none.faces, undefined);
  assert.ok(none.label === 'happy' || none.label === 'sad');
  const [whole] = await classifier.predict(happy, { faces: false });
  assert.equal(whole.faces, undefined);
  assert.equal(whole.face, undefined);
  await classifier.close();
});

test('train --faces feeds the model exactly the crop predict makes of the most prominent face', async () => {
  const data = await tempDir();
  await cp(photos, data, { recursive: true, filter: (src) => !src.endsWith('.md') });
  const cacheRoot = await tempDir('happysad-cache-');
  process.env.HAPPYSAD_CACHE = cacheRoot;
  try {
    const result = await train(data, { arch: 'seed-a', input: [48, 48, 1], epochs: 1, batch: 6, valSplit: 0, seed: 2, faces: 'detect', workers: 1 });
    const spec = result.bundle.metadata.preprocessing;
    assert.deepEqual(spec.faces, { ...DEFAULT_FACE_CROP, wholeImageMaxSide: 96 });
    const cached = (await readdir(join(cacheRoot, 'face-crops'), { recursive: true })).filter((f) => /[0-9a-f]{64}\.faces$/.test(f));
    assert.equal(cached.length, 6, 'one cache entry per training photo');
    const cropper = await FaceCropper.create(spec);
    const decoded = await cropper.photo({ input: happy });
    const cache = new FaceCropCache();
    const fromTraining = await cache.getDecoded(cache.key(createHash('sha256').update(await readFile(happy)).digest('hex'), spec), spec);
    assert.ok(fromTraining, 'the faces train found in this photo are in the cache');
    assert.deepEqual(fromTraining.faces.map((f) => [f.box, Array.from(f.image.data)]), decoded.faces.map((f) => [f.box, Array.from(f.image.data)]));
    result.bundle.model.dispose();
  } finally {
    delete process.env.HAPPYSAD_CACHE;
  }
});

test('an image no larger than wholeImageMaxSide is taken as a face crop: classified whole, without detection', async () => {
  const dir = join(await tempDir(), 'crop-model');
  await cp(modelDir, dir, { recursive: true });
  const meta = JSON.parse(await readFile(join(dir, 'happysad.json'), 'utf8'));
  meta.preprocessing.faces = { ...meta.preprocessing.faces, wholeImageMaxSide: 96 };
  await writeFile(join(dir, 'happysad.json'), JSON.stringify(meta));
  const classifier = await loadModel(dir);
  const small = await sharp(happy).resize(96, 96).png().toBuffer();
  const [row] = await classifier.predict(small);
  assert.equal(row.face, 'is-crop');
  assert.equal(row.faces, undefined);
  const [whole] = await classifier.predict(small, { faces: false });
  assert.deepEqual(row.probabilities, whole.probabilities, 'the crop rule classifies exactly the whole image');
  const [bigger] = await classifier.predict(await sharp(happy).resize(97, 97).png().toBuffer());
  assert.notEqual(bigger.face, 'is-crop');
  await classifier.close();
});

test('face cropping on two threads gives the same crops and rows as on one', async () => {
  const files = (await readdir(photos, { recursive: true })).filter((f) => f.endsWith('.jpg')).sort().map((f) => join(photos, f));
  const one = await loadModel(modelDir, { workers: 1 });
  const two = await loadModel(modelDir, { workers: 2 });
  try {
    const [a, b] = [await one.predict(files), await two.predict(files)];
    assert.equal(a.length, 6);
    assert.deepEqual(b, a);
  } finally {
    await one.close();
    await two.close();
  }
  const spec = { ...defaultPreprocessSpec([48, 48, 1]), faces: DEFAULT_FACE_CROP };
  const pool = await FacePipeline.create(spec, { threads: 2 });
  const local = await FaceCropper.create(spec);
  try {
    const viaPool = await Promise.all(files.map((f) => pool.photo({ input: f })));
    for (const [i, f] of files.entries()) {
      const direct = await local.photo({ input: f });
      assert.deepEqual(viaPool[i].faces.map((c) => [c.box, Array.from(c.image.data)]), direct.faces.map((c) => [c.box, Array.from(c.image.data)]), f);
    }
  } finally {
    await pool.close();
  }
});

test('a face thread given two photos at once keeps the process alive until both are answered', () => {
  // Only the pipeline's threads keep this child's event loop going. The worker holds two photos
  // at once: were it released after its first answer, the child would exit (code 13: unsettled
  // top-level await) with the second still out.
  const script = `
    import { readdirSync } from 'node:fs';
    import { join } from 'node:path';
    import { FacePipeline } from ${JSON.stringify(new URL('../../src/faces/facePipeline.ts', import.meta.url).href)};
    import { DEFAULT_FACE_CROP } from ${JSON.stringify(new URL('../../src/faces/faceCropper.ts', import.meta.url).href)};
    import { defaultPreprocessSpec } from ${JSON.stringify(new URL('../../src/input/preprocessSpec.ts', import.meta.url).href)};
    const pipeline = await FacePipeline.create({ ...defaultPreprocessSpec([48, 48, 1]), faces: DEFAULT_FACE_CROP }, { threads: 2 });
    const files = readdirSync(${JSON.stringify(photos)}, { recursive: true }).filter((f) => f.endsWith('.jpg')).map((f) => join(${JSON.stringify(photos)}, f));
    let found = 0;
    for (let round = 0; round < 3; round++) {
      // The worker's two slots first, then this thread: no other handle is open while they run.
      const [a, b] = await Promise.all([pipeline.photo({ input: files[round] }), pipeline.photo({ input: files[round + 3] })]);
      found += a.faces.length + b.faces.length;
    }
    console.log(JSON.stringify({ jobsAtOnce: pipeline.jobsAtOnce, found }));
    await pipeline.close();
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { jobsAtOnce: number; found: number };
  assert.equal(out.jobsAtOnce, 3, 'this thread and two jobs on the worker');
  assert.ok(out.found >= 6, `a face in each of the six photos, got ${out.found}`);
});

test('threads started beside a detector that fails to load are ended, and create() says why', async () => {
  const spec = { ...defaultPreprocessSpec([48, 48, 1]), faces: { ...DEFAULT_FACE_CROP, detector: 'mtcnn' as 'ssd' } };
  // Were the started thread left running, this file's process would not end.
  await assert.rejects(FacePipeline.create(spec, { threads: 2 }), /face detector must be one of blazeface/);
});

test('with cache: true, a photo seen before is answered from its cached faces; without it nothing is written', async () => {
  const cacheRoot = await tempDir('happysad-cache-');
  process.env.HAPPYSAD_CACHE = cacheRoot;
  const classifier = await loadModel(modelDir);
  try {
    await classifier.predict(happy);
    await assert.rejects(readdir(join(cacheRoot, 'face-crops')), 'no cache unless asked');
    const [first] = await classifier.predict(happy, { cache: true });
    const entries = (await readdir(join(cacheRoot, 'face-crops'), { recursive: true })).filter((f) => f.endsWith('.faces'));
    assert.equal(entries.length, 1);
    // Move the cached box: the next answer must carry it, which only the cache can have given.
    const file = join(cacheRoot, 'face-crops', entries[0]);
    const blob = await readFile(file);
    const headerLength = blob.readUInt32LE(0);
    const header = JSON.parse(blob.subarray(4, 4 + headerLength).toString('utf8'));
    header.faces[0].box = [1, 2, 3, 4];
    const newHeader = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(newHeader.length);
    await writeFile(file, Buffer.concat([length, newHeader, blob.subarray(4 + headerLength)]));
    const [second] = await classifier.predict(happy, { cache: true });
    assert.deepEqual(second.faces![0].box, [1, 2, 3, 4]);
    assert.deepEqual(second.faces![0].probabilities, first.faces![0].probabilities);
  } finally {
    delete process.env.HAPPYSAD_CACHE;
    await classifier.close();
  }
});
