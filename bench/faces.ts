/**
 * Face detection benchmark: median milliseconds per photo for detection (ssd and tiny) and for
 * detection with landmarks + aligned crop, after warm-up, on the six example photos.
 *
 *   node --import tsx bench/faces.ts [--rounds 7] [--warmup 2]
 *   node --import tsx bench/faces.ts --dir ../shared/datasets/web-happysad --every 2
 *
 * With --dir it instead reports, per detector and top-level subfolder, how many images of a folder
 * (recursively, 1 in --every) get at least one face with the first pass alone and with the default
 * context fallback, faces per image and timings: the numbers behind the detector defaults in
 * src/faces/detectFaces.ts.
 */
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initEngine, tf } from '../src/engine/engine.js';
import { cropFace } from '../src/faces/cropFace.js';
import { decodeRgbImage } from '../src/input/decodeImage.js';
import { createFaceDetector, type FaceDetector } from '../src/faces/detectFaces.js';
import { createFaceExpressionModel } from './faceApiExpressionModel.js';
import type { DetectedFace } from '../src/faces/types.js';
import type { Pixels } from '../src/pixels/pixels.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    warmup: { type: 'string', default: '2' },
    dir: { type: 'string' },
    every: { type: 'string', default: '1' },
  },
});
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number) => ms.toFixed(ms < 10 ? 1 : 0);

/**
 * Wall and CPU milliseconds. CPU time (all threads of this process: wasm runs on the main
 * thread, sharp on libvips threads) stays meaningful when other jobs share the machine.
 */
async function time<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const out = await fn();
  const used = process.cpuUsage(cpu);
  return [out, performance.now() - start, (used.user + used.system) / 1000];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function examples(): Promise<void> {
  const loadBefore = os.loadavg()[0]!.toFixed(1);
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples');
  const files = ['happy', 'sad'].flatMap((label) => readdirSync(path.join(root, label)).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(root, label, f)));
  const photos = await Promise.all(files.map(async (f) => ({ name: path.basename(f, '.jpg'), image: await decodeRgbImage(f) })));

  const configs: [string, FaceDetector][] = [];
  for (const detector of ['ssd', 'tiny'] as const) {
    configs.push([`${detector}`, await createFaceDetector({ detector })]);
    configs.push([`${detector} first pass only`, await createFaceDetector({ detector, context: 'never' })]);
    configs.push([`${detector}+landmarks`, await createFaceDetector({ detector, landmarks: true })]);
  }
  const expressions = await createFaceExpressionModel();

  type Cell = { faces: DetectedFace[]; detectMs: number[]; cropMs: number[]; detectCpu: number[]; cropCpu: number[] };
  const results = new Map<string, Cell[]>();
  for (const [name, det] of configs) {
    const cells: Cell[] = photos.map(() => ({ faces: [], detectMs: [], cropMs: [], detectCpu: [], cropCpu: [] }));
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      for (const [i, { image }] of photos.entries()) {
        const [faces, detectMs, detectCpu] = await time(() => det.detect(image));
        const [, cropMs, cropCpu] = await time(() => Promise.all(faces.map((f) => cropFace(image, f, { margin: 0.25, align: true }))));
        if (round < WARMUP) continue;
        const cell = cells[i]!;
        cell.faces = faces;
        cell.detectMs.push(detectMs);
        cell.cropMs.push(detectMs + cropMs);
        cell.detectCpu.push(detectCpu);
        cell.cropCpu.push(detectCpu + cropCpu);
      }
    }
    results.set(name, cells);
  }

  const exprMs: number[] = [];
  const exprCpu: number[] = [];
  const exprTop: string[] = [];
  const ssdFaces = results.get('ssd')!;
  for (const [i, { image }] of photos.entries()) {
    const face = ssdFaces[i]!.faces[0];
    if (!face) {
      exprTop.push('-');
      continue;
    }
    const ms: number[] = [];
    const cpu: number[] = [];
    let scores;
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      const [s, t, c] = await time(() => expressions.predictFace(image, face));
      if (round >= WARMUP) {
        ms.push(t);
        cpu.push(c);
      }
      scores = s;
    }
    exprMs.push(median(ms));
    exprCpu.push(median(cpu));
    exprTop.push(`h${scores!.happy.toFixed(2)} s${scores!.sad.toFixed(2)}`);
  }

  const cell = (name: string, i: number, what: 'detect' | 'crop') => {
    const c = results.get(name)![i]!;
    const [wall, cpu] = what === 'detect' ? [c.detectMs, c.detectCpu] : [c.cropMs, c.cropCpu];
    return `${c.faces.length}: ${fmt(median(wall))} (${fmt(median(cpu))})`;
  };
  const rows = photos.map(({ name, image }, i) => [
    name,
    `${image.width}x${image.height}`,
    cell('ssd', i, 'detect'),
    cell('ssd first pass only', i, 'detect'),
    cell('ssd+landmarks', i, 'crop'),
    cell('tiny', i, 'detect'),
    cell('tiny first pass only', i, 'detect'),
    cell('tiny+landmarks', i, 'crop'),
    exprTop[i]!,
  ]);
  const all = (name: string, what: 'detect' | 'crop') => {
    const cells = results.get(name)!;
    const wall = cells.flatMap((c) => (what === 'detect' ? c.detectMs : c.cropMs));
    const cpu = cells.flatMap((c) => (what === 'detect' ? c.detectCpu : c.cropCpu));
    return `${fmt(median(wall))} (${fmt(median(cpu))})`;
  };
  rows.push(['median, all', '', all('ssd', 'detect'), all('ssd first pass only', 'detect'), all('ssd+landmarks', 'crop'), all('tiny', 'detect'), all('tiny first pass only', 'detect'), all('tiny+landmarks', 'crop'), `${fmt(median(exprMs))} (${fmt(median(exprCpu))})`]);
  console.log(`faces found: median wall ms (median CPU ms) per photo, ${ROUNDS} rounds after ${WARMUP} warm-up, backend ${tf.getBackend()}, node ${process.version}, ${os.cpus().length} CPUs, load average before ${loadBefore}, after ${os.loadavg()[0]!.toFixed(1)}`);
  console.log(table(['photo', 'size', 'ssd', 'ssd 1st pass', 'ssd+lm+crop', 'tiny', 'tiny 1st pass', 'tiny+lm+crop', 'face-api expr (ssd face)'], rows));
  console.log('ssd/tiny: default options (context fallback on). "1st pass": context: "never". "+lm+crop": landmarks: true, then cropFace(margin 0.25, align) for every face.');
}

