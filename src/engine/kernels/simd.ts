import type { WasmBackend } from './wasmBackend.js';

/**
 * A few WebAssembly SIMD routines that run directly on the wasm backend's heap.
 *
 * Why: (1) the memory-bound passes of a training step (routing max-pool gradients, summing bias
 * gradients) run at 2-5 ns per element as JS loops over typed arrays, 5-10x slower than 128-bit
 * SIMD; (2) XNNPACK, built for inference, repacks its weight operand on every call, which a training
 * step pays every time because the weights (or dy, for filter gradients) are new each step. A plain
 * 4x8 register-tiled GEMM that reads operands in place runs at ~40 GFLOP/s here (~50 with fused
 * multiply-add) against ~30 for XNNPACK on the same products.
 *
 * Why hand-assembled bytes: there is no C/wasm toolchain in the build, and the routines need only a
 * few dozen opcodes. The module imports the backend's own WebAssembly.Memory, so it reads and writes
 * tensors in place with no copies. Every caller has a fallback (XNNPACK or plain JS) used when SIMD
 * is unavailable or disabled, and the tests run both against the cpu backend.
 */
export interface SimdRoutines {
  /**
   * dx for a 2x2, stride-2, unpadded max pool, NHWC, C % 4 == 0, all pointers in bytes. Writes every
   * dx element inside the 2*OH x 2*OW window area (the caller zeroes a trailing odd row/column).
   */
  maxPoolGrad2x2(x: number, dy: number, dx: number, N: number, H: number, W: number, C: number, OH: number, OW: number): void;
  /** acc[c] += sum over rows of x[r, c] in float64; cols % 4 == 0; acc is float64 [cols]. */
  columnSumsF64(x: number, rows: number, cols: number, acc: number): void;
  /**
   * C[r, :] += sum over p < P of A_r[p] * B[p, :] for r < 4*rowTiles, where A_r starts at the byte
   * address rows[r] (an i32 table) and B is row-major with ldb bytes per row. C is row-major
   * [4*rowTiles, 8*colTiles]. Work is blocked over p in runs of `block` so the B panel stays in cache.
   * With accumulate = 0, C's prior contents are ignored (C = instead of C +=), so callers need not zero it.
   */
  gemmRowsTimesB(rows: number, rowTiles: number, B: number, ldb: number, colTiles: number, P: number, C: number, block: number, accumulate: number): void;
  /**
   * gemmRowsTimesB with p walking `segCount` runs of `segLen` pixels: run s starts segs[s] bytes into
   * every patch row (an i32 table), while B's rows are the runs laid end to end. This lets a filter
   * gradient read dy as it lies and skip the padding columns of the input grid. Blocked by
   * `segsPerBlock` runs; accumulate as in gemmRowsTimesB.
   */
  gemmSegmentsTimesB(
    rows: number, rowTiles: number, B: number, ldb: number, colTiles: number, segs: number, segCount: number, segLen: number,
    C: number, segsPerBlock: number, accumulate: number,
  ): void;
  /**
   * Stride-1 "valid" NHWC convolution as an implicit GEMM (no im2col): out[n,oh,ow,:] =
   * sum over (kh, kw, ci) of x[n, oh + kh*dh, ow + kw*dw, ci] * w[kh, kw, ci, :]. The caller pads x.
   * Taps are walked as KH rows (rowStep bytes apart) of S contiguous segments of segLen floats
   * (segStride bytes apart): S = 1, segLen = KW*Ci when dw == 1. Needs Co % 8 == 0 and OW >= 4.
   * Epilogue, applied to the accumulators before they are stored (so it costs no extra pass over the
   * output): bias != 0 adds the float32 vector at that address ([Co]); relu != 0 then clamps at 0.
   */
  convValidS1(
    x: number, H: number, W: number, Ci: number, w: number, Co: number, KH: number, S: number, segLen: number,
    segStride: number, rowStep: number, out: number, N: number, OH: number, OW: number, colTiles: number,
    bias: number, relu: number,
  ): void;
}

const cache = new WeakMap<object, SimdRoutines | null>();
/** Node's environment; a page has none (and no process), which reads as no override. */
const env: Record<string, string | undefined> = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};

let enabled = env.HAPPYSAD_NO_SIMD !== '1';

/**
 * How to turn on relaxed SIMD where the engine has it behind a flag (Node 20: v8's
 * setFlagsFromString, which only Node has; engine/ sets it). Browsers that support it need no flag.
 */
