/**
 * libvips' resize, as sharp 0.35 (libvips 8.18) runs it for `resize(w, h, { fit: 'fill', kernel })`
 * on raw uint8 pixels, re-implemented in plain JavaScript so the browser and Node compute the same
 * bytes: the model input and the face detector's input are defined here, not by whichever libvips a
 * host happens to have. test/pixels/resizePixels.test.ts compares it with sharp byte for byte, so a
 * sharp upgrade that changes resampling fails CI instead of drifting silently.
 *
 * Written from libvips v8.18.4 resample/{resize.c, reducev.cpp, reduceh.cpp, shrinkh.c, shrinkv.c,
 * templates.h, interpolate.c, bicubic.cpp, affine.c} and sharp's src/pipeline.cc. The steps: an
 * integer box shrink (gap 2.0), a fixed-point (4.12) reduce with 65 sub-pixel phases, and for
 * upsizing libvips' affine with the bilinear or bicubic interpolator. See research/browser-study.
 */
import type { Pixels } from './pixels.js';

export type ResizeKernel = 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';
export const RESIZE_KERNELS: readonly ResizeKernel[] = ['linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'];

const TRANSFORM_SCALE = 64; // VIPS_TRANSFORM_SCALE
/**
 * vips__fatstrip_height: libvips computes reducev's source row once per region of this many rows,
 * then adds the step row by row, so the fixed-point rounding depends on where regions start.
 * 16 matched sharp on 1498 of 1500 random size pairs (the 2 others: mixed up/down, off by 1).
 */
const REDUCEV_STRIP = 16;
const INTERPOLATE_SHIFT = 12;
const INTERPOLATE_SCALE = 1 << INTERPOLATE_SHIFT;

/** C rint(): round half to even. */
export function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
/** VIPS_ROUND_UINT */
const roundUint = (x: number): number => Math.floor(x + 0.5);
const clip255 = (v: number): number => (v < 0 ? 0 : Math.min(v , 255));

function filterFn(kernel: ResizeKernel): (x: number) => number {
  switch (kernel) {
    case 'linear':
      return (x: number) => {
        x = Math.abs(x);
        return x < 1 ? 1 - x : 0;
      };
    case 'cubic':
      return (x: number) => cubicFilter(x, 0, 0.5);
    case 'mitchell':
      return (x: number) => cubicFilter(x, 1 / 3, 1 / 3);
    case 'lanczos2':
      return (x: number) => (x >= -2 && x <= 2 ? sinc(x) * sinc(x / 2) : 0);
    case 'lanczos3':
      return (x: number) => (x >= -3 && x <= 3 ? sinc(x) * sinc(x / 3) : 0);
    default:
      throw new RangeError(`resize kernel '${String(kernel)}' is not one of ${RESIZE_KERNELS.join(', ')}`);
  }
}
function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}
function cubicFilter(x: number, B: number, C: number): number {
  const ax = Math.abs(x);
  const ax2 = ax * ax;
  const ax3 = ax2 * ax;
  if (ax <= 1) return ((12 - 9 * B - 6 * C) * ax3 + (-18 + 12 * B + 6 * C) * ax2 + (6 - 2 * B)) / 6;
  if (ax <= 2) return ((-B - 6 * C) * ax3 + (6 * B + 30 * C) * ax2 + (-12 * B - 48 * C) * ax + (8 * B + 24 * C)) / 6;
  return 0;
}
function points(kernel: ResizeKernel, shrink: number): number {
  switch (kernel) {
    case 'linear':
      return 2 * rint(shrink) + 1;
    case 'cubic':
    case 'mitchell':
    case 'lanczos2':
      return 2 * rint(2 * shrink) + 1;
    case 'lanczos3':
      return 2 * rint(3 * shrink) + 1;
    default:
      throw new RangeError(`resize kernel '${String(kernel)}' is not one of ${RESIZE_KERNELS.join(', ')}`);
  }
}

