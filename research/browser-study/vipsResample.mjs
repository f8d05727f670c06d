// A plain-JS (no DOM, no Node API) re-implementation of what sharp 0.35 / libvips 8.18 does for
//   sharp(raw).resize(w, h, { fit: 'fill', kernel })          (kernel 'linear' or 'lanczos3', 'cubic', ...)
//   sharp(raw).grayscale()                                     (sRGB -> scRGB -> B_W, before the resize)
// on uint8 interleaved pixels. Written from libvips/libvips v8.18.4:
//   resample/resize.c (vips_resize: reducev then reduceh, gap 2.0, then affine for upsizing),
//   resample/reducev.cpp, reduceh.cpp (+ _hwy: same integer maths), shrinkh.c, shrinkv.c (+ _hwy),
//   resample/templates.h (filters, calculate_coefficients), interpolate.c (bilinear), bicubic.cpp,
//   resample/affine.c, transform.c, colour/LabQ2sRGB.c (8-bit sRGB LUTs), colour/scRGB2BW.c
// and lovell/sharp src/pipeline.cc (greyscale before resize, resize(1/hshrink, vscale 1/vshrink)),
// src/common.cc (ResolveShrink).
//
// Image: { data: Uint8Array, width, height, channels }.

const TRANSFORM_SCALE = 64; // VIPS_TRANSFORM_SCALE
let reducevStrip = 16; // vips__fatstrip_height: best fit to sharp (1498/1500 random cases bit-exact, see stripFit.mjs)
export function setReducevStrip(n) { reducevStrip = n; }
const INTERPOLATE_SHIFT = 12;
const INTERPOLATE_SCALE = 1 << INTERPOLATE_SHIFT;

/** C rint(): round half to even. */
function rint(x) {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
/** VIPS_ROUND_UINT */
const roundUint = (x) => Math.floor(x + 0.5);
const clip255 = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);

function filterFn(kernel) {
  switch (kernel) {
    case 'linear':
      return (x) => {
        x = Math.abs(x);
        return x < 1 ? 1 - x : 0;
      };
    case 'cubic':
      return (x) => cubicFilter(x, 0, 0.5);
    case 'mitchell':
      return (x) => cubicFilter(x, 1 / 3, 1 / 3);
    case 'lanczos2':
      return (x) => (x >= -2 && x <= 2 ? sinc(x) * sinc(x / 2) : 0);
    case 'lanczos3':
      return (x) => (x >= -3 && x <= 3 ? sinc(x) * sinc(x / 3) : 0);
    default:
      throw new Error(`kernel ${kernel} not implemented`);
  }
}
function sinc(x) {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}
function cubicFilter(x, B, C) {
  const ax = Math.abs(x);
  const ax2 = ax * ax;
  const ax3 = ax2 * ax;
  if (ax <= 1) return ((12 - 9 * B - 6 * C) * ax3 + (-18 + 12 * B + 6 * C) * ax2 + (6 - 2 * B)) / 6;
  if (ax <= 2) return ((-B - 6 * C) * ax3 + (6 * B + 30 * C) * ax2 + (-12 * B - 48 * C) * ax + (8 * B + 24 * C)) / 6;
  return 0;
}
function points(kernel, shrink) {
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
      throw new Error(`kernel ${kernel} not implemented`);
  }
}

/** The 65 fixed-point masks (short, 4.12) of reduceh/reducev. */
function masks(kernel, n, shrink) {
  const f = filterFn(kernel);
  const out = [];
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
function shrinkv(img, v) {
  const { data, width, height, channels } = img;
  const outH = Math.ceil(height / v);
  const ne = width * channels;
  const out = new Uint8Array(outH * ne);
  const amend = v >> 1;
  const mult = Math.floor(2 ** 32 / (256 * v));
  const sum = new Uint32Array(ne);
  for (let y = 0; y < outH; y++) {
    sum.fill(0);
    for (let k = 0; k < v; k++) {
      const sy = Math.min(height - 1, y * v + k);
      const row = sy * ne;
      for (let i = 0; i < ne; i++) sum[i] += data[row + i];
    }
    const o = y * ne;
    for (let i = 0; i < ne; i++) out[o + i] = Math.floor(((sum[i] + amend) * mult) / 16777216);
  }
  return { data: out, width, height: outH, channels };
}

/** vips_shrinkh(ceil: TRUE), uchar. */
function shrinkh(img, h) {
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
    for (let x = 0; x < outW; x++) {
      const t0 = x * h;
      for (let c = 0; c < b; c++) {
        let s = amend;
        for (let k = 0; k < h; k++) s += data[row + taps[t0 + k] + c];
        out[o++] = Math.floor((s * mult) / 16777216);
      }
    }
  }
  return { data: out, width: outW, height, channels: b };
}

/** vips_reducev(vshrink, kernel, gap). */
function reducev(img, vshrink, kernel, gap = 2, strip = reducevStrip) {
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
  const acc = new Int32Array(ne);
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
    for (; i + 4 <= n; i += 4) {
      // Four taps per sweep over the row: a quarter of the passes over acc.
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
      out[o + z] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    Y += residual;
  }
  return { data: out, width, height, channels };
}

