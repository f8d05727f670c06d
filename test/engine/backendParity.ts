/**
 * Shared by the kernel tests: same inputs on the wasm and cpu backends, compared within a relative
 * tolerance of the largest reference magnitude, and the convolution shapes every path is checked on.
 */
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/engine.js';
import { Random } from '../../src/base/random.js';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';

export type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
export type Pair = [number, number];

// The cpu backend is the reference here, on purpose: IS_TEST is TensorFlow.js' own switch for a
// test run, which keeps its first-use "install our node backend" banner out of the test output.
tf.env().set('IS_TEST', true);

export const RTOL = 1e-4;
const rng = new Random(20240611);

/** Gaussian-ish values, identical on both backends because they are made here, not by a backend RNG. */
export function values(shape: number[], kind: 'normal' | 'relu' | 'integers' = 'normal'): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = (rng.next() + rng.next() + rng.next() - 1.5) * 2;
    out[i] = kind === 'relu' ? Math.max(0, v) : kind === 'integers' ? Math.round(v) : v;
  }
  return out;
}

export function zeros4(shape: number[]): Tensor4D {
  const t: Tensor = tf.zeros(shape);
  return t as Tensor4D;
}

export function wasmDataIds(): number {
  return (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
}

/**
 * Runs f on wasm, then on cpu, and returns both results as flat arrays. On wasm it also checks
 * that f leaves no tensor and no heap buffer behind (an intermediate leaked inside a kernel never
 * becomes a tensor, so only the backend's own count shows it).
 */
export async function onBothBackends(f: () => Tensor | Tensor[]): Promise<{ wasm: Float32Array[]; cpu: Float32Array[] }> {
  const run = (): Float32Array[] =>
    tf.tidy(() => {
      const r = f();
      return (Array.isArray(r) ? r : [r]).map((t) => Float32Array.from(t.dataSync()));
    });
  await tf.setBackend('wasm');
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = wasmDataIds();
  const wasm = run();
  assert.equal(tf.memory().numTensors, tensorsBefore, 'wasm run leaked tensors');
  assert.equal(wasmDataIds(), idsBefore, 'wasm run leaked heap buffers');
  await tf.setBackend('cpu');
  const cpu = run();
  await tf.setBackend('wasm');
  return { wasm, cpu };
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = RTOL): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(
    worst <= rtol * Math.max(scale, 1e-6),
    `${what}: max |wasm - cpu| = ${worst} at ${at} (wasm ${actual[at]}, cpu ${expected[at]}) exceeds ${rtol} x ${scale}`,
  );
}

export async function assertBackendsAgree(what: string, f: () => Tensor | Tensor[], rtol = RTOL): Promise<void> {
  const { wasm, cpu } = await onBothBackends(f);
  assert.equal(wasm.length, cpu.length);
  wasm.forEach((w, i) => assertClose(w, cpu[i], `${what} [output ${i}]`, rtol));
}

export interface ConvCase {
  x: number[];
  k: Pair;
  co: number;
  strides: number | Pair;
  pad: Pad;
}

export const convCases: ConvCase[] = [
  { x: [2, 9, 7, 3], k: [3, 3], co: 8, strides: 1, pad: 'valid' },
  { x: [2, 9, 7, 16], k: [3, 3], co: 5, strides: 1, pad: 'same' },
  { x: [3, 11, 10, 1], k: [3, 3], co: 16, strides: 2, pad: 'valid' },
  { x: [2, 10, 9, 5], k: [3, 3], co: 8, strides: 2, pad: 'same' },
  { x: [2, 8, 13, 16], k: [2, 3], co: 16, strides: [2, 1], pad: 'same' },
  { x: [1, 12, 12, 8], k: [5, 5], co: 8, strides: 1, pad: 1 },
  { x: [2, 7, 9, 3], k: [3, 3], co: 16, strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 6, 6, 16], k: [1, 1], co: 16, strides: 1, pad: 'valid' },
  { x: [2, 13, 11, 16], k: [3, 3], co: 32, strides: 1, pad: 'valid' },
  { x: [2, 5, 5, 5], k: [3, 3], co: 1, strides: 2, pad: 'same' },
  // Output only 3 wide: the SIMD convolution needs 4, so the forward pass falls back to XNNPACK.
  { x: [2, 6, 5, 8], k: [3, 3], co: 8, strides: 1, pad: 'valid' },
];

export function label(c: ConvCase, extra = ''): string {
  return `x ${c.x.join('x')}, filter ${c.k.join('x')}x${c.x[3]}x${c.co}, strides ${JSON.stringify(c.strides)}, pad ${JSON.stringify(c.pad)}${extra}`;
}

/**
 * Random values for a convolution case (input, filter, bias, output gradient), drawn once so both
 * backends see the same; `tensors()` makes them into tensors inside the function under comparison.
 */
export function convInputs(c: ConvCase) {
  const filterShape = [...c.k, c.x[3], c.co] as [number, number, number, number];
  const xv = values(c.x);
  const wv = values(filterShape);
  const bv = values([c.co]);
  const outShape = tf.tidy(() => tf.conv2d(zeros4(c.x), zeros4(filterShape), c.strides, c.pad).shape);
  const dyv = values(outShape);
  return {
    filterShape,
    tensors: () => ({
      x: tf.tensor4d(xv, c.x as [number, number, number, number]),
      w: tf.tensor4d(wv, filterShape),
      b: tf.tensor1d(bv),
      dy: tf.tensor(dyv, outShape),
    }),
  };
}

/** tf.grads for a loss of 4-D tensors (and a bias), without the cast at every call site. */
export function gradsOf(loss: (...t: never[]) => Tensor, args: Tensor[]): Tensor[] {
  return tf.grads(loss as unknown as (...t: Tensor[]) => Tensor)(args);
}