/** The 65 fixed-point masks (short, 4.12) of reduceh/reducev. */
function masks(kernel: ResizeKernel, n: number, shrink: number): Int32Array[] {
  const f = filterFn(kernel);
  const out: Int32Array[] = [];
  for (let t = 0; t <= TRANSFORM_SCALE; t++) {
    const x = t / TRANSFORM_SCALE;
    const half = x + n / 2 - 1;
    const c = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const l = f((i - half) / shrink);
      c[i] = l;
      sum += l;
    }
    const s = new Int32Array(n);
    for (let i = 0; i < n; i++) s[i] = Math.trunc((c[i] / sum) * INTERPOLATE_SCALE);
    out.push(s);
  }
  return out;
}

/** vips_shrinkv(ceil: TRUE), uchar: box average of `v` rows, edge rows repeated. */
function shrinkv(img: Pixels, v: number): Pixels {
  const { data, width, height, channels } = img;
  const outH = Math.ceil(height / v);
  const ne = width * channels;
  const out = new Uint8Array(outH * ne);
  const amend = v >> 1;
  const mult = Math.floor(2 ** 32 / (256 * v));
  // (sum + amend) * mult < 2^32, so >>> 24 is the floor of the division by 2^24, done in integers.
  if (v === 2) {
    // The common case (a 640x480 frame to the 109-pixel short-range letterbox): no sum buffer.
    for (let y = 0; y < outH; y++) {
      const r0 = Math.min(height - 1, 2 * y) * ne;
      const r1 = Math.min(height - 1, 2 * y + 1) * ne;
      const o = y * ne;
      for (let i = 0; i < ne; i++) out[o + i] = ((data[r0 + i] + data[r1 + i] + amend) * mult) >>> 24;
    }
    return { data: out, width, height: outH, channels };
  }
  const sum = new Uint32Array(ne);
  for (let y = 0; y < outH; y++) {
    sum.fill(0);
    for (let k = 0; k < v; k++) {
      const sy = Math.min(height - 1, y * v + k);
      const row = sy * ne;
      for (let i = 0; i < ne; i++) sum[i] += data[row + i];
    }
    const o = y * ne;
    for (let i = 0; i < ne; i++) out[o + i] = ((sum[i] + amend) * mult) >>> 24;
  }
  return { data: out, width, height: outH, channels };
}

/** vips_shrinkh(ceil: TRUE), uchar. */
function shrinkh(img: Pixels, h: number): Pixels {
  const { data, width, height, channels: b } = img;
  const outW = Math.ceil(width / h);
  const out = new Uint8Array(outW * height * b);
  const amend = h >> 1;
  const mult = Math.floor(2 ** 32 / (256 * h));
  // Source byte offsets (within a row) of each output column's h taps, edge-clamped.
  const taps = new Int32Array(outW * h);
  for (let x = 0; x < outW; x++) for (let k = 0; k < h; k++) taps[x * h + k] = Math.min(width - 1, x * h + k) * b;
  for (let y = 0; y < height; y++) {
    const row = y * width * b;
    let o = y * outW * b;
    if (b === 3) {
      // RGB: the three channels of a tap side by side, one pass over the taps.
      for (let x = 0; x < outW; x++) {
        const t0 = x * h;
        let s0 = amend, s1 = amend, s2 = amend;
        for (let k = 0; k < h; k++) {
          const p = row + taps[t0 + k];
          s0 += data[p];
          s1 += data[p + 1];
          s2 += data[p + 2];
        }
        out[o++] = (s0 * mult) >>> 24;
        out[o++] = (s1 * mult) >>> 24;
        out[o++] = (s2 * mult) >>> 24;
      }
      continue;
    }
    for (let x = 0; x < outW; x++) {
      const t0 = x * h;
      for (let c = 0; c < b; c++) {
        let s = amend;
        for (let k = 0; k < h; k++) s += data[row + taps[t0 + k] + c];
        out[o++] = (s * mult) >>> 24;
      }
    }
  }
  return { data: out, width: outW, height, channels: b };
}

