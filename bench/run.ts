/**
 * npm run bench [-- --json] [--cases seed-a,seed-b,seed-a-48,face]   (face: the face-48 net, and the default model's
 *   whole pipeline on examples/*.jpg: decode, detect, crop, classify) [--workers 1,2] [--steps 10]
 *               [--rounds 2] [--no-reference] [--data ../shared/datasets] [--decode-files 300] [--no-decode] [--no-serve]
 *               [--no-face-command] [--no-browser] [--no-queue] [--no-video] [--no-fine-tune] [--no-follow] [--before REF]
 *
 * Times training steps and inference batches (batch 32, random data) for each case and worker
 * count, alternating with ../shared/peers/torch_reference.py in the same run when PyTorch is
 * installed (../shared/peers/setup.sh), and reports the ratio of medians. Then measures decode
 * throughput, files on disk to a ready input batch, on the web and FER datasets when present, and
 * the whole `happysad predict` command on 100 one-face photos per detector against Human's BlazeFace
 * (bench/facePipeline.ts), the HTTP server's load benchmark (bench/serve.ts), and finally
 * happysad/browser's frames per second in headless Chromium per backend (bench/browser.ts), the Redis job
 * queue against local predict (bench/queue.ts), videos: seconds per second and peak memory (bench/video.ts),
 * fine-tuning (bench/fineTune.ts), and following faces between whole-frame searches (bench/followFaces.ts).
 *
 * --before REF (e.g. d12ff70, the code before issue #24): that commit is built in a temporary folder
 * (bench/checkouts.ts) and the predict command, the browser and the videos are measured for it and
 * for this checkout side by side in the same run, after a check that both give the same rows
 * (bench/sameOutputs.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initEngine, tf } from '../src/engine/engine.js';
import { getArchitecture, listArchitectures } from '../src/model/architectures.js';
import { defaultPreprocessSpec, type InputShape } from '../src/input/preprocessSpec.js';
import { loadImages } from '../src/data/loadImages.js';
import { toInputTensor } from '../src/runtime/toInputTensor.js';
import { DataParallelTrainer } from '../src/runtime/dataParallelTrainer.js';
import { ParallelPredictor } from '../src/runtime/parallelPredictor.js';
import { loadModel } from '../src/predict/classifier.js';
import { formatRoots, prepareCheckout } from './checkouts.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    cases: { type: 'string', default: 'seed-a,seed-b,seed-a-48,face' },
    workers: { type: 'string' },
    steps: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    'no-reference': { type: 'boolean', default: false },
    data: { type: 'string', default: resolve('../shared/datasets') },
    'decode-files': { type: 'string', default: '300' },
    'no-decode': { type: 'boolean', default: false },
    'no-serve': { type: 'boolean', default: false },
    'no-face-command': { type: 'boolean', default: false },
    'no-browser': { type: 'boolean', default: false },
    'no-queue': { type: 'boolean', default: false },
    'no-video': { type: 'boolean', default: false },
    'no-fine-tune': { type: 'boolean', default: false },
    'no-follow': { type: 'boolean', default: false },
    before: { type: 'string' },
  },
});

interface Case { case: string; arch: string; input: InputShape; refArch?: 'A' | 'B' }
const CASES: Record<string, Case> = {
  'seed-a': { case: 'seed-a', arch: 'seed-a', input: [128, 128, 3], refArch: 'A' },
  'seed-b': { case: 'seed-b', arch: 'seed-b', input: [256, 256, 3], refArch: 'B' },
  'seed-a-48': { case: 'seed-a-48', arch: 'seed-a', input: [48, 48, 1], refArch: 'A' },
};
// 'face' is the default model's architecture (the one `predict` runs out of the box); for an
// ensemble, its first member's.
const shippedArch = (() => {
  try {
    const m = JSON.parse(readFileSync(resolve('models/default/happysad.json'), 'utf8')) as { arch: string; members?: { arch: string }[] };
    return m.members?.[0]?.arch ?? m.arch;
  } catch {
    return undefined;
  }
})();
const faceArch = shippedArch && listArchitectures().includes(shippedArch) ? shippedArch : listArchitectures().find((a) => a !== 'seed-a' && a !== 'seed-b');
if (faceArch) CASES.face = { case: 'face', arch: faceArch, input: getArchitecture(faceArch).defaultInput };

const BATCH = 32;
const steps = Number(values.steps);
const rounds = Number(values.rounds);
const cores = (await import('node:os')).availableParallelism();
const workerCounts = values.workers ? values.workers.split(',').map(Number) : [...new Set([1, cores])];
const reference = !values['no-reference'] && torchAvailable();
const rows: Record<string, unknown>[] = [];
const emit = (row: Record<string, unknown>) => {
  rows.push(row);
  if (values.json) console.log(JSON.stringify(row));
};

await initEngine();
for (const name of values.cases.split(',').filter(Boolean)) {
  const c = CASES[name];
  if (!c) {
    console.error(`unknown case ${name}; known: ${Object.keys(CASES).join(', ')}`);
    continue;
  }
  for (const workers of workerCounts) {
    const ours = { train: [] as number[], infer: [] as number[] };
    const ref = { train: [] as number[], infer: [] as number[] };
    let peakRss = 0;
    for (let r = 0; r < rounds; r++) {
      const m = await measureOurs(c, workers);
      ours.train.push(...m.train);
      ours.infer.push(...m.infer);
      peakRss = Math.max(peakRss, m.peakRssMb);
      if (reference && c.refArch) {
        const t = runReference(c, workers);
        if (t) {
          ref.train.push(t.train_step_ms);
          ref.infer.push(t.infer_batch_ms);
        }
      }
    }
    const trainMs = median(ours.train);
    const inferMs = median(ours.infer);
    const row: Record<string, unknown> = {
      case: c.case, arch: c.arch, input: c.input, batch: BATCH, workers,
      train_step_ms: round(trainMs), infer_batch_ms: round(inferMs),
      train_images_per_s: round((BATCH * 1000) / trainMs), infer_images_per_s: round((BATCH * 1000) / inferMs),
      peak_rss_mb: Math.round(peakRss),
    };
    if (ref.train.length) {
      row.ref_train_step_ms = round(median(ref.train));
      row.ref_infer_batch_ms = round(median(ref.infer));
      row.train_ratio = round(trainMs / median(ref.train), 3);
      row.infer_ratio = round(inferMs / median(ref.infer), 3);
    }
    emit(row);
  }
}

// The default face model end to end: decode, detect, crop and classify every face of each example photo.
const defaultModel = resolve('models/default');
if (values.cases.split(',').includes('face') && existsSync(join(defaultModel, 'happysad.json'))) {
  const photos = listFiles(resolve('examples')).filter((f) => /\.jpe?g$/i.test(f));
  if (photos.length) {
    const classifier = await loadModel(defaultModel, { workers: 1 });
    await classifier.predict(photos); // warm-up: loads the detector nets
    const perPhoto: number[] = [];
    let faces = 0;
    for (let r = 0; r < rounds * 2; r++) {
      for (const photo of photos) {
        const t = performance.now();
        const [row] = await classifier.predict(photo);
        perPhoto.push(performance.now() - t);
        if (r === 0) faces += row.faces?.length ?? 0;
      }
    }
    const ms = median(perPhoto);
    // The classifier alone on 32 face crops (test-time flip included): what each face costs after detection.
    const { height, width, channels } = classifier.metadata.preprocessing;
    const crops = Uint8Array.from({ length: BATCH * height * width * channels }, (_, i) => (i * 2654435761) >>> 24);
    const perBatch: number[] = [];
    for (let i = 0; i < steps + 2; i++) {
      const t = performance.now();
      await classifier.classifyPixels(crops, BATCH, BATCH);
      if (i >= 2) perBatch.push(performance.now() - t);
    }
    emit({ case: 'face-classify', model: 'models/default', arch: classifier.metadata.arch, ms_per_32_crops: round(median(perBatch)), ms_per_face: round(median(perBatch) / BATCH, 2) });
    emit({ case: 'face-pipeline', model: 'models/default', detector: classifier.metadata.preprocessing.faces?.detector ?? 'none', photos: photos.length, faces, ms_per_photo: round(ms), faces_per_s: round((faces / photos.length) * (1000 / ms), 2) });
    await classifier.close();
  }
}

if (!values['no-decode']) {
  const n = Number(values['decode-files']);
  const sets: [string, string, InputShape][] = [
    ['decode-web', join(values.data, 'web-happysad'), [256, 256, 3]],
    ['decode-fer', join(values.data, 'fer2013-happysad/train'), [48, 48, 1]],
  ];
  for (const [name, dir, input] of sets) {
    if (!existsSync(dir)) {
      if (!values.json) console.error(`${dir} not found: skipping ${name}`);
      continue;
    }
    const files = listFiles(dir).slice(0, n).map((file) => ({ file }));
    const spec = defaultPreprocessSpec(input);
    const t = performance.now();
    const set = await loadImages(files, spec);
    for (let i = 0; i + BATCH <= set.items.length; i += BATCH) toInputTensor(set.pixels.subarray(i * set.imageSize, (i + BATCH) * set.imageSize), BATCH, spec).dispose();
    const s = (performance.now() - t) / 1000;
    emit({ case: name, input, files: set.items.length, seconds: round(s), images_per_s: round(set.items.length / s) });
  }
}

if (!values.json) printTable(rows);

// With --before: both checkouts' builds, and whether they give the same rows, before any timing.
const compared = values.before ? ['--roots', formatRoots([prepareCheckout(values.before), { name: 'after', dir: resolve('.') }])] : [];
if (compared.length) {
  if (!values.json) console.log(`\nsame rows before (${values.before}) and after (bench/sameOutputs.ts):`);
  spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/sameOutputs.ts'), ...compared, ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });
}

// The data audit: hashing and attributes per image, near-duplicate matching at 10,000 and 100,000 (bench/nearDuplicates.ts, ~1 min).
if (!values.json) console.log('\ndata audit (bench/nearDuplicates.ts):');
spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/nearDuplicates.ts'), ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });

// The whole predict command per detector, against the face-detection peer (bench/facePipeline.ts, ~5 min).
if (!values['no-face-command'] && existsSync(resolve('models/default/happysad.json'))) {
  if (!values.json) console.log('\nhappysad predict, whole command (bench/facePipeline.ts):');
  // Side by side (--before), one detector over 5 rounds: on this VM two runs of 2 rounds each differed by ~8% in
  // their ratio to the peer, more than the ±5% an issue target is judged by.
  spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/facePipeline.ts'), ...compared, ...(compared.length ? ['--detectors', 'blazeface', '--workers', '1,2', '--rounds', '5'] : []), ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });
}

// Then the HTTP server under load (bench/serve.ts, ~90 s): requests/s and latency at 1, 8 and 64
// connections, then 4x the sustainable rate to show it sheds load and recovers.
if (!values['no-serve'] && existsSync(resolve('models/default/happysad.json'))) {
  if (!values.json) console.log('\nserver load (bench/serve.ts):');
  spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/serve.ts'), ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });
}

// happysad/browser in headless Chromium (bench/browser.ts, ~1-2 min): frames/s per backend.
if (!values['no-browser'] && existsSync(resolve('models/default/happysad.json'))) {
  if (!values.json) console.log('\nhappysad/browser in headless Chromium (bench/browser.ts):');
  spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/browser.ts'), ...compared, ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });
}

// The Redis job queue against local predict (bench/queue.ts, ~3 min; needs redis-server).
if (!values['no-queue'] && existsSync('/usr/bin/redis-server')) {
  if (!values.json) console.log('\njob queue through Redis (bench/queue.ts):');
  spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/queue.ts'), ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });
}

// Videos (bench/video.ts, ~4 min; needs ffmpeg and a built dist/): speed against real time, memory.
if (!values['no-video'] && existsSync('/usr/bin/ffmpeg')) {
  if (!values.json) console.log('\nvideos (bench/video.ts):');
  spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/video.ts'), ...compared, ...(compared.length ? ['--minutes', '1', '--rounds', '3'] : []), ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });
}

// Fine-tuning the default model on ~400 of a user's photos (bench/fineTune.ts, ~3 min; needs ../shared).
if (!values['no-fine-tune'] && existsSync(join(values.data, 'web-happysad'))) {
  if (!values.json) console.log('\ntrain --from default on 400 photos (bench/fineTune.ts):');
  spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/fineTune.ts'), join(values.data, 'web-happysad'), ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });
}

// Following faces between whole-frame searches against searching every frame, on real web faces
// (bench/followFaces.ts, ~5 min; needs ../shared): found share, box IoU, label and p changes, time.
if (!values['no-follow'] && existsSync(join(values.data, 'web-happysad')) && existsSync(resolve('models/default/happysad.json'))) {
  if (!values.json) console.log('\nfollowing faces vs whole-frame search (bench/followFaces.ts):');
  spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/followFaces.ts'), join(values.data, 'web-happysad'), ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });
}

async function measureOurs(c: Case, workers: number): Promise<{ train: number[]; infer: number[]; peakRssMb: number }> {
  const spec = defaultPreprocessSpec(c.input);
  const model = getArchitecture(c.arch).build({ input: c.input, numClasses: 2, seed: 1 });
  const optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
  const trainer = await DataParallelTrainer.create(model, optimizer, { workers, spec, output: 'sigmoid', seed: 1 });
  const size = c.input[0] * c.input[1] * c.input[2];
  const pixels = Uint8Array.from({ length: BATCH * size }, (_, i) => (i * 2654435761) >>> 24);
  const targets = Float32Array.from({ length: BATCH }, (_, i) => i % 2);
  const weights = new Float32Array(BATCH).fill(1);
  const train: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t = performance.now();
    await trainer.step(i, pixels, targets, weights, BATCH);
    if (i >= 2) train.push(performance.now() - t);
  }
  await trainer.close();
  const predictor = await ParallelPredictor.create(model, spec, 'sigmoid', workers);
  const infer: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    const t = performance.now();
    await predictor.predict(pixels, BATCH, BATCH);
    if (i >= 2) infer.push(performance.now() - t);
  }
  await predictor.close();
  optimizer.dispose();
  model.dispose();
  return { train, infer, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

function runReference(c: Case, threads: number): { train_step_ms: number; infer_batch_ms: number } | undefined {
  const script = resolve('../shared/peers/torch_reference.py');
  const r = spawnSync('/usr/bin/python3', [script, '--arch', c.refArch!, '--size', String(c.input[0]), '--channels', String(c.input[2]), '--threads', String(threads), '--steps', String(steps), '--json'], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`reference failed: ${r.stderr}`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

function torchAvailable(): boolean {
  if (!existsSync('../shared/peers/torch_reference.py')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .sort();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function printTable(rs: Record<string, unknown>[]): void {
  const models = rs.filter((r) => 'train_step_ms' in r);
  if (models.length) {
    console.log(`batch ${BATCH}, medians over ${steps} steps x ${rounds} rounds${reference ? ', alternating with the PyTorch reference' : ' (no PyTorch reference: run ../shared/peers/setup.sh)'}\n`);
    const head = ['case', 'input', 'workers', 'train ms', 'ref ms', 'ratio', 'infer ms', 'ref ms', 'ratio', 'train img/s', 'infer img/s', 'peak MB'];
    const body = models.map((r) => [r.case, (r.input as number[]).join('x'), r.workers, r.train_step_ms, r.ref_train_step_ms ?? '-', r.train_ratio ?? '-', r.infer_batch_ms, r.ref_infer_batch_ms ?? '-', r.infer_ratio ?? '-', r.train_images_per_s, r.infer_images_per_s, r.peak_rss_mb].map(String));
    const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    for (const line of [head, w.map((n) => '-'.repeat(n)), ...body]) console.log(line.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
  }
  for (const r of rs.filter((x) => x.case === 'face-classify')) console.log(`\nface classifier (${r.model}, ${r.arch}): ${r.ms_per_32_crops} ms per 32 crops, ${r.ms_per_face} ms per face`);
  for (const r of rs.filter((x) => x.case === 'face-pipeline')) console.log(`\nface pipeline (${r.model}, ${r.detector} detector): ${r.ms_per_photo} ms per photo (decode, detect, crop, classify), ${r.faces} faces in ${r.photos} photos, ${r.faces_per_s} faces/s`);
  for (const r of rs.filter((x) => 'images_per_s' in x)) console.log(`\n${r.case}: ${r.files} files to ready ${(r.input as number[]).join('x')} batches in ${r.seconds}s = ${r.images_per_s} images/s`);
}
