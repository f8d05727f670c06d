import sharp from 'sharp';

/**
 * A 64-bit perceptual hash (pHash): the picture's low spatial frequencies, one bit per
 * coefficient above or below their median. Re-encoding, resizing, recompression and small
 * brightness changes barely move it; a different picture moves about half its bits. `mirror` is
 * the hash of the horizontally flipped picture, so a mirrored copy matches too.
 *
 * Hashes are [high 32 bits, low 32 bits] as unsigned integers: cheap to compare, JSON-safe.
 */
export type Hash64 = [number, number];

export interface PerceptualHash {
  hash: Hash64;
  mirror: Hash64;
}

const SIDE = 32;
const KEEP = 8;
/** The confirming hash keeps 16x16 frequencies: 256 bits, four times the detail of the 64-bit one. */
const FINE = 16;

/** Cosine table of the 32-point DCT-II, rows 0..FINE (only the low frequencies are used). */
const COS = (() => {
  const t = new Float64Array((FINE + 1) * SIDE);
  for (let u = 0; u <= FINE; u++) for (let x = 0; x < SIDE; x++) t[u * SIDE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * SIDE));
  return t;
})();

/** DCT coefficients (frequencies 1..keep in both directions) of 32x32 luma values, optionally mirrored. */
function lowFrequencies(luma: ArrayLike<number>, keep: number, mirrored: boolean): Float64Array {
  // Separable DCT: rows first (only keep+1 frequencies), then columns.
  const rows = new Float64Array(SIDE * (keep + 1));
  for (let y = 0; y < SIDE; y++) {
    for (let u = 0; u <= keep; u++) {
      let s = 0;
      for (let x = 0; x < SIDE; x++) s += luma[y * SIDE + (mirrored ? SIDE - 1 - x : x)]! * COS[u * SIDE + x]!;
      rows[y * (keep + 1) + u] = s;
    }
  }
  // The DC row and column carry overall brightness and gradients, which say little about which
  // picture it is: frequencies start at 1.
  const coeffs = new Float64Array(keep * keep);
  for (let v = 1; v <= keep; v++) {
    for (let u = 1; u <= keep; u++) {
      let s = 0;
      for (let y = 0; y < SIDE; y++) s += rows[y * (keep + 1) + u]! * COS[v * SIDE + y]!;
      coeffs[(v - 1) * keep + (u - 1)] = s;
    }
  }
  return coeffs;
}

/** One bit per coefficient: above the median or not, packed into 32-bit words, first coefficient highest. */
function medianBits(coeffs: Float64Array): number[] {
  const median = [...coeffs].sort((a, b) => a - b)[coeffs.length / 2]!;
  const words = new Array<number>(coeffs.length / 32).fill(0);
  for (let i = 0; i < coeffs.length; i++) if (coeffs[i]! > median) words[i >> 5] = (words[i >> 5]! | (1 << (31 - (i & 31)))) >>> 0;
  return words;
}

/** pHash of 32x32 luma values (row-major), optionally read mirrored. */
function hashLuma(luma: ArrayLike<number>, mirrored = false): Hash64 {
  return medianBits(lowFrequencies(luma, KEEP, mirrored)) as Hash64;
}

/** The 256-bit hash that confirms a 64-bit match (8 words). */
function fineHashLuma(luma: ArrayLike<number>, mirrored = false): number[] {
  return medianBits(lowFrequencies(luma, FINE, mirrored));
}

/** Central regions hashed besides the whole picture (fraction of each side): a copy cropped by 5-10% a side matches one of them. */
export const CROP_FRACTIONS = [0.9, 0.8] as const;
const WORK = 128;

export interface ImageHashes extends PerceptualHash {
  /** Hashes of the central CROP_FRACTIONS of the picture, same order. */
  crops: Hash64[];
  /**
   * 256-bit hashes confirming a match, same layout: whole, mirror, then each crop. Faces cropped
   * as tightly as FER2013's often agree on the 64 coarse bits while being different people.
   */
  fine: { hash: number[]; mirror: number[]; crops: number[][] };
}

/**
 * The hashes of an encoded image: EXIF orientation applied, transparency on white, luma squeezed
 * to 128x128 (a central crop commutes with that per-axis scaling, so crops can be cut from it),
 * then each region box-filtered to 32x32.
 */
export async function perceptualHash(bytes: Uint8Array | string): Promise<ImageHashes> {
  const { data } = await sharp(bytes, { failOn: 'none' })
    .rotate()
    .flatten({ background: '#ffffff' })
    .grayscale()
    .resize(WORK, WORK, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const whole = boxResample(data, 0, WORK);
  const crops = CROP_FRACTIONS.map((f) => boxResample(data, Math.round((WORK * (1 - f)) / 2), Math.round(WORK * f)));
  return {
    hash: hashLuma(whole),
    mirror: hashLuma(whole, true),
    crops: crops.map((c) => hashLuma(c)),
    fine: { hash: fineHashLuma(whole), mirror: fineHashLuma(whole, true), crops: crops.map((c) => fineHashLuma(c)) },
  };
}

/** The square region [offset, offset + size) of a WORK x WORK luma image, area-averaged to 32x32. */
function boxResample(src: Uint8Array, offset: number, size: number): Float64Array {
  const out = new Float64Array(SIDE * SIDE);
  const step = size / SIDE;
  for (let oy = 0; oy < SIDE; oy++) {
    const y0 = offset + oy * step;
    const y1 = y0 + step;
    for (let ox = 0; ox < SIDE; ox++) {
      const x0 = offset + ox * step;
      const x1 = x0 + step;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(y0); y < Math.ceil(y1); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.ceil(x1); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          sum += src[y * WORK + x]! * w;
          area += w;
        }
      }
      out[oy * SIDE + ox] = sum / area;
    }
  }
  return out;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Bits in which two hashes of the same length differ. */
export function hammingDistance(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += popcount32((a[i]! ^ b[i]!) >>> 0);
  return d;
}
