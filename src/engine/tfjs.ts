import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cacheRoot } from '../io/cacheRoot.js';
import { preloadWithCodeCache } from './codeCache.js';
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
// Its bundles, in the order it loads them, compiled from a V8 code cache when one is there (see codeCache.ts).
const umbrella = load.resolve('@tensorflow/tfjs');
const TFJS_BUNDLES = ['tfjs-core', 'tfjs-backend-cpu', 'tfjs-layers', 'tfjs-converter', 'tfjs-data', 'tfjs-backend-webgl'].map((p) => createRequire(umbrella).resolve(`@tensorflow/${p}`));
preloadWithCodeCache([...TFJS_BUNDLES, umbrella, load.resolve('@tensorflow/tfjs-backend-wasm')], join(cacheRoot(), 'v8-code'));
export const tf = load('@tensorflow/tfjs') as typeof TF;
export const wasmBackend = load('@tensorflow/tfjs-backend-wasm') as typeof WasmBackend;
