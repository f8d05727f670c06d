// 2. What matters: the repo's pipeline (FaceCropper: sharp letterbox + sharp resize) vs the portable
// pipeline (portable/: JS letterbox + JS resize, same BlazeFace logic, same tfjs-wasm, same model),
// both in this Node process, on the same decoded pixels. Boxes (IoU), crops (pixels) and scores.
// Run: cd /work/main && node --import tsx /work/scratch/browser-study/nodeParity.mts [--limit N] [--out FILE]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { initEngine, tf } from '../../main/src/engine/engine.ts';
import { FaceCropper } from '../../main/src/data/decodeFaces.ts';
import { loadModel } from '../../main/src/predict/classifier.ts';
import type { io } from '@tensorflow/tfjs';
import { createBlazeFace, makeNet, type BlazeFaceVariant, type Net } from './portable/blazeCore.ts';
import { letterboxJs, predictRgb, type Meta } from './portable/pipeline.ts';

const args = process.argv.slice(2);
const limit = args.includes('--limit') ? Number(args[args.indexOf('--limit') + 1]) : Infinity;
const outFile = args.includes('--out') ? args[args.indexOf('--out') + 1]! : '/work/scratch/browser-study/results/nodeParity.json';

await initEngine({ threads: 1 });
const classifier = await loadModel('/work/main/models/default', { workers: 1 });
const meta = classifier.metadata as unknown as Meta;
const spec = classifier.metadata.preprocessing;
const cropper = await FaceCropper.create(spec.faces!);

function diskHandler(jsonPath: string): io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(readFileSync(jsonPath, 'utf8'));
      const weightSpecs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
      const bytes = Buffer.concat(json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(join(dirname(jsonPath), p)))));
      return { modelTopology: json.modelTopology, format: json.format, weightSpecs, weightData: new Uint8Array(bytes).buffer };
    },
  };
}
const nets = new Map<BlazeFaceVariant, Net>();
for (const v of ['front', 'back'] as const) nets.set(v, makeNet(tf, await tf.loadGraphModel(diskHandler(`/work/main/models/faces/blazeface-${v}.json`))));
const blazeJs = await createBlazeFace({ tf, net: async (v) => nets.get(v)!, letterbox: letterboxJs }, 'back', { minScore: spec.faces!.minScore, maxFaces: 20, context: 'auto' });

const files: string[] = [];
for (const k of ['happy', 'sad']) for (const f of readdirSync(`/work/main/examples/${k}`).sort()) files.push(`/work/main/examples/${k}/${f}`);
const web: string[] = [];
for (const k of ['happy', 'sad']) for (const f of readdirSync(`/work/shared/datasets/web-happysad/${k}`).sort()) web.push(`/work/shared/datasets/web-happysad/${k}/${f}`);
files.push(...web.slice(0, limit));

const iou = (a: number[], b: number[]) => {
  const w = Math.min(a[0]! + a[2]!, b[0]! + b[2]!) - Math.max(a[0]!, b[0]!);
  const h = Math.min(a[1]! + a[3]!, b[1]! + b[3]!) - Math.max(a[1]!, b[1]!);
  const i = w > 0 && h > 0 ? w * h : 0;
  return i / (a[2]! * a[3]! + b[2]! * b[3]! - i);
};
const maxAbs = (a: Uint8Array, b: Uint8Array) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!)); return m; };

const rows = [];
for (const file of files) {
  const bytes = readFileSync(file);
  let ref;
  try {
    ref = await cropper.decode(bytes, spec);
  } catch (err) {
    rows.push({ file, error: String(err) });
    continue;
  }
  const refImages = ref.whole ? [ref.whole] : ref.faces.map((f) => f.image);
  const refDecisions = await classifier.classifyDecoded(refImages);
  // The same decode, minus decodeFullImage's 1600 px bound, which the portable side does in JS.
  const { data, info } = await sharp(bytes, { failOn: 'truncated' }).rotate().flatten({ background: { r: 255, g: 255, b: 255 } }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const js = await predictRgb(tf, blazeJs, classifier.bundle.model, meta, { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 });
  const jsImages = js.whole ? [js.whole.pixels] : js.faces.map((f) => f.pixels);
  const jsDecisions = js.whole ? [js.whole.decision] : js.faces.map((f) => f.decision);
  const row: Record<string, unknown> = { file: file.replace('/work/shared/datasets/', '').replace('/work/main/', ''), side: Math.max(info.width, info.height), refFaces: ref.faces.length, jsFaces: js.faces.length, refWhole: ref.wholeBecause ?? null, jsWhole: js.whole?.because ?? null };
  const pairs = [];
  for (let i = 0; i < Math.max(refImages.length, jsImages.length); i++) {
    const r = refDecisions[i], j = jsDecisions[i];
    pairs.push({
      iou: ref.faces[i] && js.faces[i] ? +iou(ref.faces[i]!.box, js.faces[i]!.box).toFixed(4) : null,
      refBox: ref.faces[i]?.box, jsBox: js.faces[i]?.box,
      pixMax: refImages[i] && jsImages[i] ? maxAbs(refImages[i]!.data, jsImages[i]!) : null,
      refScore: r?.score, jsScore: j?.score, dScore: r && j ? Math.abs(r.score - j.score) : null,
      flip: r && j ? r.labelIndex !== j.labelIndex : null,
    });
  }
  row.pairs = pairs;
  rows.push(row);
  const p0 = pairs[0];
  if (!p0 || p0.pixMax !== 0 || pairs.length !== refImages.length || ref.faces.length !== js.faces.length) console.log(row.file, JSON.stringify(pairs).slice(0, 300));
}
await classifier.close();

const ok = rows.filter((r) => !('error' in r)) as Array<Record<string, any>>;
const allPairs = ok.flatMap((r) => r.pairs as any[]);
const matched = allPairs.filter((p) => p.dScore !== null);
const summary = {
  images: ok.length,
  errors: rows.length - ok.length,
  sameFaceCount: ok.filter((r) => r.refFaces === r.jsFaces && r.refWhole === r.jsWhole).length,
  facePairs: allPairs.filter((p) => p.iou !== null).length,
  minIoU: Math.min(...allPairs.filter((p) => p.iou !== null).map((p) => p.iou)),
  iouBelow09: allPairs.filter((p) => p.iou !== null && p.iou < 0.9).length,
  identicalBoxes: allPairs.filter((p) => p.iou === 1).length,
  classified: matched.length,
  identicalPixels: matched.filter((p) => p.pixMax === 0).length,
  maxPixelDiff: Math.max(...matched.map((p) => p.pixMax ?? 0)),
  maxScoreDiff: Math.max(...matched.map((p) => p.dScore)),
  meanScoreDiff: matched.reduce((s, p) => s + p.dScore, 0) / matched.length,
  labelFlips: matched.filter((p) => p.flip).length,
};
console.log(JSON.stringify(summary, null, 1));
writeFileSync(outFile, JSON.stringify({ summary, rows }, null, 1));
