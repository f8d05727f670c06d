/**
 * The SIMD module without fused multiply-add: what engines without relaxed SIMD run, and what
 * HAPPYSAD_FMA=0 selects. The convolution kernels (which use every GEMM routine) against the cpu
 * backend on all the shapes of kernels.test.ts. Node runs each test file in its own process, and
 * the module is assembled on first use, so setting the variable here selects it for this file only.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initEngine, tf } from '../../src/engine/engine.js';
import { simdFlavour, simdFor } from '../../src/engine/kernels/simd.js';
import { assertBackendsAgree, convCases, convInputs, gradsOf, label } from './backendParity.js';
import type { Tensor4D } from '@tensorflow/tfjs';

process.env.HAPPYSAD_FMA = '0';

before(async () => {
  await initEngine();
});

test('HAPPYSAD_FMA=0 assembles the plain SIMD module', () => {
  assert.ok(simdFor(tf.backend() as never));
  assert.equal(simdFlavour(), 'plain');
});

for (const c of convCases) {
  test(`Conv2D, FusedConv2D (relu, bias) and both gradients without FMA: ${label(c)}`, async () => {
    const { tensors } = convInputs(c);
    await assertBackendsAgree('conv2d forward, dx, dw; fused forward', () => {
      const { x, w, b, dy } = tensors();
      const f = (a: Tensor4D, k: Tensor4D) => tf.conv2d(a, k, c.strides, c.pad).mul(dy).sum();
      const fused = tf.fused.conv2d({ x, filter: w, strides: c.strides, pad: c.pad, bias: b, activation: 'relu' });
      return [tf.conv2d(x, w, c.strides, c.pad), ...gradsOf(f, [x, w]), fused];
    });
  });
}
