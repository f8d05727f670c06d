/**
 * The wasm training kernels (src/engine/kernels) against the cpu backend, which is the reference
 * implementation of every tfjs kernel. Each case builds the same random inputs on both backends,
 * runs the same ops (forward and tf.grads), and compares within a relative tolerance of 1e-4 of
 * the largest reference magnitude.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { initEngine, tf } from '../../src/engine/engine.js';
import { conv2DBackpropFilterImpl, type FilterGradPath } from '../../src/engine/kernels/conv2dBackpropFilter.js';
import { conv2DBackpropInputImpl, type InputGradPath } from '../../src/engine/kernels/conv2dBackpropInput.js';
import { setSimdEnabled, simdFlavour, simdFor } from '../../src/engine/kernels/simd.js';
import { assertBackendsAgree, assertClose, convCases, convInputs, gradsOf, label, onBothBackends, values, wasmDataIds, zeros4, type ConvCase, type Pair } from './backendParity.js';
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor4D, TensorInfo } from '@tensorflow/tfjs';

before(async () => {
  await initEngine();
});

test('wasm SIMD routines are available, with fused multiply-add (their fallbacks are tested below and in kernelsPlainSimd)', () => {
  assert.ok(simdFor(tf.backend() as never), 'no wasm SIMD: every kernel would take its slow fallback');
  // Node 20 validates relaxed SIMD only once simd.ts has switched it on; Node >= 22 always does.
  assert.equal(simdFlavour(), 'fma');
});

describe('Conv2D and its gradients (Conv2DBackpropFilter, Conv2DBackpropInput) match the cpu backend', () => {
  for (const c of convCases) {
    test(label(c), async () => {
      const { tensors } = convInputs(c);
      await assertBackendsAgree('conv2d forward, dx, dw', () => {
        const { x, w, dy } = tensors();
        const f = (a: Tensor4D, b: Tensor4D) => tf.conv2d(a, b, c.strides, c.pad).mul(dy).sum();
        return [tf.conv2d(x, w, c.strides, c.pad), ...gradsOf(f, [x, w])];
      });
    });
  }

  test('with wasm SIMD disabled (XNNPACK and plain-JS fallbacks)', async () => {
    setSimdEnabled(false);
    try {
      for (const c of [convCases[0], convCases[1], convCases[8]]) {
        const filterShape = [...c.k, c.x[3], c.co];
        const xv = values(c.x);
        const wv = values(filterShape);
        await assertBackendsAgree(label(c, ', no SIMD'), () => {
          const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
          const w = tf.tensor4d(wv, filterShape as [number, number, number, number]);
          const f = (a: Tensor4D, b: Tensor4D) => tf.conv2d(a, b, c.strides, c.pad).square().sum();
          return [tf.conv2d(x, w, c.strides, c.pad), ...tf.grads(f as (...t: Tensor[]) => Tensor)([x, w])];
        });
      }
    } finally {
      setSimdEnabled(true);
    }
  });
});

describe('FusedConv2D (bias and activation fused into the convolution) matches the cpu backend', () => {
  const activations = ['relu', 'linear', 'elu'] as const; // elu: not fused by us, the shipped kernel runs it
  for (const [i, c] of convCases.entries()) {
    const activation = activations[i % activations.length];
    for (const withBias of [true, false]) {
      test(label(c, `, ${activation}${withBias ? ', bias' : ''}`), async () => {
        const { tensors } = convInputs(c);
        await assertBackendsAgree('fused conv2d forward, dx, dw, db', () => {
          const { x, w, b, dy } = tensors();
          const conv = (a: Tensor4D, f: Tensor4D, bias?: Tensor1D) =>
            tf.fused.conv2d({ x: a, filter: f, strides: c.strides, pad: c.pad, bias, activation });
          if (!withBias) return [conv(x, w), ...gradsOf((a: Tensor4D, f: Tensor4D) => conv(a, f).mul(dy).sum(), [x, w])];
          return [conv(x, w, b), ...gradsOf((a: Tensor4D, f: Tensor4D, bias: Tensor1D) => conv(a, f, bias).mul(dy).sum(), [x, w, b])];
        });
      });
    }
  }

  test('relu clamps exactly at zero and keeps NaN (as the cpu backend does)', async () => {
    const xv = values([1, 6, 6, 8]);
    xv[0] = Number.NaN;
    const wv = values([1, 1, 8, 8]);
    const { wasm, cpu } = await onBothBackends(() =>
      tf.fused.conv2d({ x: tf.tensor4d(xv, [1, 6, 6, 8]), filter: tf.tensor4d(wv, [1, 1, 8, 8]), strides: 1, pad: 'valid', activation: 'relu' }),
    );
    const nanAt = (a: Float32Array) => [...a.keys()].filter((k) => Number.isNaN(a[k]));
    assert.deepEqual(nanAt(wasm[0]), nanAt(cpu[0]));
    assert.ok(nanAt(cpu[0]).length > 0, 'the NaN input should reach the output');
    assert.ok(wasm[0].every((v) => Number.isNaN(v) || v >= 0), 'relu output has a negative value');
    assertClose(wasm[0].map((v) => (Number.isNaN(v) ? 0 : v)), cpu[0].map((v) => (Number.isNaN(v) ? 0 : v)), 'relu with NaN');
  });

  test('with wasm SIMD disabled (shipped kernel)', async () => {
    setSimdEnabled(false);
    try {
      const c = convCases[8];
      const filterShape = [...c.k, c.x[3], c.co];
      const xv = values(c.x);
      const wv = values(filterShape);
      const bv = values([c.co]);
      await assertBackendsAgree(label(c, ', relu, bias, no SIMD'), () =>
        tf.fused.conv2d({
          x: tf.tensor4d(xv, c.x as [number, number, number, number]),
          filter: tf.tensor4d(wv, filterShape as [number, number, number, number]),
          strides: c.strides, pad: c.pad, bias: tf.tensor1d(bv), activation: 'relu',
        }),
      );
    } finally {
      setSimdEnabled(true);
    }
  });
});

/** Reads a kernel result that was produced outside the engine and frees it. */
function take(info: TensorInfo): Float32Array {
  const be = tf.backend() as unknown as { readSync(id: object): Float32Array; disposeData(id: object): boolean };
  const out = Float32Array.from(be.readSync(info.dataId));
  be.disposeData(info.dataId);
  return out;
}

