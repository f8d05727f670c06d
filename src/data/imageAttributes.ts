import sharp from 'sharp';
import type { ImageAttributes } from './auditTypes.js';
import { DEFAULT_IMAGE_LIMITS } from '../input/imageLimits.js';

/**
 * A picture is gray when its mean chroma is below GRAYSCALE_COLOURFULNESS and its most colourful
 * 5% of pixels are below GRAYSCALE_PEAK_CHROMA. Measured on ../shared/datasets/web-happysad, by
 * eye: black-and-white photos, line art and faintly toned (sepia, blue-gray) photos have a mean of
 * 0.00-0.05; so do colour figures on a white background (clip-art, cut-outs), whose white dilutes
 * the mean to 0.03-0.05 though the figures are vivid. Their 95th percentile tells them apart:
 * 0.14-0.26 against at most 0.11 for a toned black-and-white photo. The mean alone at 0.05 calls 9
 * happy images gray (6 of them colour cut-outs), both rules together 3 (all black and white).
 */
export const GRAYSCALE_COLOURFULNESS = 0.05;
export const GRAYSCALE_PEAK_CHROMA = 0.12;

/** Side of the thumbnail every pixel statistic is taken on. */
const THUMB = 64;
/** A row or column is one flat colour when no channel varies more than this (std, [0, 1]): JPEG noise on a black bar stays well under it. */
const FLAT_STD = 0.02;
/** ... and belongs to a band when its mean is within this of the band's edge row (a gradient sky drifts out of it). */
const BAND_COLOUR = 0.04;

/**
 * What an image looks like apart from its content: size, shape, colour, exposure, frames and
 * encoding. When these differ between class folders a model can learn them instead of the
 * expression (see auditShortcuts).
 *
 * One small decode: EXIF-rotated, transparency flattened onto white (the default preprocessing
 * background, so a clip-art's empty surround measures as the model will see it), sRGB, squeezed to
 * 64x64. Squeezing ('fill') keeps each edge band's share of its axis, which is all the border
 * measure needs, and gives every image the same number of rows and columns to scan; 'inside' would
 * leave a panorama 6 rows tall, too coarse to find a letterbox in.
 *
 * Never throws: what cannot be read is NaN (a broken header leaves width and height NaN, a broken
 * decode the pixel statistics), and jpegQuality comes from the bytes whatever the decoder says.
 */
