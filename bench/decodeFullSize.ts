/**
 * node --import tsx bench/decodeFullSize.ts [--data ../shared/datasets/web-happysad] [--files 60] [--rounds 3]
 *
 * What `decodeFullSize` (every new bundle's spec) changes for whole-image models:
 *   1. pixels: the old route (sharp shrinking a JPEG while decoding it) against the portable
 *      definition (rgbToModelInput on the fully decoded image), at 128x128x3, on the first --files
 *      photos of the happy folder: how many are byte-identical, the worst and the mean difference;
 *   2. cost: loadImages (parallel, as training decodes) on 100 photos per class, old route against
 *      new, alternating for --rounds, in ms per image at 128 and 256.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeFullImage, decodeImage } from '../src/input/decodeImage.js';
import { loadImages } from '../src/data/loadImages.js';
import { rgbToModelInput } from '../src/input/modelInput.js';
import { defaultPreprocessSpec } from '../src/input/preprocessSpec.js';

const { values } = parseArgs({ options: { data: { type: 'string', default: resolve('../shared/datasets/web-happysad') }, files: { type: 'string', default: '60' }, rounds: { type: 'string', default: '3' } } });
const dir = values.data;
const legacy = { ...defaultPreprocessSpec([128, 128, 3]), decodeFullSize: undefined };

let n = 0;
let exact = 0;
let worst = 0;
let meanSum = 0;
for (const f of readdirSync(join(dir, 'happy')).sort().slice(0, Number(values.files))) {
  const bytes = readFileSync(join(dir, 'happy', f));
  try {
    const a = await decodeImage(bytes, legacy);
    const b = rgbToModelInput(await decodeFullImage(bytes, legacy, undefined, Infinity), legacy);
    let m = 0;
    let s = 0;
    for (let i = 0; i < a.data.length; i++) {
      const d = Math.abs(a.data[i]! - b.data[i]!);
      m = Math.max(m, d);
      s += d;
    }
    n++;
    if (m === 0) exact++;
    worst = Math.max(worst, m);
    meanSum += s / a.data.length;
  } catch {
    // an undecodable file is clean's business, not this comparison's
  }
}
console.log(`pixels at 128x128x3: ${exact} of ${n} photos identical; worst difference ${worst} levels; mean ${(meanSum / n).toFixed(2)} levels`);

const items = ['happy', 'sad'].flatMap((c) => readdirSync(join(dir, c)).sort().slice(0, 100).map((f) => ({ file: join(dir, c, f) })));
for (const side of [128, 256]) {
  for (let r = 1; r <= Number(values.rounds); r++) {
    for (const full of [false, true]) {
      const spec = { ...defaultPreprocessSpec([side, side, 3]), decodeFullSize: full || undefined };
      const t = performance.now();
      await loadImages(items, spec);
      console.log(`loadImages ${side}x${side}, round ${r}, ${full ? 'decodeFullSize' : 'shrink-on-load'}: ${((performance.now() - t) / items.length).toFixed(1)} ms/image`);
    }
  }
}