/** The cpu backend's answer for a kernel, from the same input values. */
async function cpuKernel(name: string, inputs: Record<string, { v: Float32Array; shape: number[] }>, attrs: object): Promise<Float32Array> {
  await tf.setBackend('cpu');
  const out = tf.tidy(() => {
    const ins = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.tensor(t.v, t.shape)]));
    return Float32Array.from((tf.engine().runKernel(name, ins, attrs as never) as Tensor).dataSync());
  });
  await tf.setBackend('wasm');
  return out;
}

describe('every implementation path of the convolution gradients matches the cpu backend', () => {
  const shapes: ConvCase[] = [
    { x: [3, 9, 8, 3], k: [3, 3], co: 16, strides: 1, pad: 'valid' },
    { x: [2, 8, 7, 8], k: [3, 2], co: 8, strides: 1, pad: 'same' },
    { x: [2, 6, 9, 16], k: [3, 3], co: 8, strides: 1, pad: 2 },
  ];
  for (const c of shapes) {
    test(label(c), async () => {
      const filterShape = [...c.k, c.x[3], c.co] as [number, number, number, number];
      const outShape = tf.tidy(() => tf.conv2d(zeros4(c.x), zeros4(filterShape), c.strides, c.pad).shape);
      const x = { v: values(c.x), shape: c.x };
      const dy = { v: values(outShape), shape: outShape };
      const w = { v: values(filterShape), shape: filterShape };
      const filterAttrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape };
      const inputAttrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
      const wantDw = await cpuKernel('Conv2DBackpropFilter', { x, dy }, filterAttrs);
      const wantDx = await cpuKernel('Conv2DBackpropInput', { dy, filter: w }, inputAttrs);

      const idsBefore = wasmDataIds();
      const xt = tf.tensor(x.v, x.shape);
      const dyt = tf.tensor(dy.v, dy.shape);
      const wt = tf.tensor(w.v, w.shape);
      const backend = tf.backend();
      for (const path of ['simd', 'xnnpack', 'gather'] as FilterGradPath[]) {
        for (const chunkFloats of [undefined, 1]) {
          const got = take(conv2DBackpropFilterImpl({ inputs: { x: xt, dy: dyt }, backend, attrs: filterAttrs as never }, { path, chunkFloats }));
          assertClose(got, wantDw, `dW via ${path}${chunkFloats ? ', one image per chunk' : ''}`);
        }
      }
      for (const path of ['simd', 'xnnpack', 'spread'] as InputGradPath[]) {
        // The SIMD convolution writes 8 output channels at a time; dx has Ci of them.
        if (path === 'simd' && c.x[3] % 8 !== 0) continue;
        const got = take(conv2DBackpropInputImpl({ inputs: { dy: dyt, filter: wt }, backend, attrs: inputAttrs as never }, { path }));
        assertClose(got, wantDx, `dx via ${path}`);
      }
      tf.dispose([xt, dyt, wt]);
      assert.equal(wasmDataIds(), idsBefore, 'kernel paths leaked heap buffers');
    });
  }
});

