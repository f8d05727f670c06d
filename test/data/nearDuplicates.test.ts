import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Random } from '../../src/base/random.js';
import { cleanDataset } from '../../src/data/cleanDataset.js';
import { discoverDataset } from '../../src/data/discoverDataset.js';
import { findNearDuplicates, NEAR_DUPLICATE_BITS, type HashedFile } from '../../src/data/nearDuplicates.js';
import { hammingDistance, perceptualHash, type Hash64 } from '../../src/data/perceptualHash.js';
import { writeBytes } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const photo = async (cls: string, name: string) => readFile(join(examples, cls, name));

async function copiesOf(original: Buffer): Promise<Record<string, Buffer>> {
  const m = await sharp(original).metadata();
  const [dx, dy] = [Math.round(m.width! * 0.05), Math.round(m.height! * 0.05)];
  return {
    resized: await sharp(original).resize({ width: Math.round(m.width! / 2) }).jpeg({ quality: 85 }).toBuffer(),
    recompressed: await sharp(original).jpeg({ quality: 30 }).toBuffer(),
    png: await sharp(original).png().toBuffer(),
    mirrored: await sharp(original).flop().jpeg().toBuffer(),
    cropped: await sharp(original).extract({ left: dx, top: dy, width: m.width! - 2 * dx, height: m.height! - 2 * dy }).jpeg().toBuffer(),
  };
}