/** vips_reducev(vshrink, kernel, gap). */
function reducev(img: Pixels, vshrink: number, kernel: ResizeKernel, gap = 2, strip = REDUCEV_STRIP): Pixels {
  const height = roundUint(img.height / vshrink);
  let extra = height * vshrink - img.height;
  let residual = vshrink;
  if (gap > 0) {
    const intV = Math.max(1, Math.floor(img.height / height / gap));
    if (intV > 1) {
      img = shrinkv(img, intV);
      extra /= intV;
      residual /= intV;
    }
  }
  if (residual === 1) return img;
  const { data, width, height: inH, channels } = img;
  const n = points(kernel, residual);
  const voffset = (1 + extra) / 2 - 1;
  const ms = masks(kernel, n, residual);
  const pad = Math.ceil(n / 2) - 1;
  const ne = width * channels;
  const out = new Uint8Array(height * ne);
  // Float64, not Int32: the sums are exact integers either way (|sum| < 2^31), and V8 runs float
  // multiply-adds without the overflow checks int32 arithmetic carries (1.5x on a 640x480 frame).
  const acc = new Float64Array(ne);
  const rows = new Int32Array(8);
  let Y = 0;
  for (let y = 0; y < height; y++) {
    // libvips computes Y once per region (at its top row) and then adds residual row by row: the
    // rounding of Y * 128 near an integer depends on where the region started.
    if (y % strip === 0) Y = (y + 0.5) * residual - 0.5 - voffset;
    const py = Math.trunc(Y);
    const sy = Math.trunc(Y * TRANSFORM_SCALE * 2);
    const ty = ((sy & (TRANSFORM_SCALE * 2 - 1)) + 1) >> 1;
    const c = ms[ty];
    acc.fill(INTERPOLATE_SCALE >> 1);
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      // Eight taps per sweep over the row: an eighth of the passes over acc.
      for (let k = 0; k < 8; k++) rows[k] = Math.min(inH - 1, Math.max(0, py + i + k - pad)) * ne;
      const r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7];
      const c0 = c[i], c1 = c[i + 1], c2 = c[i + 2], c3 = c[i + 3], c4 = c[i + 4], c5 = c[i + 5], c6 = c[i + 6], c7 = c[i + 7];
      for (let z = 0; z < ne; z++) {
        acc[z] += c0 * data[r0 + z] + c1 * data[r1 + z] + c2 * data[r2 + z] + c3 * data[r3 + z]
          + c4 * data[r4 + z] + c5 * data[r5 + z] + c6 * data[r6 + z] + c7 * data[r7 + z];
      }
    }
    for (; i + 4 <= n; i += 4) {
      const r0 = Math.min(inH - 1, Math.max(0, py + i - pad)) * ne;
      const r1 = Math.min(inH - 1, Math.max(0, py + i + 1 - pad)) * ne;
      const r2 = Math.min(inH - 1, Math.max(0, py + i + 2 - pad)) * ne;
      const r3 = Math.min(inH - 1, Math.max(0, py + i + 3 - pad)) * ne;
      const c0 = c[i], c1 = c[i + 1], c2 = c[i + 2], c3 = c[i + 3];
      for (let z = 0; z < ne; z++) acc[z] += c0 * data[r0 + z] + c1 * data[r1 + z] + c2 * data[r2 + z] + c3 * data[r3 + z];
    }
    for (; i < n; i++) {
      const r = Math.min(inH - 1, Math.max(0, py + i - pad)) * ne;
      const ci = c[i];
      for (let z = 0; z < ne; z++) acc[z] += ci * data[r + z];
    }
    const o = y * ne;
    for (let z = 0; z < ne; z++) {
      const v = acc[z] >> INTERPOLATE_SHIFT;
      out[o + z] = v < 0 ? 0 : Math.min(v , 255);
    }
    Y += residual;
  }
  return { data: out, width, height, channels };
}

