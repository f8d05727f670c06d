import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';
import type * as WasmBackend from '@tensorflow/tfjs-backend-wasm';

/**
 * TensorFlow.js and its WASM backend, loaded with require(). tfjs is CommonJS: imported from ESM,
 * Node first scans its sources for export names (~200 ms on this machine), in every thread that
 * loads it, which was most of a worker thread's start-up. require() gives the same module
 * instance an ESM import would (Node shares one CommonJS cache), so code that still imports it
 * sees the same engine. Types come from `import type`; in type positions use e.g.
 * `import type { Tensor } from '@tensorflow/tfjs'`.
 */
const load = createRequire(import.meta.url);
export const tf = load('@tensorflow/tfjs') as typeof TF;
export const wasmBackend = load('@tensorflow/tfjs-backend-wasm') as typeof WasmBackend;
