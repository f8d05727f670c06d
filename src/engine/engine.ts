import { tf, wasmBackend } from './tfjs.js';
import { registerTrainingKernels } from './kernels/registerTrainingKernels.js';
import { keepProcessListeners } from './keepProcessListeners.js';

export { tf };

let ready: Promise<typeof tf> | undefined;

/**
 * Selects the WASM backend and registers the gradient kernels it lacks. Idempotent: every entry
 * point (library call, CLI, worker) awaits this before touching a tensor, so callers never see a
 * half-initialised engine or the slow CPU fallback.
 */
export function initEngine(options: { threads?: number } = {}): Promise<typeof tf> {
  ready ??= (async () => {
    if (options.threads) wasmBackend.setThreadsCount(options.threads);
    registerTrainingKernels();
    await keepProcessListeners(async () => {
      if (!(await tf.setBackend('wasm'))) throw new Error('happysad: the TensorFlow.js WASM backend failed to initialise');
      await tf.ready();
    });
    return tf;
  })();
  return ready;
}