function listImages(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return listImages(p);
    return /\.(jpe?g|png|webp|gif|avif|tiff?)$/i.test(name) ? [p] : [];
  });
}

async function folder(dir: string, every: number): Promise<void> {
  const files = listImages(dir).filter((_, i) => i % every === 0);
  // One row per top-level subfolder (the label) and one for all: detection rates can differ by class.
  const groupOf = (file: string) => path.relative(dir, file).split(path.sep)[0]!;
  const groups = [...new Set(files.map(groupOf).filter((g) => !/\.[a-z]+$/i.test(g)))];
  const rows: string[][] = [];
  for (const detector of ['ssd', 'tiny'] as const) {
    const firstOnly = await createFaceDetector({ detector, context: 'never' });
    const auto = await createFaceDetector({ detector });
    type Tally = { images: number; hitFirst: number; hitAuto: number; faces: number; ms: number[]; cpu: number[] };
    const tallies = new Map<string, Tally>();
    if (files[0]) {
      const warm = await decodeRgbImage(files[0]).catch(() => undefined);
      if (warm) await auto.detect(warm);
    }
    const tally = (g: string) => tallies.get(g) ?? tallies.set(g, { images: 0, hitFirst: 0, hitAuto: 0, faces: 0, ms: [], cpu: [] }).get(g)!;
    for (const file of files) {
      let image: Pixels<3>;
      try {
        image = await decodeRgbImage(file);
      } catch {
        continue;
      }
      // With faces in the first pass, the default detector returns exactly that (the context
      // pass only runs when it finds none), so it is only run again when the first pass is empty.
      let [found, t, c] = await time(() => firstOnly.detect(image));
      const hitFirst = found.length > 0;
      if (!hitFirst) [found, t, c] = await time(() => auto.detect(image));
      for (const g of ['all', groupOf(file)]) {
        const tl = tally(g);
        tl.images++;
        tl.hitFirst += hitFirst ? 1 : 0;
        tl.hitAuto += found.length > 0 ? 1 : 0;
        tl.faces += found.length;
        tl.ms.push(t);
        tl.cpu.push(c);
      }
    }
    for (const g of [...groups, 'all']) {
      const tl = tallies.get(g);
      if (!tl || (g !== 'all' && groups.length < 2)) continue;
      rows.push([detector, g, String(tl.images), (tl.hitFirst / tl.images).toFixed(3), (tl.hitAuto / tl.images).toFixed(3), (tl.faces / tl.images).toFixed(2), `${fmt(median(tl.ms))} (${fmt(median(tl.cpu))})`]);
    }
  }
  console.log(`${dir}: 1 in ${every} images, ${files.length} files, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`);
  console.log(table(['detector', 'folder', 'images', '>=1 face, 1st pass', '>=1 face, default', 'faces/image', 'median wall (CPU) ms, default'], rows));
}

await initEngine();
if (args.dir) await folder(args.dir, Number(args.every));
else await examples();
