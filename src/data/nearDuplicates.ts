import { hammingDistance, type Hash64, type ImageHashes } from './perceptualHash.js';
import type { NearDuplicateGroup } from './auditTypes.js';
import { splitRank } from './discoverDataset.js';

/**
 * Two pictures whose 64-bit hashes differ in at most this many bits (and whose 256-bit hashes
 * agree, see NEAR_DUPLICATE_FINE_BITS) are taken as the same picture. Measured on the example
 * photos (.scratch scripts, test/data/nearDuplicates.test.ts): resized, recompressed, re-encoded
 * as PNG, brightened, grayscaled, mirrored and 5-10%-a-side cropped copies come out at 0-6 bits.
 * Among the 447 web-happysad photos, pairs of different pictures start at 10 bits. Missed: a copy
 * cropped on one side only (8% off the left: 6-18 bits) or shrunk to a 48x48 grayscale thumbnail
 * (0-18 bits).
 */
export const NEAR_DUPLICATE_BITS = 6;

export interface HashedFile {
  relPath: string;
  label: string;
  split?: string;
  width: number;
  height: number;
  /** `fine` may be left out (then a coarse match stands on its own). */
  hashes: Omit<ImageHashes, 'fine'> & { fine?: ImageHashes['fine'] };
}

/**
 * A coarse match stands only if the 256-bit hashes differ in at most this many bits. Tight face
 * crops (FER2013) of different people often agree on the 64 coarse bits (differing in 6-8); their
 * 256-bit hashes differ in 98-106 bits, a true FER duplicate's in 32, the example photos' copies
 * above in 0-20.
 */
export const NEAR_DUPLICATE_FINE_BITS = 48;

/**
 * Groups pictures that are the same up to re-encoding, resizing, mirroring or a slight central crop.
 * Each file's whole-picture hash, its mirror and its centre crops are looked up among every
 * file's whole hash through a multi-index: the 64 bits cut into four 16-bit chunks, each chunk
 * indexed; two hashes within 7 bits agree to within 1 bit on at least one chunk (pigeonhole),
 * so probing every key within 1 bit of each chunk (17 keys) finds every match without comparing
 * all pairs: ~22 µs per image at 100,000 (bench/nearDuplicates.ts). A coarse match must then
 * agree on the 256-bit hashes too. Groups are transitive (a ~ b ~ c is one group).
 *
 * Order in a group: the file to keep first (the earliest split, train before val before test, so a
 * copy of a training image never counts in evaluation; then the most pixels; then the path).
 */
