import type * as TF from '@tensorflow/tfjs';

/** The part of TensorFlow.js the kernels use to find and replace the wasm backend's own kernels. */
export type KernelTf = Pick<typeof TF, 'getKernel' | 'registerKernel' | 'unregisterKernel' | 'backend_util'>;

let bound: KernelTf | undefined;

/**
 * The TensorFlow.js the kernels register with: Node's (engine/tfjs.ts, loaded with require) or a
 * page's bundled copy. Passed in rather than imported so the convolution kernels run in both.
 */
export function bindKernelTf(tf: KernelTf): void {
  bound = tf;
}

export function kernelTf(): KernelTf {
  if (!bound) throw new Error('happysad: the wasm kernels were used before bindKernelTf() (registerTrainingKernels or registerConvKernels)');
  return bound;
}