test('a photo and its resized, recompressed, PNG, mirrored and slightly cropped copies are one group; the original is kept', async () => {
  const root = await tempDir();
  const original = await photo('happy', 'Tom_Watson_0003.jpg');
  await writeBytes(join(root, 'happy', 'a-original.jpg'), original);
  for (const [name, bytes] of Object.entries(await copiesOf(original))) await writeBytes(join(root, 'happy', `${name}.jpg`), bytes);
  await writeBytes(join(root, 'sad', 'other.jpg'), await photo('sad', 'Avinash_13.jpg'));
  const report = await cleanDataset(await discoverDataset(root));
  assert.equal(report.nearDuplicates.length, 1, JSON.stringify(report.nearDuplicates));
  const [group] = report.nearDuplicates;
  // The original and its mirror have the most pixels; the first path of those is kept.
  assert.equal(group!.files[0], 'happy/a-original.jpg');
  assert.deepEqual([...group!.files].sort(), ['happy/a-original.jpg', 'happy/cropped.jpg', 'happy/mirrored.jpg', 'happy/png.jpg', 'happy/recompressed.jpg', 'happy/resized.jpg']);
  assert.ok(group!.pairs.every((p) => p.distance <= NEAR_DUPLICATE_BITS));
  assert.ok(group!.pairs.some((p) => p.mirrored && p.b.includes('mirrored')), 'the mirror copy matched as a mirror image');
  const flagged = report.problems.filter((p) => p.problem === 'near-duplicate');
  assert.equal(flagged.length, 5);
  for (const p of flagged) assert.match(p.detail, /the same picture as happy\/a-original\.jpg \((\d+\/64 bits apart|through another copy)/);
  assert.deepEqual(report.valid.map((v) => v.relPath).sort(), ['happy/a-original.jpg', 'sad/other.jpg']);
  assert.deepEqual(report.leaks, []);
});

/** A seeded scene of coloured shapes: a different picture for each seed, all of the same kind. */
function scene(seed: number): Promise<Buffer> {
  const rng = new Random(seed);
  const r = (n: number) => Math.floor(rng.next() * n);
  const shapes = Array.from({ length: 6 }, () => (rng.next() < 0.5
    ? `<rect x="${r(160)}" y="${r(120)}" width="${20 + r(80)}" height="${20 + r(60)}" fill="rgb(${r(256)},${r(256)},${r(256)})"/>`
    : `<circle cx="${r(200)}" cy="${r(150)}" r="${10 + r(40)}" fill="rgb(${r(256)},${r(256)},${r(256)})"/>`)).join('');
  return sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="200" height="150"><rect width="200" height="150" fill="rgb(${r(256)},${r(256)},${r(256)})"/>${shapes}</svg>`)).jpeg().toBuffer();
}

test('different pictures are not grouped: the six example photos and generated scenes', async () => {
  const root = await tempDir();
  for (const cls of ['happy', 'sad']) for (const name of await readdir(join(examples, cls))) await writeBytes(join(root, cls, name), await readFile(join(examples, cls, name)));
  for (let i = 0; i < 24; i++) await writeBytes(join(root, i % 2 ? 'sad' : 'happy', `scene${i}.jpg`), await scene(100 + i));
  const report = await cleanDataset(await discoverDataset(root));
  assert.deepEqual(report.nearDuplicates, []);
  assert.equal(report.ok, 30);
});

test('a copy across train and val is a leak, excluded from val; across classes a conflicting label, every copy excluded', async () => {
  const root = await tempDir();
  const a = await photo('happy', 'Azra_Akin_0003.jpg');
  const b = await photo('sad', 'Jayamadhuri_196.jpg');
  await writeBytes(join(root, 'train', 'happy', 'azra.jpg'), a);
  await writeBytes(join(root, 'val', 'happy', 'azra-small.jpg'), (await copiesOf(a)).resized);
  await writeBytes(join(root, 'train', 'sad', 'jaya.jpg'), b);
  await writeBytes(join(root, 'train', 'happy', 'jaya-mirror.jpg'), (await copiesOf(b)).mirrored);
  await writeBytes(join(root, 'val', 'sad', 'tom.jpg'), await photo('happy', 'Tom_Watson_0003.jpg'));
  const report = await cleanDataset(await discoverDataset(root));
  const leak = report.problems.find((p) => p.file === 'val/happy/azra-small.jpg');
  assert.match(leak!.detail, /TRAIN\/VAL LEAK: this val image is also in train; excluded from val/);
  assert.deepEqual(report.leaks.map((p) => p.file), ['val/happy/azra-small.jpg']);
  const conflict = report.nearDuplicates.find((g) => g.conflictingLabels);
  assert.deepEqual([...conflict!.files].sort(), ['train/happy/jaya-mirror.jpg', 'train/sad/jaya.jpg']);
  for (const f of conflict!.files) assert.match(report.problems.find((p) => p.file === f)!.detail, /CONFLICTING LABELS, all copies excluded/);
  assert.deepEqual(report.valid.map((v) => v.relPath).sort(), ['train/happy/azra.jpg', 'val/sad/tom.jpg']);
});

test('the index finds exactly the pairs an all-pairs search finds', () => {
  const rng = new Random(7);
  const word = () => Math.floor(rng.next() * 2 ** 32) >>> 0;
  const flip = (h: Hash64, bits: number): Hash64 => {
    const out: Hash64 = [h[0], h[1]];
    const chosen = new Set<number>();
    while (chosen.size < bits) chosen.add(Math.floor(rng.next() * 64));
    for (const b of chosen) out[b < 32 ? 0 : 1] = (out[b < 32 ? 0 : 1] ^ (1 << (b % 32))) >>> 0;
    return out;
  };
  const files: HashedFile[] = [];
  for (let i = 0; i < 400; i++) {
    // Every fourth file is a copy of an earlier one at 0-12 bits: pairs on both sides of the threshold.
    const base: Hash64 = i % 4 === 3 ? flip(files[i - 1]!.hashes.hash, Math.floor(rng.next() * 13)) : [word(), word()];
    files.push({ relPath: `f${String(i).padStart(3, '0')}`, label: 'x', width: 1, height: 1, hashes: { hash: base, mirror: [word(), word()], crops: [] } });
  }
  const expected = new Set<string>();
  for (let i = 0; i < files.length; i++) for (let j = i + 1; j < files.length; j++) {
    const d = Math.min(hammingDistance(files[i]!.hashes.hash, files[j]!.hashes.hash), hammingDistance(files[i]!.hashes.mirror, files[j]!.hashes.hash), hammingDistance(files[j]!.hashes.mirror, files[i]!.hashes.hash));
    if (d <= NEAR_DUPLICATE_BITS) expected.add(`${files[i]!.relPath} ${files[j]!.relPath}`);
  }
  const found = new Set(findNearDuplicates(files).flatMap((g) => g.pairs.map((p) => [p.a, p.b].sort().join(' '))));
  assert.ok(expected.size > 20, `${expected.size} planted pairs`);
  assert.deepEqual([...found].sort(), [...expected].sort());
});

test('hashes ignore re-encoding and change with the picture', async () => {
  const original = await photo('sad', 'KatrinaKaif_92.jpg');
  const h = await perceptualHash(original);
  const again = await perceptualHash((await copiesOf(original)).recompressed);
  assert.ok(hammingDistance(h.hash, again.hash) <= 4);
  const other = await perceptualHash(await photo('happy', 'Kristanna_Loken_0001.jpg'));
  assert.ok(hammingDistance(h.hash, other.hash) > 16);
});