describe('dilation 2 (tf.grads refuses dilated convs on every backend, so the kernels are called directly)', () => {
  // The gradient of a dilated conv equals that of an undilated conv whose filter has zeros
  // between the taps, which the cpu backend can compute.
  const N = 2;
  const H = 11;
  const W = 10;
  const Ci = 5;
  const Co = 8;
  const KH = 3;
  const KW = 2;
  const d = 2;
  const EH = (KH - 1) * d + 1;
  const EW = (KW - 1) * d + 1;

  for (const pad of ['valid', 'same'] as const) {
    test(`forward, dx and dW, pad ${pad}`, async () => {
      const xv = values([N, H, W, Ci]);
      const wv = values([KH, KW, Ci, Co]);
      const wide = new Float32Array(EH * EW * Ci * Co);
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const src = (kh * KW + kw) * Ci * Co;
          wide.set(wv.subarray(src, src + Ci * Co), (kh * d * EW + kw * d) * Ci * Co);
        }
      }
      await assertBackendsAgree('forward', () => tf.conv2d(tf.tensor4d(xv, [N, H, W, Ci]), tf.tensor4d(wv, [KH, KW, Ci, Co]), 1, pad, 'NHWC', d));
      const outShape = tf.tidy(() => tf.conv2d(zeros4([N, H, W, Ci]), zeros4([KH, KW, Ci, Co]), 1, pad, 'NHWC', d).shape);
      const x = { v: xv, shape: [N, H, W, Ci] };
      const dy = { v: values(outShape), shape: outShape };
      const wideDw = await cpuKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad, dataFormat: 'NHWC', filterShape: [EH, EW, Ci, Co] });
      const wantDw = new Float32Array(KH * KW * Ci * Co);
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const src = (kh * d * EW + kw * d) * Ci * Co;
          wantDw.set(wideDw.subarray(src, src + Ci * Co), (kh * KW + kw) * Ci * Co);
        }
      }
      const wantDx = await cpuKernel('Conv2DBackpropInput', { dy, filter: { v: wide, shape: [EH, EW, Ci, Co] } }, {
        strides: 1,
        pad,
        dataFormat: 'NHWC',
        inputShape: [N, H, W, Ci],
      });
      const got = tf.tidy(() => {
        const xt = tf.tensor(xv, x.shape);
        const dyt = tf.tensor(dy.v, dy.shape);
        const wt = tf.tensor(wv, [KH, KW, Ci, Co]);
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt }, {
          strides: 1, pad, dataFormat: 'NHWC', filterShape: [KH, KW, Ci, Co], dilations: d,
        } as never) as Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: dyt, filter: wt }, {
          strides: 1, pad, dataFormat: 'NHWC', inputShape: [N, H, W, Ci], dilations: d,
        } as never) as Tensor;
        return [dw.dataSync(), dx.dataSync()];
      });
      assertClose(got[0], wantDw, 'dilated dW');
      assertClose(got[1], wantDx, 'dilated dx');
    });
  }
});

describe('MaxPoolGrad matches the cpu backend, ties included', () => {
  const cases: { x: number[]; f: number | Pair; s: number | Pair; pad: 'valid' | 'same'; kind: 'relu' | 'integers' | 'normal' }[] = [
    { x: [2, 9, 7, 8], f: 2, s: 2, pad: 'valid', kind: 'relu' },
    { x: [2, 10, 6, 16], f: 2, s: 2, pad: 'same', kind: 'integers' },
    { x: [2, 9, 9, 3], f: 2, s: 2, pad: 'valid', kind: 'relu' },
    { x: [2, 9, 8, 5], f: 3, s: 2, pad: 'same', kind: 'integers' },
    { x: [1, 7, 7, 4], f: 3, s: 1, pad: 'valid', kind: 'normal' },
    { x: [2, 8, 9, 4], f: [2, 3], s: [1, 2], pad: 'same', kind: 'relu' },
  ];
  for (const simd of [true, false]) {
    for (const c of cases) {
      test(`x ${c.x.join('x')}, pool ${JSON.stringify(c.f)}, strides ${JSON.stringify(c.s)}, ${c.pad}, ${c.kind} values${simd ? '' : ', no SIMD'}`, async () => {
        const xv = values(c.x, c.kind);
        const outShape = tf.tidy(() => tf.maxPool(zeros4(c.x), c.f, c.s, c.pad).shape);
        const dyv = values(outShape);
        setSimdEnabled(simd);
        try {
          await assertBackendsAgree('maxPool grad', () => {
            const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
            const dy = tf.tensor(dyv, outShape);
            return tf.grad((a: Tensor) => tf.maxPool(a as Tensor4D, c.f, c.s, c.pad).mul(dy).sum())(x);
          });
        } finally {
          setSimdEnabled(true);
        }
      });
    }
  }
});