/** vips_reduceh(hshrink, kernel, gap). */
function reduceh(img: Pixels, hshrink: number, kernel: ResizeKernel, gap = 2): Pixels {
  const width = roundUint(img.width / hshrink);
  let extra = width * hshrink - img.width;
  let residual = hshrink;
  if (gap > 0) {
    const intH = Math.max(1, Math.floor(img.width / width / gap));
    if (intH > 1) {
      img = shrinkh(img, intH);
      residual /= intH;
      extra /= intH;
    }
  }
  if (residual === 1) return img;
  const { data, width: inW, height, channels: b } = img;
  const n = points(kernel, residual);
  const hoffset = (1 + extra) / 2 - 1;
  const ms = masks(kernel, n, residual);
  const pad = Math.ceil(n / 2) - 1;
  const out = new Uint8Array(width * height * b);
  // Per output column: first tap and mask (the same for every row).
  const firstTap = new Int32Array(width);
  const maskOf: Int32Array[] = new Array(width);
  let X = 0.5 * residual - 0.5 - hoffset;
  for (let x = 0; x < width; x++) {
    const ix = Math.trunc(X);
    const sx = Math.trunc(X * TRANSFORM_SCALE * 2);
    maskOf[x] = ms[((sx & (TRANSFORM_SCALE * 2 - 1)) + 1) >> 1];
    firstTap[x] = ix - pad;
    X += residual;
  }
  // Byte offsets (within a row) of every tap, edge-clamped, and the masks, column by column.
  const taps = new Int32Array(width * n);
  const coef = new Int32Array(width * n);
  for (let x = 0; x < width; x++) {
    for (let i = 0; i < n; i++) {
      taps[x * n + i] = Math.min(inW - 1, Math.max(0, firstTap[x] + i)) * b;
      coef[x * n + i] = maskOf[x][i];
    }
  }
  const half = INTERPOLATE_SCALE >> 1;
  for (let y = 0; y < height; y++) {
    const row = y * inW * b;
    let o = y * width * b;
    if (b === 3) {
      // RGB (the detector's letterbox): the three channels share each tap's offset and weight.
      for (let x = 0; x < width; x++) {
        const t0 = x * n;
        let s0 = half, s1 = half, s2 = half;
        for (let i = 0; i < n; i++) {
          const p = row + taps[t0 + i];
          const k = coef[t0 + i];
          s0 += k * data[p];
          s1 += k * data[p + 1];
          s2 += k * data[p + 2];
        }
        const v0 = s0 >> INTERPOLATE_SHIFT, v1 = s1 >> INTERPOLATE_SHIFT, v2 = s2 >> INTERPOLATE_SHIFT;
        out[o++] = v0 < 0 ? 0 : Math.min(v0, 255);
        out[o++] = v1 < 0 ? 0 : Math.min(v1, 255);
        out[o++] = v2 < 0 ? 0 : Math.min(v2, 255);
      }
      continue;
    }
    for (let x = 0; x < width; x++) {
      const t0 = x * n;
      for (let z = 0; z < b; z++) {
        let sum = half;
        for (let i = 0; i < n; i++) sum += coef[t0 + i] * data[row + taps[t0 + i] + z];
        const v = sum >> INTERPOLATE_SHIFT;
        out[o++] = v < 0 ? 0 : Math.min(v , 255);
      }
    }
  }
  return { data: out, width, height, channels: b };
}

/** Catmull-Rom coefficient tables of vips' bicubic interpolator (int, 4.12). */
let bicubicTable: Int32Array[] | undefined;
function bicubicMasks(): Int32Array[] {
  if (bicubicTable) return bicubicTable;
  bicubicTable = [];
  for (let t = 0; t <= TRANSFORM_SCALE; t++) {
    const x = t / TRANSFORM_SCALE;
    const cr1 = 1 - x;
    const cr2 = -0.5 * x;
    const cr3 = cr1 * cr2;
    const cone = cr1 * cr3;
    const cfou = x * cr3;
    const cr4 = cfou - cone;
    const ctwo = cr1 - cone + cr4;
    const cthr = x - cfou - cr4;
    bicubicTable.push(Int32Array.from([cone, ctwo, cthr, cfou], (c) => Math.trunc(c * INTERPOLATE_SCALE)));
  }
  return bicubicTable;
}

/**
 * vips_affine(hscale, 0, 0, vscale, idx = idy = 0.5, extend copy) with 'bilinear' (kernel linear)
 * or 'bicubic' (other kernels): the upsizing step of vips_resize.
 */
