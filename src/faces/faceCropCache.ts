import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot } from '../io/cacheRoot.js';
import { writeFileAtomic } from '../io/atomicWrite.js';
import type { PreprocessSpec } from '../input/preprocessSpec.js';
import { modelInputsOf, type FaceDecoded } from './faceStep.js';
import type { FaceBox } from './types.js';
import type { Pixels } from '../pixels/pixels.js';

/**
 * Bumped whenever detection or cropping changes the crops made for the same spec (a detector's
 * passes, the crop arithmetic), so an older cache is never mistaken for this version's crops:
 * training and prediction must see the same pixels. 2: BlazeFace's short-range-first passes;
 * 3: the short-range pass on the image shrunk to 0.85; 4: crops brought to the model input by
 * pixels/ (JavaScript, shared with the browser) instead of sharp: 37 of 2^24 colours gray one level apart;
 * 5: boxes of photos larger than the face search in the photo's own pixels.
 */
const CROP_ALGORITHM = 5;

/**
 * Face crops at model input size, keyed by the image's content hash, the preprocessing spec and
 * the crop algorithm's version, so a second run on the same photos skips detection: every face
 * with its box, or the whole image (train uses the most prominent face, predict all of them).
 * Entries are written atomically; a damaged or missing entry is simply recomputed.
 */
export class FaceCropCache {
  constructor(readonly dir = join(cacheRoot(), 'face-crops')) {}

  key(contentSha256: string, spec: PreprocessSpec): string {
    const s = spec;
    return createHash('sha256').update(JSON.stringify([CROP_ALGORITHM, contentSha256, s.height, s.width, s.channels, s.resize, s.kernel, s.background, s.faces, s.decodeFullSize ?? false])).digest('hex');
  }

  /** Every face of an image with its box and score (or the whole image), as predict needs them. */
  async getDecoded(key: string, spec: PreprocessSpec): Promise<FaceDecoded | undefined> {
    const data = await readFile(join(this.dir, key.slice(0, 2), `${key}.faces`)).catch(() => undefined);
    if (!data || data.length < 4) return undefined;
    try {
      const headerLength = data.readUInt32LE(0);
      const header = JSON.parse(data.subarray(4, 4 + headerLength).toString('utf8')) as { faces: { box: FaceBox; detectorScore: number }[]; whole: boolean; wholeBecause?: FaceDecoded['wholeBecause'] };
      const size = spec.height * spec.width * spec.channels;
      const images = header.faces.length + (header.whole ? 1 : 0);
      if (data.length !== 4 + headerLength + images * size) return undefined;
      const image = (i: number): Pixels => ({ data: new Uint8Array(data.subarray(4 + headerLength + i * size, 4 + headerLength + (i + 1) * size)), width: spec.width, height: spec.height, channels: spec.channels });
      return {
        faces: header.faces.map((f, i) => ({ box: f.box, detectorScore: f.detectorScore, image: image(i) })),
        whole: header.whole ? image(header.faces.length) : null,
        ...(header.wholeBecause ? { wholeBecause: header.wholeBecause } : {}),
      };
    } catch {
      return undefined;
    }
  }

  async putDecoded(key: string, decoded: FaceDecoded): Promise<void> {
    const header = Buffer.from(JSON.stringify({ faces: decoded.faces.map((f) => ({ box: f.box, detectorScore: f.detectorScore })), whole: decoded.whole !== null, wholeBecause: decoded.wholeBecause }));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(header.length);
    const blob = Buffer.concat([length, header, ...modelInputsOf(decoded).map((image) => image.data)]);
    await writeFileAtomic(join(this.dir, key.slice(0, 2), `${key}.faces`), blob, { durable: false }).catch(() => undefined);
  }
}
