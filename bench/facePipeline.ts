/**
 * The face pipeline as a user runs it: the whole `happysad predict DIR` command (start-up, model
 * and detector loading, decode, detect, crop, classify, output) over a folder of one-face photos,
 * for each detector and for 1 and all workers, alternated in one run with the reference peer:
 * @vladmandic/human's BlazeFace detection alone (decode + detect, one thread; ../shared/peers/human).
 *
 *   node --import tsx bench/facePipeline.ts [--photos 100] [--rounds 2] [--detectors blazeface,blazeface-front,ssd]
 *                                          [--workers 1,2] [--source DIR] [--json]
 *   node --import tsx bench/facePipeline.ts --make-photos DIR [--photos 100]   (only writes the photos)
 *
 * The photos: --source (default examples/, the six shipped face photos) made into --photos
 * distinct 250x250 JPEGs (mirrored, shifted, scaled and re-lit by a fixed seed), the size of
 * those in the face-photo collections the examples come from. Each detector runs each checkout's
 * own default model (its models/default; or --model for all of them) with only its
 * preprocessing.faces.detector (and that detector's default score) changed, from a temporary copy. Figures are medians over rounds of the whole command's
 * wall time divided by the photo count; the ratio is ours / the peer's median per photo.
 *
 * Both sides run on the Node that runs this script (process.execPath). To measure on the Node
 * line users deploy on rather than the machine's own, put it first on PATH:
 *   PATH=/path/to/node-24/bin:$PATH npm run bench -- --cases face ...
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Random } from '../src/base/random.js';
import { parseRoots, type Checkout } from './checkouts.js';

const { values } = parseArgs({
  options: {
    photos: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '2' },
    detectors: { type: 'string', default: 'blazeface,blazeface-front,ssd' },
    workers: { type: 'string', default: `1,${availableParallelism()}` },
    source: { type: 'string', default: 'examples' },
    model: { type: 'string' },
    json: { type: 'boolean', default: false },
    'make-photos': { type: 'string' },
    roots: { type: 'string' },
  },
});
const N = Number(values.photos);
const ROUNDS = Number(values.rounds);
// The checkouts compared (see bench/checkouts.ts): this one alone unless run.ts passes --roots.
const roots = parseRoots(values.roots);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (x: number, d = 1) => Number(x.toFixed(d));

async function makePhotos(dir: string): Promise<void> {
  const sources: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/\.(jpe?g|png)$/i.test(e.name)) sources.push(join(d, e.name));
    }
  };
  walk(resolve(values.source));
  sources.sort();
  const rng = new Random(2026).derive('face-bench-photos');
  for (let i = 0; i < N; i++) {
    const src = sources[i % sources.length]!;
    const meta = await sharp(src).rotate().metadata();
    const w = meta.autoOrient?.width ?? meta.width!;
    const h = meta.autoOrient?.height ?? meta.height!;
    // A crop of 80-100% of the photo at a random offset, so no two files are the same picture.
    const k = 0.8 + 0.2 * rng.next();
    const cw = Math.round(w * k);
    const ch = Math.round(h * k);
    let img = sharp(src).rotate().extract({ left: Math.floor((w - cw) * rng.next()), top: Math.floor((h - ch) * rng.next()), width: cw, height: ch });
    if (rng.next() < 0.5) img = img.flop();
    img = img.modulate({ brightness: 0.85 + 0.3 * rng.next() }).resize(250, 250, { fit: 'cover' });
    await writeFile(join(dir, `photo_${String(i).padStart(3, '0')}.jpg`), await img.jpeg({ quality: 90 }).toBuffer());
  }
}

async function bundleWith(detector: string, root: Checkout, dir: string): Promise<string> {
  const out = join(dir, `model-${root.name}-${detector}`);
  await cp(values.model ? resolve(values.model) : join(root.dir, 'models/default'), out, { recursive: true });
  const meta = JSON.parse(await readFile(join(out, 'happysad.json'), 'utf8'));
  meta.preprocessing.faces = { ...meta.preprocessing.faces, detector, minScore: detector.startsWith('blazeface') ? 0.5 : 0.3 };
  await writeFile(join(out, 'happysad.json'), JSON.stringify(meta, null, 2));
  return out;
}

/** A checkout's CLI as installed (dist/ after `npm run build`), else from source through tsx. */
function cliCommand(root: Checkout): string[] {
  const built = join(root.dir, 'dist/cli/main.js');
  return existsSync(built) ? [built] : ['--import', 'tsx', join(root.dir, 'cli/main.ts')];
}

