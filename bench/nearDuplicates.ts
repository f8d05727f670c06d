/**
 * The data audit's cost: perceptual hashing and image attributes per image on real files, and
 * near-duplicate matching at scale (the multi-index, no all-pairs loop).
 *
 *   node --import tsx bench/nearDuplicates.ts [--data DIR] [--files 400] [--sizes 10000,100000] [--json]
 *
 * --data: a folder of images (default ../shared/datasets/web-happysad, else generated images).
 * Matching runs on synthetic hashes (uniform random, every tenth file a planted copy 0-6 bits
 * away), so it measures the index itself; real collections cluster more (FER2013's 13,593 faces
 * took 0.21 s to match, see the closing note of #14).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Random } from '../src/base/random.js';
import { imageAttributes } from '../src/data/imageAttributes.js';
import { findNearDuplicates, type HashedFile } from '../src/data/nearDuplicates.js';
import { perceptualHash, type Hash64 } from '../src/data/perceptualHash.js';
import { sniffImageFormat } from '../src/input/sniffImageFormat.js';
import { faceLikeImage } from '../testkit/makeImages.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, files: { type: 'string', default: '400' }, sizes: { type: 'string', default: '10000,100000' }, json: { type: 'boolean', default: false } } });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const out = (row: Record<string, unknown>) => console.log(values.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}=${v}`).join('  '));

function listImages(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? listImages(p) : /\.(jpe?g|png|webp)$/i.test(n) ? [p] : [];
  });
}

const dataDir = values.data ?? (existsSync(resolve('../shared/datasets/web-happysad')) ? resolve('../shared/datasets/web-happysad') : undefined);
const inputs: { name: string; bytes: Buffer }[] = dataDir
  ? listImages(dataDir).sort().slice(0, Number(values.files)).map((f) => ({ name: f, bytes: readFileSync(f) }))
  : await Promise.all(Array.from({ length: 200 }, async (_, i) => ({ name: `generated-${i}`, bytes: await faceLikeImage(i % 2 ? 'sad' : 'happy', i, 256, 'jpeg') })));
const hashMs: number[] = [];
const attrMs: number[] = [];
for (const { bytes } of inputs) {
  let t = performance.now();
  try {
    await perceptualHash(bytes);
  } catch {
    continue;
  }
  hashMs.push(performance.now() - t);
  t = performance.now();
  await imageAttributes(bytes, sniffImageFormat(bytes));
  attrMs.push(performance.now() - t);
}
out({ case: 'audit-per-image', data: dataDir ?? 'generated 256x256 JPEGs', images: hashMs.length, hash_ms_median: +median(hashMs).toFixed(2), attributes_ms_median: +median(attrMs).toFixed(2) });

for (const n of values.sizes.split(',').map(Number)) {
  const rng = new Random(n);
  const word = () => Math.floor(rng.next() * 2 ** 32) >>> 0;
  const near = (h: Hash64): Hash64 => {
    const c: Hash64 = [h[0], h[1]];
    for (let k = Math.floor(rng.next() * 4); k > 0; k--) {
      const b = Math.floor(rng.next() * 64);
      c[b >> 5] = (c[b >> 5] ^ (1 << (b & 31))) >>> 0;
    }
    return c;
  };
  const files: HashedFile[] = [];
  for (let i = 0; i < n; i++) {
    const hash: Hash64 = i % 10 === 9 ? near(files[i - 1]!.hashes.hash) : [word(), word()];
    files.push({ relPath: `f${i}`, label: 'x', width: 1, height: 1, hashes: { hash, mirror: [word(), word()], crops: [[word(), word()], [word(), word()]] } });
  }
  const t = performance.now();
  const groups = findNearDuplicates(files);
  const s = (performance.now() - t) / 1000;
  out({ case: 'near-duplicate-matching', files: n, seconds: +s.toFixed(2), us_per_file: +((s * 1e6) / n).toFixed(1), groups: groups.length, planted: Math.floor(n / 10) });
}