/** vips_reduceh(hshrink, kernel, gap). */
function reduceh(img, hshrink, kernel, gap = 2) {
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
  const maskOf = new Array(width);
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
  for (let y = 0; y < height; y++) {
    const row = y * inW * b;
    let o = y * width * b;
    for (let x = 0; x < width; x++) {
      const t0 = x * n;
      for (let z = 0; z < b; z++) {
        let sum = INTERPOLATE_SCALE >> 1;
        for (let i = 0; i < n; i++) sum += coef[t0 + i] * data[row + taps[t0 + i] + z];
        const v = sum >> INTERPOLATE_SHIFT;
        out[o++] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return { data: out, width, height, channels: b };
}

/** Catmull-Rom coefficient tables of vips' bicubic interpolator (int, 4.12). */
let bicubicTable;
function bicubicMasks() {
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
function affineUp(img, hscale, vscale, interp) {
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
  const at = (ex, ey, c) => data[(Math.min(H - 1, Math.max(0, ey - border)) * W + Math.min(W - 1, Math.max(0, ex - border))) * b + c];
  const cub = interp === 'bicubic' ? bicubicMasks() : null;
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
        const round = (v) => (v + (INTERPOLATE_SCALE >> 1)) >> INTERPOLATE_SHIFT;
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
export function resizeFill(img, w, h, kernel = 'lanczos3') {
  return resizeShrink(img, img.width / w, img.height / h, kernel);
}

/** sharp's resize(1600, 1600, { fit: 'inside', withoutEnlargement: true }) (decodeFullImage's bound). */
export function resizeInside(img, maxW, maxH, kernel = 'lanczos3') {
  const s = Math.max(1, Math.max(img.width / maxW, img.height / maxH));
  return resizeShrink(img, Math.min(s, img.width), Math.min(s, img.height), kernel);
}

/** vips_resize(1 / hshrink, vscale: 1 / vshrink), as sharp calls it. */
export function resizeShrink(img, hshrink, vshrink, kernel = 'lanczos3') {
  if (hshrink === 1 && vshrink === 1) return { ...img, data: img.data.slice() };
  const hscale = 1 / hshrink;
  const vscale = 1 / vshrink;
  let out = img;
  if (vscale < 1) out = reducev(out, 1 / vscale, kernel);
  if (hscale < 1) out = reduceh(out, 1 / hscale, kernel);
  if (hscale > 1 || vscale > 1) out = affineUp(out, Math.max(hscale, 1), Math.max(vscale, 1), kernel === 'linear' ? 'bilinear' : 'bicubic');
  return out;
}

// ---------------------------------------------------------------- colour

let v2Y; // 8-bit sRGB -> linear, float32
let Y2v; // linear (256 steps) -> 8-bit sRGB, int, 257 entries
function tables() {
  if (v2Y) return;
  const f32 = Math.fround;
  v2Y = new Float32Array(256);
  Y2v = new Int32Array(257);
  for (let i = 0; i < 256; i++) {
    const f = f32(i / 255);
    let v;
    if (f <= 0.0031308) v = f32(f32(12.92) * f);
    else v = f32(f32(f32(1.055) * f32(Math.pow(f, f32(f32(1) / f32(2.4))))) - f32(0.055));
    Y2v[i] = rint(f32(255 * v));
  }
  Y2v[256] = Y2v[255];
  for (let i = 0; i < 256; i++) {
    const f = f32(i / 255);
    v2Y[i] = f <= 0.04045 ? f32(f / f32(12.92)) : f32(Math.pow(f32(f32(f + f32(0.055)) / f32(1 + f32(0.055))), 2.4));
  }
}

/** libvips' sRGB -> B_W for uchar (what sharp's grayscale() does): linear-light BT.709 luminance, re-encoded. */
export function srgbToGray(img) {
  if (img.channels !== 3) throw new Error('expected RGB');
  tables();
  const f32 = Math.fround;
  const { data, width, height } = img;
  const out = new Uint8Array(width * height);
  const kr = f32(0.2126), kg = f32(0.7152), kb = f32(0.0722);
  for (let i = 0, p = 0; i < out.length; i++, p += 3) {
    const Y = f32(f32(f32(kr * v2Y[data[p]]) + f32(kg * v2Y[data[p + 1]])) + f32(kb * v2Y[data[p + 2]]));
    let Yf = f32(Y * 255);
    Yf = Yf < 0 ? 0 : Yf > 255 ? 255 : Yf;
    const Yi = Math.trunc(Yf);
    const v = f32(Y2v[Yi] + f32(f32(Y2v[Yi + 1] - Y2v[Yi]) * f32(Yf - Yi)));
    out[i] = rint(v);
  }
  return { data: out, width, height, channels: 1 };
}

/** The tail of decodeImage/rawToModelInput: RGB crop -> model input (sharp order: grayscale first, then resize). */
export function toModelInput(rgb, spec) {
  const src = spec.channels === 1 ? srgbToGray(rgb) : rgb;
  return resizeFill(src, spec.width, spec.height, spec.kernel);
}