function timePredict(root: Checkout, photos: string, model: string, workers: number): { seconds: number; faces: number; rows: number } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [...cliCommand(root), 'predict', photos, '--model', model, '--workers', String(workers), '--json', '--no-cache'], { cwd: root.dir, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`predict failed (${r.status}): ${r.stderr}`);
  const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { faces?: unknown[] });
  return { seconds, rows: rows.length, faces: rows.reduce((n, x) => n + (x.faces?.length ?? 0), 0) };
}

function peerModules(): string | undefined {
  const setup = resolve('../shared/peers/human/setup.sh');
  if (!existsSync(setup)) return undefined;
  try {
    return execFileSync('bash', [setup], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

function timePeer(modules: string, photos: string): { median_ms: number; found: number; total_s: number } {
  const out = execFileSync(process.execPath, [resolve('../shared/peers/human/detect.cjs'), photos, String(N)], { env: { ...process.env, HUMAN_REF_MODULES: modules }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

if (values['make-photos']) {
  execFileSync('mkdir', ['-p', values['make-photos']]);
  await makePhotos(values['make-photos']);
  process.exit(0);
}

const work = await mkdtemp(join(tmpdir(), 'happysad-face-bench-'));
try {
  const photos = join(work, 'photos');
  execFileSync('mkdir', ['-p', photos]);
  await makePhotos(photos);
  const detectors = values.detectors.split(',').filter(Boolean);
  const workers = values.workers.split(',').map(Number);
  const models = Object.fromEntries(await Promise.all(detectors.flatMap((d) => roots.map(async (root) => [`${root.name}|${d}`, await bundleWith(d, root, work)] as const))));
  const modules = peerModules();
  const ours: Record<string, { seconds: number[]; faces: number; rows: number }> = {};
  const peer: { median_ms: number[]; found: number; total_s: number[] } = { median_ms: [], found: 0, total_s: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const d of detectors) {
      for (const w of workers) {
        if (modules) {
          const p = timePeer(modules, photos);
          peer.median_ms.push(p.median_ms);
          peer.total_s.push(p.total_s);
          peer.found = p.found;
        }
        for (const root of roots) {
          const key = `${root.name}|${d}|${w}`;
          const t = timePredict(root, photos, models[`${root.name}|${d}`]!, w);
          ours[key] ??= { seconds: [], faces: t.faces, rows: t.rows };
          ours[key].seconds.push(t.seconds);
          if (!values.json) process.stderr.write(`round ${r + 1}: ${root.name}: ${d}, ${w} worker(s): ${t.seconds.toFixed(1)} s for ${t.rows} photos, ${t.faces} faces\n`);
        }
      }
    }
  }
  const peerMs = peer.median_ms.length ? median(peer.median_ms) : undefined;
  const rows = Object.entries(ours).map(([key, o]) => {
    const [code, detector, w] = key.split('|');
    const msPerPhoto = (median(o.seconds) * 1000) / N;
    return {
      case: 'face-predict-command', node: process.version, code, detector, workers: Number(w), photos: N, faces: o.faces,
      seconds: round(median(o.seconds), 2), ms_per_photo: round(msPerPhoto), photos_per_s: round(1000 / msPerPhoto, 2),
      ...(peerMs ? { peer_ms_per_photo: round(peerMs), peer_photos_per_s: round(1000 / peerMs, 2), ratio_vs_peer: round(msPerPhoto / peerMs, 3) } : {}),
    };
  });
  if (values.json) for (const row of rows) console.log(JSON.stringify(row));
  else {
    console.log(`\nhappysad predict over ${N} one-face 250x250 photos, whole command, median of ${ROUNDS} round(s), Node ${process.version} (both sides)`);
    if (peerMs) console.log(`peer: Human BlazeFace detection alone (decode + detect, 1 thread): ${round(peerMs)} ms per photo (median of ${peer.median_ms.length} runs), ${peer.found}/${N} photos with a face`);
    else console.log('peer: ../shared/peers/human not available; no reference timed');
    for (const r of rows) console.log(`  ${roots.length > 1 ? `${r.code!.padEnd(7)} ` : ''}${r.detector!.padEnd(16)} ${String(r.workers).padStart(2)} worker(s): ${String(r.ms_per_photo).padStart(7)} ms/photo  ${String(r.photos_per_s).padStart(6)} photos/s  ${r.faces} faces${r.ratio_vs_peer !== undefined ? `  ratio vs peer ${r.ratio_vs_peer}` : ''}`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