function affineUp(img: Pixels, hscale: number, vscale: number, interp: 'bilinear' | 'bicubic'): Pixels {
  const { data, width: W, height: H, channels: b } = img;
  const det = hscale * vscale;
  const tmp = 1 / det;
  const ia = tmp * vscale;
  const id = tmp * hscale;
  const outW = Math.round(W * hscale); // VIPS_ROUND_INT of right - left
  const outH = Math.round(H * vscale);
  const out = new Uint8Array(outW * outH * b);
  const windowOffset = interp === 'bilinear' ? 0 : 1;
  const idx = 0.5 - 1; // resize's 0.5, minus the one-pixel border affine adds
  // Continuous coordinates in the embedded input (border of windowOffset + 1, edge-extended).
  const border = windowOffset + 1;
  const at = (ex: number, ey: number, c: number): number => data[(Math.min(H - 1, Math.max(0, ey - border)) * W + Math.min(W - 1, Math.max(0, ex - border))) * b + c];
  const cub = interp === 'bicubic' ? bicubicMasks() : [];
  for (let y = 0; y < outH; y++) {
    const iy = id * y - idx + windowOffset;
    let ix = ia * 0 - idx + windowOffset;
    for (let x = 0; x < outW; x++) {
      const o = (y * outW + x) * b;
      const fx = Math.trunc(ix);
      const fy = Math.trunc(iy);
      if (interp === 'bilinear') {
        const X = Math.trunc((ix - fx) * INTERPOLATE_SCALE);
        const Yw = Math.trunc((iy - fy) * INTERPOLATE_SCALE);
        const Yd = INTERPOLATE_SCALE - Yw;
        const c4 = (Yw * X) >> INTERPOLATE_SHIFT;
        const c2 = (Yd * X) >> INTERPOLATE_SHIFT;
        const c3 = Yw - c4;
        const c1 = Yd - c2;
        for (let c = 0; c < b; c++) {
          out[o + c] = (c1 * at(fx, fy, c) + c2 * at(fx + 1, fy, c) + c3 * at(fx, fy + 1, c) + c4 * at(fx + 1, fy + 1, c) + (INTERPOLATE_SCALE >> 1)) >> INTERPOLATE_SHIFT;
        }
      } else {
        const tx = ((Math.trunc(ix * TRANSFORM_SCALE * 2) & (TRANSFORM_SCALE * 2 - 1)) + 1) >> 1;
        const ty = ((Math.trunc(iy * TRANSFORM_SCALE * 2) & (TRANSFORM_SCALE * 2 - 1)) + 1) >> 1;
        const cx = cub[tx];
        const cy = cub[ty];
        const round = (v: number): number => (v + (INTERPOLATE_SCALE >> 1)) >> INTERPOLATE_SHIFT;
        for (let c = 0; c < b; c++) {
          const r = [0, 1, 2, 3].map((j) => round(cx[0] * at(fx - 1, fy - 1 + j, c) + cx[1] * at(fx, fy - 1 + j, c) + cx[2] * at(fx + 1, fy - 1 + j, c) + cx[3] * at(fx + 2, fy - 1 + j, c)));
          out[o + c] = clip255(round(cy[0] * r[0] + cy[1] * r[1] + cy[2] * r[2] + cy[3] * r[3]));
        }
      }
      ix += ia;
    }
  }
  return { data: out, width: outW, height: outH, channels: b };
}

/** sharp's resize(w, h, { fit: 'fill', kernel }) of a uint8 image (any band count). */
export function resizeFill(img: Pixels, w: number, h: number, kernel: ResizeKernel = 'lanczos3'): Pixels {
  return resizeShrink(img, img.width / w, img.height / h, kernel);
}

/** sharp's resize(1600, 1600, { fit: 'inside', withoutEnlargement: true }) (decodeFullImage's bound). */
export function resizeInside(img: Pixels, maxW: number, maxH: number, kernel: ResizeKernel = 'lanczos3'): Pixels {
  const s = Math.max(1, Math.max(img.width / maxW, img.height / maxH));
  return resizeShrink(img, Math.min(s, img.width), Math.min(s, img.height), kernel);
}

/** vips_resize(1 / hshrink, vscale: 1 / vshrink), as sharp calls it. */
export function resizeShrink(img: Pixels, hshrink: number, vshrink: number, kernel: ResizeKernel = 'lanczos3'): Pixels {
  if (hshrink === 1 && vshrink === 1) return { ...img, data: img.data.slice() };
  const hscale = 1 / hshrink;
  const vscale = 1 / vshrink;
  let out = img;
  if (vscale < 1) out = reducev(out, 1 / vscale, kernel);
  if (hscale < 1) out = reduceh(out, 1 / hscale, kernel);
  if (hscale > 1 || vscale > 1) out = affineUp(out, Math.max(hscale, 1), Math.max(vscale, 1), kernel === 'linear' ? 'bilinear' : 'bicubic');
  return out;
}