describe('Sum matches the cpu backend', () => {
  const cases: { shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
    { shape: [5, 7, 3, 12], axis: [0, 1, 2] },
    { shape: [5, 7, 3, 12], axis: [0, 1] },
    { shape: [5, 7, 3, 12], axis: 0, keepDims: true },
    { shape: [40, 5], axis: 0 },
    { shape: [6, 4, 8], axis: [-3, -2] },
    { shape: [6, 4, 8], axis: [1, 2] },
    { shape: [3000, 16], axis: 0 },
  ];
  for (const simd of [true, false]) {
    for (const c of cases) {
      test(`shape ${c.shape.join('x')}, axis ${JSON.stringify(c.axis)}${c.keepDims ? ', keepDims' : ''}${simd ? '' : ', no SIMD'}`, async () => {
        const xv = values(c.shape);
        setSimdEnabled(simd);
        try {
          await assertBackendsAgree('sum', () => tf.sum(tf.tensor(xv, c.shape), c.axis, c.keepDims));
        } finally {
          setSimdEnabled(true);
        }
      });
    }
  }
});

describe('BatchMatMul matches the cpu backend', () => {
  const shapes: [number, number, number][] = [
    [6, 300, 16],
    [40, 300, 5],
    [16, 64, 24],
    [5, 33, 7],
    [3, 200, 8],
  ];
  for (const simd of [true, false]) {
    for (const [M, K, N] of shapes) {
      test(`${M}x${K} by ${K}x${N}, all transpose combinations and the gradients${simd ? '' : ', no SIMD'}`, async () => {
        const av = values([M, K]);
        const bv = values([K, N]);
        const dyv = values([M, N]);
        setSimdEnabled(simd);
        try {
          await assertBackendsAgree('matMul', () => {
            const a = tf.tensor2d(av, [M, K]);
            const b = tf.tensor2d(bv, [K, N]);
            const aT = a.transpose();
            const bT = b.transpose();
            const dy = tf.tensor2d(dyv, [M, N]);
            return [
              tf.matMul(a, b),
              tf.matMul(aT, b, true, false),
              tf.matMul(a, bT, false, true),
              tf.matMul(aT, bT, true, true),
              tf.matMul(a.reshape([1, M, K]), b.reshape([1, K, N])),
              ...tf.grads((p: Tensor, q: Tensor) => tf.matMul(p as Tensor2D, q as Tensor2D).mul(dy).sum())([a, b]),
            ];
          });
        } finally {
          setSimdEnabled(true);
        }
      });
    }
  }

  test('batched products still go to the shipped kernel', async () => {
    const av = values([2, 4, 6]);
    const bv = values([2, 6, 3]);
    await assertBackendsAgree('batched matMul', () => tf.matMul(tf.tensor3d(av, [2, 4, 6]), tf.tensor3d(bv, [2, 6, 3]), false, false));
  });
});

describe('Tile matches the cpu backend', () => {
  const cases: { shape: number[]; reps: number[]; dtype?: 'int32' | 'bool' }[] = [
    { shape: [1, 1, 1, 8], reps: [4, 5, 6, 1] }, // batch norm's backward: one block repeated
    { shape: [3], reps: [5] },
    { shape: [2, 3], reps: [3, 1] },
    { shape: [1, 3], reps: [2, 2] },
    { shape: [1, 4], reps: [0, 1] },
    { shape: [1, 1, 6], reps: [3, 2, 1], dtype: 'int32' },
    { shape: [2, 3], reps: [1, 2] }, // interleaved: the shipped kernel
    { shape: [2, 1, 3], reps: [1, 4, 1] },
    { shape: [1, 5], reps: [3, 1], dtype: 'bool' },
  ];
  for (const c of cases) {
    test(`${c.dtype ?? 'float32'} ${c.shape.join('x')} by ${c.reps.join('x')}`, async () => {
      const v = values(c.shape, 'integers');
      await assertBackendsAgree('tile', () => {
        const x = c.dtype ? tf.tensor(v, c.shape).cast(c.dtype) : tf.tensor(v, c.shape);
        return tf.tile(x, c.reps).cast('float32');
      });
    });
  }

  test("batch norm's gradients (which tile its statistics)", async () => {
    const shape = [4, 5, 6, 8];
    const [xv, dyv, mv, vv, sv, ov] = [values(shape), values(shape), values([8]), values([8], 'relu'), values([8]), values([8])];
    await assertBackendsAgree('batchNorm dx, dmean, dvariance, dscale, doffset', () => {
      const x = tf.tensor4d(xv, shape as [number, number, number, number]);
      const dy = tf.tensor4d(dyv, shape as [number, number, number, number]);
      const [mean, variance, scale, offset] = [mv, vv.map((a) => a + 0.5), sv, ov].map((a) => tf.tensor1d(a));
      const f = (a: Tensor4D, m: Tensor1D, s2: Tensor1D, g: Tensor1D, b: Tensor1D) => tf.batchNorm(a, m, s2, b, g, 1e-3).mul(dy).sum();
      return gradsOf(f, [x, mean, variance, scale, offset]);
    });
  });
});