let enableRelaxedSimd: (() => void) | undefined;

export function setRelaxedSimdEnabler(enable: () => void): void {
  enableRelaxedSimd = enable;
}

/**
 * Turns the SIMD routines off (every kernel then takes its XNNPACK / plain-JS fallback) or back on.
 * For tests and for bisecting a suspected SIMD problem; HAPPYSAD_NO_SIMD=1 does the same at startup.
 */
export function setSimdEnabled(on: boolean): void {
  enabled = on;
}

let flavour: 'fma' | 'plain' | 'none' = 'none';

/** Which module the last instantiation produced: with fused multiply-add, without, or none at all. */
export function simdFlavour(): 'fma' | 'plain' | 'none' {
  return flavour;
}

/** The routines bound to this backend's memory, or null where wasm SIMD is unavailable or disabled. */
export function simdFor(backend: WasmBackend): SimdRoutines | null {
  if (!enabled) return null;
  const key = backend.wasm as object;
  if (!cache.has(key)) cache.set(key, instantiate(backend));
  return cache.get(key)!;
}

function instantiate(backend: WasmBackend): SimdRoutines | null {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  try {
    // Fused multiply-add (relaxed SIMD) makes the GEMM ~25% faster. It is standard from Node 22
    // (V8 11.4); Node 20 has it behind --experimental-wasm-relaxed-simd, which V8 reads when it
    // validates a module, so setting it here, before our module is compiled, is enough. Where the
    // engine still refuses it we assemble the plain module. HAPPYSAD_FMA=0 opts out (bit-for-bit
    // comparisons with XNNPACK).
    const fma = env.HAPPYSAD_FMA !== '0';
    let bytes = assemble(fma);
    if (fma && !WebAssembly.validate(bytes) && enableRelaxedSimd) {
      enableRelaxedSimd();
      bytes = assemble(true);
    }
    if (!WebAssembly.validate(bytes)) bytes = assemble(false);
    if (!WebAssembly.validate(bytes)) return null;
    flavour = fusedMultiplyAdd ? 'fma' : 'plain';
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return instance.exports as unknown as SimdRoutines;
  } catch {
    return null;
  }
}

// ---- a minimal assembler: just the opcodes the routines use ----

