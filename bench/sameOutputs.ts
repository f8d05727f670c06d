/**
 * node --import tsx bench/sameOutputs.ts --roots before=DIR,after=. [--photos 100] [--json]
 *
 * Whether two checkouts answer alike: `predict --json --no-cache` of each CLI on the example
 * photos, --photos generated one-face photos (bench/facePipeline.ts --make-photos), big and
 * EXIF-rotated photos (the boxes mapped back from the face search) and a 20 s video, row against
 * row. Prints each input set's row count and how many rows differ, with the first differences.
 * A speed change must leave these equal, or explain every difference.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { parseRoots, type Checkout } from './checkouts.js';
import { boxIoU } from '../src/faces/geometry.js';
import type { FaceBox } from '../src/faces/types.js';

const { values } = parseArgs({ options: { roots: { type: 'string' }, photos: { type: 'string', default: '100' }, json: { type: 'boolean', default: false } } });
const roots = parseRoots(values.roots);
if (roots.length !== 2) throw new Error('sameOutputs compares two checkouts: --roots before=DIR,after=DIR');

const work = await mkdtemp(join(tmpdir(), 'happysad-same-outputs-'));
try {
  const photos = join(work, 'photos');
  execFileSync(process.execPath, ['--import', 'tsx', resolve('bench/facePipeline.ts'), '--make-photos', photos, '--photos', values.photos]);
  const big = join(work, 'big');
  await mkdir(big);
  for (const [i, f] of ['examples/happy/Kristanna_Loken_0001.jpg', 'examples/sad/Avinash_13.jpg'].entries()) {
    await sharp(f).resize(3000, 2400, { fit: 'fill' }).jpeg().toFile(join(big, `big${i}.jpg`));
    await sharp(f).resize(1800, 1800).withMetadata({ orientation: 6 }).jpeg().toFile(join(big, `rotated${i}.jpg`));
  }
  const video = join(work, 'face.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=0x767c82:s=640x480:r=25:d=20', '-loop', '1', '-i', resolve('examples/happy/Kristanna_Loken_0001.jpg'),
    '-filter_complex', '[1:v]scale=300:300[f];[0:v][f]overlay=x=170+100*sin(2*PI*t/20):y=90:shortest=1', '-t', '20', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', video]);
  // Videos follow faces between whole-frame searches since #24 (--search-every, default 1 s): with
  // --search-every 0 (where the checkout has it) every frame is searched whole, as before; the
  // default's rows are compared too, and where they differ, by how much.
  const followOff = (root: Checkout) => (readFileSync(join(root.dir, 'dist/cli/commandTable.js'), 'utf8').includes("'search-every'") ? ['--search-every', '0'] : []);
  const sets: Record<string, { inputs: string[]; extra?: (root: Checkout) => string[] }> = {
    examples: { inputs: [resolve('examples')] },
    [`${values.photos} generated photos`]: { inputs: [photos] },
    'big and rotated photos': { inputs: [big] },
    'a 20 s video (every 0.2 s), every frame searched whole': { inputs: [video], extra: followOff },
    'a 20 s video (every 0.2 s), as each checkout runs it': { inputs: [video] },
  };
  for (const [name, { inputs, extra }] of Object.entries(sets)) {
    const [a, b] = roots.map((root) => {
      const r = spawnSync(process.execPath, [join(root.dir, 'dist/cli/main.js'), 'predict', ...inputs, '--json', '--no-cache', ...(extra?.(root) ?? [])], { encoding: 'utf8', maxBuffer: 1 << 28 });
      if (!r.stdout.trim()) throw new Error(`${root.name} (${root.dir}): predict gave no rows (exit ${r.status}): ${r.stderr.slice(0, 500)}`);
      return r.stdout.trim().split('\n').filter(Boolean);
    });
    const differing = a!.map((row, i) => (row === b![i] ? -1 : i)).filter((i) => i >= 0);
    const result = { set: name, rows: [a!.length, b!.length], differing: differing.length + Math.abs(a!.length - b!.length), first: differing.slice(0, 2).map((i) => ({ [roots[0]!.name]: a![i], [roots[1]!.name]: b![i] })) };
    const rows = (xs: string[]) => xs.map((x) => JSON.parse(x) as { label?: string; probabilities?: Record<string, number>; box?: number[] });
    const [ra, rb] = [rows(a!), rows(b!)];
    // How far apart the differing rows are: labels, the largest probability change, the smallest box overlap.
    const apart = differing.length === 0 || a!.length !== b!.length ? undefined : {
      labelsDiffer: differing.filter((i) => ra[i]!.label !== rb[i]!.label).length,
      maxProbabilityChange: Math.max(...differing.flatMap((i) => Object.keys(ra[i]!.probabilities ?? {}).map((c) => Math.abs(ra[i]!.probabilities![c]! - (rb[i]!.probabilities?.[c] ?? 0))))),
      minBoxIoU: Math.min(...differing.filter((i) => ra[i]!.box && rb[i]!.box).map((i) => boxIoU(ra[i]!.box! as FaceBox, rb[i]!.box! as FaceBox))),
    };
    if (values.json) console.log(JSON.stringify({ ...result, ...(apart ? { apart } : {}) }));
    else {
      console.log(`  ${name}: ${a!.length} rows (${roots[0]!.name}) / ${b!.length} (${roots[1]!.name}), ${result.differing} differ`);
      if (apart) console.log(`    of those, ${apart.labelsDiffer} with another label; largest probability change ${apart.maxProbabilityChange.toFixed(3)}; smallest box IoU ${Number.isFinite(apart.minBoxIoU) ? apart.minBoxIoU.toFixed(3) : "n/a"}`);
      for (const d of result.first) for (const [k, v] of Object.entries(d)) console.log(`    ${k}: ${v}`);
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