export function findNearDuplicates(files: HashedFile[], maxDistance = NEAR_DUPLICATE_BITS, maxFine = NEAR_DUPLICATE_FINE_BITS): NearDuplicateGroup[] {
  if (maxDistance > 11) throw new RangeError(`near-duplicate search covers distances up to 11 bits, asked for ${maxDistance}`);
  // (Up to 7 bits one bit per chunk is probed; up to 11, two.)
  // Indexed: every file's whole hash. Probed: its whole hash, mirror and centre crops, so a copy
  // cropped from another matches whichever of the two is probed.
  const n = files.length;
  // Flat copies of the indexed hashes: the inner loop reads them for every candidate, and typed
  // arrays are several times faster there than following each file's object.
  const hi = Uint32Array.from(files, (f) => f.hashes.hash[0]);
  const lo = Uint32Array.from(files, (f) => f.hashes.hash[1]);
  const chunk = (id: number, c: number) => chunkOf(hi[id]!, lo[id]!, c);
  // One bucket array per 16-bit chunk, laid out flat (counting sort): files whose chunk c is v
  // are ids[c][start[c][v] .. start[c][v + 1]).
  const start = Array.from({ length: 4 }, () => new Uint32Array(65537));
  const ids = Array.from({ length: 4 }, () => new Uint32Array(n));
  for (let c = 0; c < 4; c++) {
    const s = start[c]!;
    for (let id = 0; id < n; id++) s[chunk(id, c) + 1]!++;
    for (let v = 0; v < 65536; v++) s[v + 1]! += s[v]!;
    const fill = s.slice(0, 65536);
    for (let id = 0; id < n; id++) ids[c]![fill[chunk(id, c)]!++] = id;
  }
  const masks = chunkMasks(Math.floor(maxDistance / 4));
  const best = new Map<string, { distance: number; mirrored: boolean }>();
  files.forEach((f, i) => {
    const probes: [Hash64, boolean, number[] | undefined][] = [[f.hashes.hash, false, f.hashes.fine?.hash], [f.hashes.mirror, true, f.hashes.fine?.mirror], ...f.hashes.crops.map((h, k): [Hash64, boolean, number[] | undefined] => [h, false, f.hashes.fine?.crops[k]])];
    for (const [probe, mirrored, fineProbe] of probes) {
      for (let c = 0; c < 4; c++) {
        const key = chunkOf(probe[0], probe[1], c);
        const [s, list] = [start[c]!, ids[c]!];
        for (const mask of masks) {
          const v = key ^ mask;
          for (let at = s[v]!, end = s[v + 1]!; at < end; at++) {
            const other = list[at]!;
            if (other === i) continue;
            // A pair met through several chunks or masks is scored again; cheaper than remembering it.
            const distance = popcount32((probe[0] ^ hi[other]!) >>> 0) + popcount32((probe[1] ^ lo[other]!) >>> 0);
            if (distance > maxDistance) continue;
            const fine = files[other]!.hashes.fine?.hash;
            if (fineProbe && fine && hammingDistance(fineProbe, fine) > maxFine) continue;
            const pair = i < other ? `${i},${other}` : `${other},${i}`;
            const had = best.get(pair);
            if (!had || distance < had.distance || (distance === had.distance && had.mirrored && !mirrored)) best.set(pair, { distance, mirrored });
          }
        }
      }
    }
  });
  // Union-find over the matching pairs.
  const parent = files.map((_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (const pair of best.keys()) {
    const [a, b] = pair.split(',').map(Number) as [number, number];
    parent[find(a)] = find(b);
  }
  // Members and pairs of each group, gathered in one pass over the pairs.
  const members = new Map<number, Set<number>>();
  const pairsOf = new Map<number, { a: number; b: number; distance: number; mirrored: boolean }[]>();
  for (const [pair, m] of best) {
    const [a, b] = pair.split(',').map(Number) as [number, number];
    const root = find(a);
    if (!members.has(root)) {
      members.set(root, new Set());
      pairsOf.set(root, []);
    }
    members.get(root)!.add(a).add(b);
    pairsOf.get(root)!.push({ a, b, ...m });
  }
  const keepOrder = (a: number, b: number) => {
    const [fa, fb] = [files[a]!, files[b]!];
    return splitRank(fa.split) - splitRank(fb.split) || fb.width * fb.height - fa.width * fa.height || (fa.relPath < fb.relPath ? -1 : fa.relPath > fb.relPath ? 1 : 0);
  };
  const groups: NearDuplicateGroup[] = [];
  for (const [root, set] of members) {
    const list = [...set].sort(keepOrder);
    const pairs = pairsOf.get(root)!
      .map((p) => ({ a: files[p.a]!.relPath, b: files[p.b]!.relPath, distance: p.distance, mirrored: p.mirrored }))
      .sort((x, y) => x.distance - y.distance || (x.a < y.a ? -1 : 1));
    const group = list.map((i) => files[i]!);
    groups.push({
      files: group.map((f) => f.relPath),
      labels: group.map((f) => f.label),
      splits: group.map((f) => f.split),
      pairs,
      leak: new Set(group.map((f) => f.split ?? 'train')).size > 1,
      conflictingLabels: new Set(group.map((f) => f.label)).size > 1,
    });
  }
  return groups.sort((x, y) => (x.files[0]! < y.files[0]! ? -1 : 1));
}

/** Chunk c (0-3, most significant first) of the hash whose words are hi, lo. */
function chunkOf(hi: number, lo: number, c: number): number {
  return c < 2 ? (hi >>> (16 * (1 - c))) & 0xffff : (lo >>> (16 * (3 - c))) & 0xffff;
}

/** XOR masks of every 16-bit key within `radius` bits of a key (radius ≤ 2: at most 137). */
function chunkMasks(radius: number): number[] {
  const out = [0];
  if (radius >= 1) for (let i = 0; i < 16; i++) out.push(1 << i);
  if (radius >= 2) for (let i = 0; i < 16; i++) for (let j = i + 1; j < 16; j++) out.push((1 << i) | (1 << j));
  return out;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** " (N/64 bits apart[, mirrored])" for two files of a group that matched directly; undefined when only through others. */
export function matchNote(group: NearDuplicateGroup, a: string, b: string): string | undefined {
  const m = group.pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));
  return m && ` (${m.distance}/64 bits apart${m.mirrored ? ', mirrored' : ''})`;
}
