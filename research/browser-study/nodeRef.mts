// Node reference for the browser runs: the repo's own pipeline (FaceCropper + Classifier) on the
// six examples, the 640x480 webcam frame and a sample of web-happysad; boxes, scores and the exact
// 48x48 crops (so the browser can score identical pixels). Also times the frame in Node.
// Run: cd /work/main && node --import tsx /work/scratch/browser-study/nodeRef.mts
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { initEngine } from '../../main/src/engine/engine.ts';
import { FaceCropper } from '../../main/src/data/decodeFaces.ts';
import { loadModel } from '../../main/src/predict/classifier.ts';
import { decodeFullImage } from '../../main/src/data/decodeImage.ts';

const dir = '/work/scratch/browser-study';
// The test suite's webcam frame (test/serve/serveFixtures.ts webcamFrame): an example face on 640x480 gray.
const face = readFileSync('/work/main/examples/happy/Kristanna_Loken_0001.jpg');
const base = sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 118, g: 124, b: 130 } } }).composite([{ input: face, left: 145, top: 65 }]);
await base.clone().png().toFile(`${dir}/frame.png`);
const raw = await base.clone().removeAlpha().raw().toBuffer();
// Fake camera file for Chromium (the repo's test helper writes the same format).
const { rgbToY4m } = await import('../../main/test/serve/y4m.ts');
writeFileSync(`${dir}/frame.y4m`, rgbToY4m([new Uint8Array(raw)], 640, 480));

await initEngine({ threads: 1 });
const classifier = await loadModel('/work/main/models/default', { workers: 1 });
const spec = classifier.metadata.preprocessing;
const cropper = await FaceCropper.create(spec.faces!);

const files: string[] = [];
for (const k of ['happy', 'sad']) for (const f of readdirSync(`/work/main/examples/${k}`).sort()) files.push(`/work/main/examples/${k}/${f}`);
files.push(`${dir}/frame.png`, `${dir}/frame-small.png`);
const web: string[] = [];
for (const k of ['happy', 'sad']) for (const f of readdirSync(`/work/shared/datasets/web-happysad/${k}`).sort()) web.push(`/work/shared/datasets/web-happysad/${k}/${f}`);
// Every 4th web photo (~110), for end-to-end browser vs Node on varied pictures.
files.push(...web.filter((_, i) => i % 4 === 0));

const rows = [];
for (const file of files) {
  const d = await cropper.decode(readFileSync(file), spec);
  const images = d.whole ? [d.whole] : d.faces.map((f) => f.image);
  const dec = await classifier.classifyDecoded(images);
  rows.push({
    file,
    url: file.replace('/work/main/', '/main/').replace('/work/shared/', '/shared/').replace(`${dir}/`, '/'),
    faces: d.faces.map((f, i) => ({ box: f.box, detectorScore: f.detectorScore, score: dec[i]!.score, label: classifier.metadata.classes[dec[i]!.labelIndex] })),
    whole: d.whole ? { because: d.wholeBecause, score: dec[0]!.score } : null,
    crops: Buffer.concat(images.map((im) => Buffer.from(im.data))).toString('base64'),
    n: images.length,
  });
}

// Node timing of the same frame, one thread: decode from raw RGB (no JPEG), detect, crop, classify.
const frameRgb = { data: new Uint8Array(raw), width: 640, height: 480, channels: 3 as const };
const detector = (cropper as unknown as { detector: { detect: (im: typeof frameRgb) => Promise<unknown[]> } }).detector;
const times: Record<string, number[]> = { detect: [], full: [] };
const pngBytes = readFileSync(`${dir}/frame.png`);
for (let i = 0; i < 33; i++) {
  let t = performance.now();
  await detector.detect(frameRgb);
  if (i >= 3) times.detect!.push(performance.now() - t);
  t = performance.now();
  const d = await cropper.decode(pngBytes, spec);
  await classifier.classifyDecoded(d.faces.map((f) => f.image));
  if (i >= 3) times.full!.push(performance.now() - t);
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nodeTiming = { detectRawFrameMs: med(times.detect!), pngDecodeDetectCropClassifyMs: med(times.full!) };
console.log(nodeTiming, rows.slice(0, 7).map((r) => [r.file.split('/').pop(), JSON.stringify(r.faces.map((f) => [f.box.join(' '), f.score.toFixed(4)]))]));
writeFileSync(`${dir}/results/nodeRef.json`, JSON.stringify({ nodeTiming, rows }));
await classifier.close();
void decodeFullImage;