const I32 = 0x7f;
const V128 = 0x7b;
const VOID = 0x40;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const op = {
  block: [0x02, VOID],
  loop: [0x03, VOID],
  end: [0x0b],
  if: [0x04, VOID],
  else: [0x05],
  or32: [0x72],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  geU: [0x4f],
  ltU: [0x49],
  gtS: [0x4a],
  select: [0x1b],
  i32Load: (offset = 0) => [0x28, 0x02, ...uleb(offset)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  // SIMD, 0xfd-prefixed; memarg = align log2 hint, offset
  load: (offset = 0) => [0xfd, ...uleb(0x00), 0x00, ...uleb(offset)],
  store: (offset = 0) => [0xfd, ...uleb(0x0b), 0x00, ...uleb(offset)],
  loadSplat32: (offset = 0) => [0xfd, ...uleb(0x09), 0x00, ...uleb(offset)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  v128Zero: [0xfd, ...uleb(0x0c), ...Array(16).fill(0)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f32x4Max: [0xfd, ...uleb(0xe9)],
  relaxedMadd: [0xfd, ...uleb(0x105)],
  shuffleHighToLow: [0xfd, ...uleb(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15],
  f32x4Gt: [0xfd, ...uleb(0x44)],
  and: [0xfd, ...uleb(0x4e)],
  andNot: [0xfd, ...uleb(0x4f)],
  or: [0xfd, ...uleb(0x50)],
  bitselect: [0xfd, ...uleb(0x52)],
  promoteLow: [0xfd, ...uleb(0x5f)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
};

/** `for (; i < n; i += step) body` over unsigned locals i and n; `step` is the code that pushes the step. */
function forLoop(i: number, n: number, step: number[], body: number[]): number[] {
  return [
    ...op.block,
    ...op.get(i), ...op.get(n), ...op.geU, ...op.brIf(0),
    ...op.loop,
    ...body,
    ...op.get(i), ...step, ...op.add, ...op.tee(i), ...op.get(n), ...op.geU, ...op.brIf(1),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

function maxPoolGrad2x2Body(): { locals: number[]; code: number[] } {
  // params: 0 x, 1 dy, 2 dx, 3 N, 4 H, 5 W, 6 C, 7 OH, 8 OW
  const [x, dy, dx, N, H, W, C, OH, OW] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // i32 locals
  const [n, oh, ow, o, rowBytes, pixBytes, a, g, delta] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  // v128 locals
  const [v1, v2, v3, m, k1, k2, k3, gv] = [18, 19, 20, 21, 22, 23, 24, 25];
  const loadAt = (base: number, extra: number | null) => [
    ...op.get(base), ...op.get(o), ...op.add, ...(extra === null ? [] : [...op.get(extra), ...op.add]), ...op.load(),
  ];
  const storeOut = (extraA: number | null, extraB: number | null, value: number[]) => [
    ...op.get(a), ...op.get(o), ...op.add, ...op.get(delta), ...op.add,
    ...(extraA === null ? [] : [...op.get(extraA), ...op.add]),
    ...(extraB === null ? [] : [...op.get(extraB), ...op.add]),
    ...value, ...op.store(),
  ];
  const channelBody = [
    // v1 = top-right, v2 = bottom-left, v3 = bottom-right; m = running max starting at top-left
    ...loadAt(a, pixBytes), ...op.set(v1),
    ...loadAt(a, rowBytes), ...op.set(v2),
    ...op.get(a), ...op.get(o), ...op.add, ...op.get(rowBytes), ...op.add, ...op.get(pixBytes), ...op.add, ...op.load(), ...op.set(v3),
    ...loadAt(a, null), ...op.set(m),
    // strict '>' so ties keep the earlier position (first max in row-major order)
    ...op.get(v1), ...op.get(m), ...op.f32x4Gt, ...op.set(k1),
    ...op.get(v1), ...op.get(m), ...op.get(k1), ...op.bitselect, ...op.set(m),
    ...op.get(v2), ...op.get(m), ...op.f32x4Gt, ...op.set(k2),
    ...op.get(v2), ...op.get(m), ...op.get(k2), ...op.bitselect, ...op.set(m),
    ...op.get(v3), ...op.get(m), ...op.f32x4Gt, ...op.set(k3),
    ...op.get(g), ...op.get(o), ...op.add, ...op.load(), ...op.set(gv),
    // out0 = g & ~(k1|k2|k3); out1 = g & k1 & ~(k2|k3); out2 = g & k2 & ~k3; out3 = g & k3
    ...storeOut(null, null, [...op.get(gv), ...op.get(k1), ...op.get(k2), ...op.or, ...op.get(k3), ...op.or, ...op.andNot]),
    ...storeOut(pixBytes, null, [...op.get(gv), ...op.get(k2), ...op.get(k3), ...op.or, ...op.andNot, ...op.get(k1), ...op.and]),
    ...storeOut(rowBytes, null, [...op.get(gv), ...op.get(k3), ...op.andNot, ...op.get(k2), ...op.and]),
    ...storeOut(rowBytes, pixBytes, [...op.get(gv), ...op.get(k3), ...op.and]),
  ];
  const code = [
    ...op.get(W), ...op.get(C), ...op.mul, ...op.i32(4), ...op.mul, ...op.set(rowBytes),
    ...op.get(C), ...op.i32(4), ...op.mul, ...op.set(pixBytes),
    ...op.get(dx), ...op.get(x), ...op.sub, ...op.set(delta),
    ...op.get(dy), ...op.set(g),
    ...op.i32(0), ...op.set(n),
    ...forLoop(n, N, op.i32(1), [
      ...op.i32(0), ...op.set(oh),
      ...forLoop(oh, OH, op.i32(1), [
        // a = x + (n*H + 2*oh) * rowBytes
        ...op.get(x), ...op.get(n), ...op.get(H), ...op.mul, ...op.get(oh), ...op.i32(2), ...op.mul, ...op.add,
        ...op.get(rowBytes), ...op.mul, ...op.add, ...op.set(a),
        ...op.i32(0), ...op.set(ow),
        ...forLoop(ow, OW, op.i32(1), [
          ...op.i32(0), ...op.set(o),
          ...forLoop(o, pixBytes, op.i32(16), channelBody),
          ...op.get(a), ...op.get(pixBytes), ...op.i32(2), ...op.mul, ...op.add, ...op.set(a),
          ...op.get(g), ...op.get(pixBytes), ...op.add, ...op.set(g),
        ]),
      ]),
    ]),
  ];
  return { locals: [9, I32, 8, V128], code };
}

function columnSumsBody(): { locals: number[]; code: number[] } {
  // params: 0 x, 1 rows, 2 cols, 3 acc
  const [x, rows, cols, acc] = [0, 1, 2, 3];
  const [r, o, p, colBytes, j] = [4, 5, 6, 7, 8];
  const [v] = [9];
  const accumulate = (offset: number, value: number[]) => [
    ...op.get(acc), ...op.get(j), ...op.add,
    ...op.get(acc), ...op.get(j), ...op.add, ...op.load(offset),
    ...value, ...op.promoteLow, ...op.f64x2Add,
    ...op.store(offset),
  ];
  const code = [
    ...op.get(cols), ...op.i32(4), ...op.mul, ...op.set(colBytes),
    ...op.get(x), ...op.set(p),
    ...op.i32(0), ...op.set(r),
    ...forLoop(r, rows, op.i32(1), [
      ...op.i32(0), ...op.set(o),
      ...op.i32(0), ...op.set(j),
      ...forLoop(o, colBytes, op.i32(16), [
        ...op.get(p), ...op.get(o), ...op.add, ...op.load(), ...op.set(v),
        ...accumulate(0, op.get(v)),
        ...accumulate(16, [...op.get(v), ...op.get(v), ...op.shuffleHighToLow]),
        ...op.get(j), ...op.i32(32), ...op.add, ...op.set(j),
      ]),
      ...op.get(p), ...op.get(colBytes), ...op.add, ...op.set(p),
    ]),
  ];
  return { locals: [5, I32, 1, V128], code };
}

function gemmRowsTimesBBody(): { locals: number[]; code: number[] } {
  // params
  const [rows, rowTiles, B, ldb, colTiles, P, C, block, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // i32 locals
  const [p0, pe, rt, ct, a0, a1, a2, a3, q, qe, pB, cPtr, ldc, blockBytes] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22];
  // v128 locals: 8 accumulators (4 rows x 2 halves), two B halves, one splat
  const acc = [23, 24, 25, 26, 27, 28, 29, 30];
  const [b0, b1, sp] = [31, 32, 33];
  const aRows = [a0, a1, a2, a3];
  const cAddr = (i: number) => [...op.get(cPtr), ...(i === 0 ? [] : [...op.get(ldc), ...op.i32(i), ...op.mul, ...op.add])];
  const inner = mac4x8(aRows, q, pB, ldb, b0, b1, sp, acc);
  const colTile = [
    // cPtr = C + (rt*4*ldc) + ct*32
    ...op.get(C), ...op.get(rt), ...op.i32(4), ...op.mul, ...op.get(ldc), ...op.mul, ...op.add,
    ...op.get(ct), ...op.i32(32), ...op.mul, ...op.add, ...op.set(cPtr),
    // Start from C unless this is the first block of a non-accumulating call.
    ...op.get(p0), ...op.get(accumulate), ...op.or32,
    ...op.if,
    ...[0, 1, 2, 3].flatMap((i) => [...cAddr(i), ...op.load(0), ...op.set(acc[2 * i]), ...cAddr(i), ...op.load(16), ...op.set(acc[2 * i + 1])]),
    ...op.else,
    ...acc.flatMap((v) => [...op.v128Zero, ...op.set(v)]),
    ...op.end,
    // pB = B + p0*ldb + ct*32
    ...op.get(B), ...op.get(p0), ...op.get(ldb), ...op.mul, ...op.add, ...op.get(ct), ...op.i32(32), ...op.mul, ...op.add, ...op.set(pB),
    ...op.i32(0), ...op.set(q),
    ...forLoop(q, qe, op.i32(4), inner),
    ...[0, 1, 2, 3].flatMap((i) => [...cAddr(i), ...op.get(acc[2 * i]), ...op.store(0), ...cAddr(i), ...op.get(acc[2 * i + 1]), ...op.store(16)]),
  ];
  const rowTile = [
    // a_i = rows[4*rt + i] + p0*4
    ...aRows.flatMap((a, i) => [
      ...op.get(rows), ...op.get(rt), ...op.i32(16), ...op.mul, ...op.add, ...op.i32Load(4 * i),
      ...op.get(p0), ...op.i32(4), ...op.mul, ...op.add, ...op.set(a),
    ]),
    ...op.i32(0), ...op.set(ct),
    ...forLoop(ct, colTiles, op.i32(1), colTile),
  ];
  const code = [
    ...op.get(colTiles), ...op.i32(32), ...op.mul, ...op.set(ldc),
    ...op.get(block), ...op.i32(4), ...op.mul, ...op.set(blockBytes),
    ...op.i32(0), ...op.set(p0),
    ...forLoop(p0, P, op.get(block), [
      // pe = min(p0 + block, P); qe = (pe - p0) * 4
      ...op.get(p0), ...op.get(block), ...op.add, ...op.get(P),
      ...op.get(p0), ...op.get(block), ...op.add, ...op.get(P), ...op.ltU, ...op.select, ...op.set(pe),
      ...op.get(pe), ...op.get(p0), ...op.sub, ...op.i32(4), ...op.mul, ...op.set(qe),
      ...op.i32(0), ...op.set(rt),
      ...forLoop(rt, rowTiles, op.i32(1), rowTile),
    ]),
  ];
  return { locals: [14, I32, 11, V128], code };
}

function gemmSegmentsTimesBBody(): { locals: number[]; code: number[] } {
  const [rows, rowTiles, B, ldb, colTiles, segs, segCount, segLen, C, segsPerBlock, accumulate] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [s0, se, rt, ct, s, q, qe, pB, cPtr, ldc, off] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
  const bases = [22, 23, 24, 25];
  const aRows = [26, 27, 28, 29];
  const acc = [30, 31, 32, 33, 34, 35, 36, 37];
  const [b0, b1, sp] = [38, 39, 40];
  const cAddr = (i: number) => [...op.get(cPtr), ...(i === 0 ? [] : [...op.get(ldc), ...op.i32(i), ...op.mul, ...op.add])];
  const segment = [
    // a_i = base_i + segs[s]: where this run of pixels starts in each patch row
    ...op.get(segs), ...op.get(s), ...op.i32(4), ...op.mul, ...op.add, ...op.i32Load(0), ...op.set(off),
    ...aRows.flatMap((a, i) => [...op.get(bases[i]), ...op.get(off), ...op.add, ...op.set(a)]),
    ...op.i32(0), ...op.set(q),
    // pB runs on through consecutive segments: B's rows are the runs laid end to end
    ...forLoop(q, qe, op.i32(4), mac4x8(aRows, q, pB, ldb, b0, b1, sp, acc)),
  ];
  const colTile = [
    ...op.get(C), ...op.get(rt), ...op.i32(4), ...op.mul, ...op.get(ldc), ...op.mul, ...op.add,
    ...op.get(ct), ...op.i32(32), ...op.mul, ...op.add, ...op.set(cPtr),
    ...op.get(s0), ...op.get(accumulate), ...op.or32,
    ...op.if,
    ...[0, 1, 2, 3].flatMap((i) => [...cAddr(i), ...op.load(0), ...op.set(acc[2 * i]), ...cAddr(i), ...op.load(16), ...op.set(acc[2 * i + 1])]),
    ...op.else,
    ...acc.flatMap((v) => [...op.v128Zero, ...op.set(v)]),
    ...op.end,
    // pB = B + s0*segLen*ldb + ct*32
    ...op.get(B), ...op.get(s0), ...op.get(segLen), ...op.mul, ...op.get(ldb), ...op.mul, ...op.add,
    ...op.get(ct), ...op.i32(32), ...op.mul, ...op.add, ...op.set(pB),
    ...op.get(s0), ...op.set(s),
    ...forLoop(s, se, op.i32(1), segment),
    ...[0, 1, 2, 3].flatMap((i) => [...cAddr(i), ...op.get(acc[2 * i]), ...op.store(0), ...cAddr(i), ...op.get(acc[2 * i + 1]), ...op.store(16)]),
  ];
  const rowTile = [
    ...bases.flatMap((b, i) => [...op.get(rows), ...op.get(rt), ...op.i32(16), ...op.mul, ...op.add, ...op.i32Load(4 * i), ...op.set(b)]),
    ...op.i32(0), ...op.set(ct),
    ...forLoop(ct, colTiles, op.i32(1), colTile),
  ];
  const code = [
    ...op.get(colTiles), ...op.i32(32), ...op.mul, ...op.set(ldc),
    ...op.get(segLen), ...op.i32(4), ...op.mul, ...op.set(qe),
    ...op.i32(0), ...op.set(s0),
    ...forLoop(s0, segCount, op.get(segsPerBlock), [
      // se = min(s0 + segsPerBlock, segCount)
      ...op.get(s0), ...op.get(segsPerBlock), ...op.add, ...op.get(segCount),
      ...op.get(s0), ...op.get(segsPerBlock), ...op.add, ...op.get(segCount), ...op.ltU, ...op.select, ...op.set(se),
      ...op.i32(0), ...op.set(rt),
      ...forLoop(rt, rowTiles, op.i32(1), rowTile),
    ]),
  ];
  return { locals: [19, I32, 11, V128], code };
}

/** Whether the module being assembled may use relaxed-SIMD fused multiply-add. */
let fusedMultiplyAdd = false;

/** acc += a * b on v128 locals: one relaxed_madd where allowed, else a multiply and an add. */
function madd(acc: number, a: number, b: number): number[] {
  return fusedMultiplyAdd
    ? [...op.get(a), ...op.get(b), ...op.get(acc), ...op.relaxedMadd, ...op.set(acc)]
    : [...op.get(acc), ...op.get(a), ...op.get(b), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(acc)];
}

/** acc[2i], acc[2i+1] += splat(A_i[q]) * (b0, b1) for the 4 rows, B row at pB; then pB += ldb. */
function mac4x8(aRows: number[], q: number, pB: number, ldb: number, b0: number, b1: number, sp: number, acc: number[]): number[] {
  return [
    ...op.get(pB), ...op.load(0), ...op.set(b0),
    ...op.get(pB), ...op.load(16), ...op.set(b1),
    ...aRows.flatMap((a, i) => [
      ...op.get(a), ...op.get(q), ...op.add, ...op.loadSplat32(), ...op.set(sp),
      ...madd(acc[2 * i], sp, b0),
      ...madd(acc[2 * i + 1], sp, b1),
    ]),
    ...op.get(pB), ...op.get(ldb), ...op.add, ...op.set(pB),
  ];
}

function convValidS1Body(): { locals: number[]; code: number[] } {
  const [x, H, W, Ci, w, Co, KH, S, segLen, segStride, rowStep, out, N, OH, OW, colTiles, bias, relu] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const [pixBytes, outPixBytes, segBytes, n, oh, ow0, owS, ct, kh, sg, q, xRow, outRow, aRow, aSeg, pB, a0, a1, a2, a3, ldb, cPtr] =
    [18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39];
  const acc = [40, 41, 42, 43, 44, 45, 46, 47];
  const [b0, b1, sp] = [48, 49, 50];
  const aRows = [a0, a1, a2, a3];
  const segment = [
    // a_i = aSeg + i * pixBytes
    ...aRows.flatMap((a, i) => [...op.get(aSeg), ...(i ? [...op.get(pixBytes), ...op.i32(i), ...op.mul, ...op.add] : []), ...op.set(a)]),
    ...op.i32(0), ...op.set(q),
    ...forLoop(q, segBytes, op.i32(4), mac4x8(aRows, q, pB, ldb, b0, b1, sp, acc)),
    ...op.get(aSeg), ...op.get(segStride), ...op.add, ...op.set(aSeg),
  ];
  const colTile = [
    ...acc.flatMap((v) => [...op.v128Zero, ...op.set(v)]),
    ...op.get(w), ...op.get(ct), ...op.i32(32), ...op.mul, ...op.add, ...op.set(pB),
    // aRow = xRow + owS * pixBytes
    ...op.get(xRow), ...op.get(owS), ...op.get(pixBytes), ...op.mul, ...op.add, ...op.set(aRow),
    ...op.i32(0), ...op.set(kh),
    ...forLoop(kh, KH, op.i32(1), [
      ...op.get(aRow), ...op.set(aSeg),
      ...op.i32(0), ...op.set(sg),
      ...forLoop(sg, S, op.i32(1), segment),
      ...op.get(aRow), ...op.get(rowStep), ...op.add, ...op.set(aRow),
    ]),
    // Epilogue: + bias[ct*8 .. ct*8+8] (b0, b1 are free again), then max(., 0).
    ...op.get(bias), ...op.if,
    ...op.get(bias), ...op.get(ct), ...op.i32(32), ...op.mul, ...op.add, ...op.load(0), ...op.set(b0),
    ...op.get(bias), ...op.get(ct), ...op.i32(32), ...op.mul, ...op.add, ...op.load(16), ...op.set(b1),
    ...acc.flatMap((v, k) => [...op.get(v), ...op.get(k % 2 ? b1 : b0), ...op.f32x4Add, ...op.set(v)]),
    ...op.end,
    ...op.get(relu), ...op.if,
    ...op.v128Zero, ...op.set(sp),
    ...acc.flatMap((v) => [...op.get(v), ...op.get(sp), ...op.f32x4Max, ...op.set(v)]),
    ...op.end,
    // cPtr = outRow + owS * outPixBytes + ct * 32; row i at + i * outPixBytes
    ...op.get(outRow), ...op.get(owS), ...op.get(outPixBytes), ...op.mul, ...op.add, ...op.get(ct), ...op.i32(32), ...op.mul, ...op.add, ...op.set(cPtr),
    ...[0, 1, 2, 3].flatMap((i) => {
      const addr = [...op.get(cPtr), ...(i ? [...op.get(outPixBytes), ...op.i32(i), ...op.mul, ...op.add] : [])];
      return [...addr, ...op.get(acc[2 * i]), ...op.store(0), ...addr, ...op.get(acc[2 * i + 1]), ...op.store(16)];
    }),
  ];
  const code = [
    ...op.get(Ci), ...op.i32(4), ...op.mul, ...op.set(pixBytes),
    ...op.get(Co), ...op.i32(4), ...op.mul, ...op.tee(outPixBytes), ...op.set(ldb),
    ...op.get(segLen), ...op.i32(4), ...op.mul, ...op.set(segBytes),
    ...op.i32(0), ...op.set(n),
    ...forLoop(n, N, op.i32(1), [
      ...op.i32(0), ...op.set(oh),
      ...forLoop(oh, OH, op.i32(1), [
        // xRow = x + ((n*H + oh) * W) * pixBytes; outRow = out + ((n*OH + oh) * OW) * outPixBytes
        ...op.get(x), ...op.get(n), ...op.get(H), ...op.mul, ...op.get(oh), ...op.add, ...op.get(W), ...op.mul, ...op.get(pixBytes), ...op.mul, ...op.add, ...op.set(xRow),
        ...op.get(out), ...op.get(n), ...op.get(OH), ...op.mul, ...op.get(oh), ...op.add, ...op.get(OW), ...op.mul, ...op.get(outPixBytes), ...op.mul, ...op.add, ...op.set(outRow),
        ...op.i32(0), ...op.set(ow0),
        ...forLoop(ow0, OW, op.i32(4), [
          // The last tile slides back to end at OW; it recomputes a few pixels with identical results.
          ...op.get(OW), ...op.i32(4), ...op.sub, ...op.get(ow0),
          ...op.get(ow0), ...op.get(OW), ...op.i32(4), ...op.sub, ...op.gtS, ...op.select, ...op.set(owS),
          ...op.i32(0), ...op.set(ct),
          ...forLoop(ct, colTiles, op.i32(1), colTile),
        ]),
      ]),
    ]),
  ];
  return { locals: [22, I32, 11, V128], code };
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function str(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

function assemble(fma: boolean): Uint8Array<ArrayBuffer> {
  fusedMultiplyAdd = fma;
  const funcs = [
    { name: 'maxPoolGrad2x2', params: 9, body: maxPoolGrad2x2Body() },
    { name: 'columnSumsF64', params: 4, body: columnSumsBody() },
    { name: 'gemmRowsTimesB', params: 9, body: gemmRowsTimesBBody() },
    { name: 'convValidS1', params: 18, body: convValidS1Body() },
    { name: 'gemmSegmentsTimesB', params: 11, body: gemmSegmentsTimesBBody() },
  ];
  const types = funcs.map((f) => [0x60, ...uleb(f.params), ...Array(f.params).fill(I32), 0x00]);
  const imports = [[...str('env'), ...str('memory'), 0x02, 0x00, ...uleb(1)]];
  const codes = funcs.map((f) => {
    const { locals, code } = f.body;
    const groups: number[][] = [];
    for (let i = 0; i < locals.length; i += 2) groups.push([...uleb(locals[i]), locals[i + 1]]);
    const body = [...vec(groups), ...code, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(codes)),
  ]);
}