describe('Identity and Cast share buffers safely', () => {
  test('a clone outlives its source', () => {
    const a = tf.tensor([1.5, -2, 3]);
    const b = tf.clone(a);
    a.dispose();
    assert.deepEqual(Array.from(b.dataSync()), [1.5, -2, 3]);
    b.dispose();
  });

  test('same-dtype cast shares; other casts convert', () => {
    const a = tf.tensor([1.7, -2.2, 3]);
    const same = tf.cast(a, 'float32');
    const ints = tf.cast(a, 'int32');
    a.dispose();
    assert.deepEqual(Array.from(same.dataSync()), [1.7000000476837158, -2.200000047683716, 3]);
    assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 3]);
    assert.equal(ints.dtype, 'int32');
    tf.dispose([same, ints]);
  });

  test('a cast to bool is x != 0, as on the cpu backend (the shipped kernel truncates to a byte)', async () => {
    const v = new Float32Array([1, 0, -2, 0.5, -0.25, 300, Number.NaN, -0]);
    await assertBackendsAgree('float32 -> bool', () => tf.tensor(v).cast('bool').cast('float32'));
    await assertBackendsAgree('int32 -> bool', () => tf.tensor([1, 0, -2, 256, 512, -256], undefined, 'int32').cast('bool').cast('float32'));
  });
});

describe('data formats', () => {
  test('NCHW is rejected with a clear error', () => {
    const x = tf.zeros([1, 3, 6, 6]);
    const dy = tf.zeros([1, 4, 4, 4]);
    const filter = tf.zeros([3, 3, 3, 4]);
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 3, 4] } as never),
      /supports only dataFormat 'NHWC'/,
    );
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, {
        strides: 1, pad: 'valid', dataFormat: 'NCHW', inputShape: [1, 3, 6, 6],
      } as never),
      /supports only dataFormat 'NHWC'/,
    );
    tf.dispose([x, dy, filter]);
  });
});

describe('training a small conv net on wasm', () => {
  test('Adam steps leak no tensors or heap buffers and the loss falls', async () => {
    await tf.setBackend('wasm');
    const n = 16;
    const side = 12;
    const xv = values([n, side, side, 2]);
    const yv = new Float32Array(n);
    // Learnable label: which channel is brighter on average.
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < side * side; p++) s += xv[(i * side * side + p) * 2] - xv[(i * side * side + p) * 2 + 1];
      yv[i] = s > 0 ? 1 : 0;
    }
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [side, side, 2], filters: 8, kernelSize: 3, activation: 'relu', seed: 1 } as never),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1, activation: 'sigmoid' }),
      ],
    });
    const optimizer = tf.train.adam(0.01);
    const x = tf.tensor4d(xv, [n, side, side, 2]);
    const y = tf.tensor2d(yv, [n, 1]);
    const losses: number[] = [];
    const counts: [number, number][] = [];
    for (let step = 0; step < 25; step++) {
      const loss = optimizer.minimize(() => tf.mean(tf.metrics.binaryCrossentropy(y, model.apply(x, { training: true }) as Tensor)) as Scalar, true)!;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
      counts.push([tf.memory().numTensors, wasmDataIds()]);
    }
    // Adam creates its moment variables during the first step; from then on nothing may accumulate.
    for (let i = 2; i < counts.length; i++) assert.deepEqual(counts[i], counts[1], `step ${i}: [tensors, heap buffers] changed`);
    assert.ok(losses[losses.length - 1] < 0.7 * losses[0], `loss did not fall: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });
});