export async function imageAttributes(bytes: Uint8Array, format: string): Promise<ImageAttributes> {
  const jpegQuality = estimateJpegQuality(bytes);
  let width = Number.NaN;
  let height = Number.NaN;
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    width = meta.autoOrient?.width ?? meta.width ?? Number.NaN;
    height = meta.autoOrient?.height ?? meta.height ?? Number.NaN;
  } catch {
    // Not an image sharp reads: only the byte-level estimate is left.
  }
  let pixels: PixelStats = { colourfulness: Number.NaN, peakChroma: Number.NaN, brightness: Number.NaN, contrast: Number.NaN, border: Number.NaN };
  try {
    // failOn 'none': a damaged file still has most of its pixels, and clean reports the damage itself.
    const { data } = await sharp(bytes, { failOn: 'none', limitInputPixels: DEFAULT_IMAGE_LIMITS.maxPixels })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      // 'linear' does not overshoot: a uniform band stays uniform up to its inner edge (lanczos rings there).
      .resize(THUMB, THUMB, { fit: 'fill', kernel: 'linear' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (data.length === THUMB * THUMB * 3) pixels = pixelStats(data, THUMB, THUMB);
  } catch {
    // Undecodable: the header's facts (if any) and the JPEG tables are still worth having.
  }
  const { peakChroma: _, ...measured } = pixels;
  return {
    format,
    width,
    height,
    aspect: width / height,
    ...measured,
    grayscale: pixels.colourfulness < GRAYSCALE_COLOURFULNESS && pixels.peakChroma < GRAYSCALE_PEAK_CHROMA,
    jpegQuality,
  };
}

interface PixelStats {
  colourfulness: number;
  /** 95th percentile of per-pixel chroma: whether any sizeable part of the picture has colour. */
  peakChroma: number;
  brightness: number;
  contrast: number;
  border: number;
}

/** Statistics of an RGB uint8 image (row-major, 3 channels). Exported for tests. */
export function pixelStats(rgb: Uint8Array, width: number, height: number): PixelStats {
  const n = width * height;
  let chroma = 0;
  // Chroma of uint8 pixels is a whole number of 255ths: a histogram gives the exact percentile without sorting.
  const histogram = new Uint32Array(256);
  let lumaSum = 0;
  let lumaSq = 0;
  for (let i = 0; i < n; i++) {
    const r = rgb[3 * i] / 255;
    const g = rgb[3 * i + 1] / 255;
    const b = rgb[3 * i + 2] / 255;
    const c = Math.max(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]) - Math.min(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
    chroma += c / 255;
    histogram[c]++;
    // Rec. 601 luma on the gamma-encoded values: what JPEG's Y channel and common gray conversions use.
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    lumaSum += y;
    lumaSq += y * y;
  }
  const brightness = lumaSum / n;
  let peak = 0;
  for (let seen = histogram[0]; seen < 0.95 * n; seen += histogram[peak]) peak++;
  return {
    colourfulness: chroma / n,
    peakChroma: peak / 255,
    brightness,
    contrast: Math.sqrt(Math.max(0, lumaSq / n - brightness * brightness)),
    border: borderShare(rgb, width, height),
  };
}

/**
 * Share of the area in flat bands along the edges (letterbox bars, frames, an empty backdrop).
 * From each edge inward, rows (or columns) count while each is one flat colour, the colour of the
 * band's edge line; the first that is not ends the band. Lines run the full width or height, so a
 * letterbox's bars never count as a pillarbox's. Bands on opposite edges stop where they meet.
 */
function borderShare(rgb: Uint8Array, width: number, height: number): number {
  const line = (start: number, step: number, count: number) => {
    const mean = [0, 0, 0];
    const sq = [0, 0, 0];
    for (let k = 0; k < count; k++) {
      const p = 3 * (start + k * step);
      for (let c = 0; c < 3; c++) {
        const v = rgb[p + c] / 255;
        mean[c] += v;
        sq[c] += v * v;
      }
    }
    let std = 0;
    for (let c = 0; c < 3; c++) {
      mean[c] /= count;
      std = Math.max(std, Math.sqrt(Math.max(0, sq[c] / count - mean[c] * mean[c])));
    }
    return { mean, flat: std <= FLAT_STD };
  };
  const row = (y: number) => line(y * width, 1, width);
  const column = (x: number) => line(x, width, height);
  const band = (lineAt: (i: number) => ReturnType<typeof line>, from: number, dir: 1 | -1, max: number) => {
    const edge = lineAt(from);
    if (!edge.flat) return 0;
    let k = 1;
    while (k < max) {
      const next = lineAt(from + dir * k);
      if (!next.flat || next.mean.some((m, c) => Math.abs(m - edge.mean[c]) > BAND_COLOUR)) break;
      k++;
    }
    return k;
  };
  const top = band(row, 0, 1, height);
  const bottom = band(row, height - 1, -1, height - top);
  const left = band(column, 0, 1, width);
  const right = band(column, width - 1, -1, width - left);
  const inner = Math.max(0, height - top - bottom) * Math.max(0, width - left - right);
  return 1 - inner / (width * height);
}

/** IJG's luminance quantisation table (JPEG standard, Annex K), in natural (row-major) order. */
const IJG_LUMINANCE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55,
  64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
/** Natural-order index of the k-th coefficient in a DQT segment, which lists them in zigzag order. */
const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37,
  44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/** libjpeg's jpeg_quality_scaling + jpeg_add_quant_table (force_baseline): the table quality q writes. */
function ijgTable(q: number): number[] {
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - 2 * q;
  return IJG_LUMINANCE.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}
const IJG_TABLES = Array.from({ length: 100 }, (_, i) => ijgTable(i + 1));

/**
 * The IJG quality (1-100) whose luminance table is nearest to the file's, from its DQT markers;
 * null when the bytes are not a JPEG or hold no table. Exact for libjpeg-family encoders (sharp,
 * PIL, ImageMagick, most web tools), which scale IJG's table; for cameras and Photoshop, whose tables
 * are their own, it is the IJG quality of similar coarseness. Distance is in log ratio, so the
 * fine low-frequency steps weigh as much as the coarse high-frequency ones.
 */
export function estimateJpegQuality(bytes: Uint8Array): number | null {
  const table = luminanceTable(bytes);
  if (!table) return null;
  let best = 0;
  let bestError = Infinity;
  for (let q = 0; q < 100; q++) {
    const ref = IJG_TABLES[q];
    let error = 0;
    for (let i = 0; i < 64; i++) error += Math.abs(Math.log(Math.max(1, table[i]) / ref[i]));
    // Ties (high qualities clamp many steps to 1) go to the higher quality, as the encoder's setting was at least that.
    if (error <= bestError) {
      bestError = error;
      best = q + 1;
    }
  }
  return best;
}

/**
 * The luminance quantisation table in natural order: table 0 (the one libjpeg gives Y), else the
 * first defined. Walks the markers from SOI to the first scan; a malformed segment ends the walk
 * with what was read so far.
 */
function luminanceTable(b: Uint8Array): number[] | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  const tables = new Map<number, number[]>();
  let p = 2;
  while (p + 1 < b.length) {
    if (b[p] !== 0xff) break;
    let marker = b[p + 1];
    p += 2;
    // Any number of 0xFF fill bytes may precede a marker.
    while (marker === 0xff && p < b.length) marker = b[p++];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda || p + 2 > b.length) break;
    const length = (b[p] << 8) | b[p + 1];
    const end = p + length;
    if (length < 2 || end > b.length) break;
    if (marker === 0xdb) {
      let q = p + 2;
      while (q < end) {
        const precision = b[q] >> 4;
        const id = b[q] & 0x0f;
        const size = precision === 0 ? 64 : 128;
        if (precision > 1 || q + 1 + size > end) break;
        const values = new Array<number>(64);
        for (let k = 0; k < 64; k++) values[ZIGZAG[k]] = precision === 0 ? b[q + 1 + k] : (b[q + 1 + 2 * k] << 8) | b[q + 2 + 2 * k];
        if (!tables.has(id)) tables.set(id, values);
        q += 1 + size;
      }
    }
    p = end;
  }
  return tables.get(0) ?? tables.values().next().value ?? null;
}
