// 3. Headless Chromium: parity with Node (results/nodeRef.json) and speed, per backend config.
// Run from /work/scratch/browser-study after ./build.sh and the nodeRef.mts run:
//   node browserBench.mjs [config ...]     configs: wasm-t2-simd wasm-t1-simd wasm-t1-nosimd webgl
import { readFileSync, writeFileSync } from 'node:fs';
import { launch, startServer } from './harness.mjs';

const CONFIGS = {
  'wasm-t2-simd': { setup: { backend: 'wasm', threads: 2, simd: true }, args: ['--disable-gpu'] },
  'wasm-t2-simd-cores4': { setup: { backend: 'wasm', threads: 2, simd: true, reportCores: 4 }, args: ['--disable-gpu'] },
  'wasm-t1-simd': { setup: { backend: 'wasm', threads: 1, simd: true }, args: ['--disable-gpu'] },
  'wasm-t1-nosimd': { setup: { backend: 'wasm', threads: 1, simd: false }, args: ['--disable-gpu'] },
  'webgl': { setup: { backend: 'webgl' }, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'] },
};
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(CONFIGS);
const ref = JSON.parse(readFileSync('results/nodeRef.json', 'utf8'));
ref.threshold = JSON.parse(readFileSync('/work/main/models/default/happysad.json', 'utf8')).threshold;
const cameraArgs = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${process.cwd()}/frame.y4m`];

const iou = (a, b) => {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  const i = w > 0 && h > 0 ? w * h : 0;
  return i / (a[2] * a[3] + b[2] * b[3] - i);
};

const { server, url } = await startServer();
const all = {};
for (const name of chosen) {
  const cfg = CONFIGS[name];
  const browser = await launch([...cfg.args, ...cameraArgs]);
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(`${url}/browser/bench.html`);
  await page.waitForFunction(() => globalThis.study);
  const out = { config: name };
  try {
    out.info = await page.evaluate((s) => globalThis.study.init(s), cfg.setup);
    console.log(name, JSON.stringify(out.info));
    // Parity, end to end (browser decode + JS preprocessing + browser tfjs) and on Node's own crops.
    const parity = [];
    for (const r of ref.rows) {
      const b = await page.evaluate((u) => globalThis.study.predictUrl(u), r.url);
      const nodeScores = r.whole ? [r.whole.score] : r.faces.map((f) => f.score);
      const brScores = b.whole ? [b.whole.score] : b.faces.map((f) => f.score);
      const onNodeCrops = await page.evaluate(([c, n]) => globalThis.study.scorePixels(c, n), [r.crops, r.n]);
      const p = {
        file: r.file.split('/').slice(-2).join('/'),
        sameShape: (r.whole?.because ?? null) === (b.whole?.because ?? null) && r.faces.length === b.faces.length,
        nodeFaces: r.faces.length, browserFaces: b.faces.length,
        ious: r.faces.map((f, i) => (b.faces[i] ? +iou(f.box, b.faces[i].box).toFixed(4) : null)),
        dScores: nodeScores.map((s, i) => (brScores[i] === undefined ? null : Math.abs(s - brScores[i]))),
        flips: nodeScores.filter((s, i) => brScores[i] !== undefined && (s >= ref.threshold) !== (brScores[i] >= ref.threshold)).length,
        dScoresSameCrops: nodeScores.map((s, i) => Math.abs(s - onNodeCrops[i])),
        ms: +b.totalMs.toFixed(1),
      };
      parity.push(p);
    }
    const flat = (k) => parity.flatMap((p) => p[k]).filter((x) => x !== null);
    out.parity = {
      images: parity.length,
      sameFaceCountAndMode: parity.filter((p) => p.sameShape).length,
      faces: flat('ious').length,
      minIoU: Math.min(...flat('ious')),
      iouBelow09: flat('ious').filter((x) => x < 0.9).length,
      maxScoreDiff: Math.max(...flat('dScores')),
      meanScoreDiff: flat('dScores').reduce((a, b) => a + b, 0) / flat('dScores').length,
      maxScoreDiffSameCrops: Math.max(...flat('dScoresSameCrops')),
      examplesMaxScoreDiff: Math.max(...parity.slice(0, 8).flatMap((p) => p.dScores)),
      examplesMinIoU: Math.min(...parity.slice(0, 8).flatMap((p) => p.ious)),
      worst: [...parity].sort((a, b) => Math.max(0, ...b.dScores.filter((x) => x !== null)) - Math.max(0, ...a.dScores.filter((x) => x !== null)))[0],
      mismatched: parity.filter((p) => !p.sameShape).map((p) => p.file),
      medianImageMs: [...parity.map((p) => p.ms)].sort((a, b) => a - b)[Math.floor(parity.length / 2)],
    };
    console.log(name, 'parity', JSON.stringify(out.parity));
    out.stages = await page.evaluate(async () => {
      const frame = await globalThis.study.frameFromUrl('/frame.png');
      return globalThis.study.benchStages(frame, 30);
    });
    console.log(name, 'stages', JSON.stringify(out.stages));
    // A smaller face (box ~150 px of 640): the short-range pass finds no big face, so the
    // full-range 256 pass runs too (blazeFace.ts detect()).
    out.stagesSmallFace = await page.evaluate(async () => {
      const frame = await globalThis.study.frameFromUrl('/frame-small.png');
      const r = await globalThis.study.benchStages(frame, 20);
      return { detect: r.detect, cropResize: r.cropResize, pipeline: r.pipeline, result: r.result };
    });
    console.log(name, 'stagesSmallFace', JSON.stringify(out.stagesSmallFace));
    out.camera = await page.evaluate(() => globalThis.study.benchCamera(6));
    console.log(name, 'camera', JSON.stringify(out.camera));
  } catch (err) {
    out.error = String(err);
    console.log(name, 'ERROR', String(err).slice(0, 500));
  }
  out.logs = logs.slice(0, 20);
  all[name] = out;
  await browser.close();
}
server.close();
const file = `results/browserBench-${chosen.join('+')}.json`;
writeFileSync(file, JSON.stringify({ nodeTiming: ref.nodeTiming, ...all }, null, 1));
console.log('wrote', file);
