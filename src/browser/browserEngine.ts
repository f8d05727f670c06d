/// <reference lib="dom" />
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerConvKernels } from '../engine/kernels/registerConvKernels.js';

export { tf };

export type BackendName = 'wasm' | 'webgl';
export type BackendChoice = BackendName | 'auto';

export interface EngineInfo {
  backend: BackendName;
  /** XNNPACK threads on wasm (1 unless the page is cross-origin isolated on a 4+ core device). */
  threads: number;
  simd?: boolean;
  /** Median milliseconds of the probe per backend tried, when 'auto' measured more than one. */
  measured?: Partial<Record<BackendName, number>>;
}

let wasmConfigured = false;

/**
 * Points the wasm backend at its binaries and picks its thread count, once per page. Threads need
 * SharedArrayBuffer (a cross-origin-isolated page) and pay only with cores to spare: tfjs caps them
 * at half the reported cores, and on a 2-core machine the threaded build ran slower (48 vs 35 ms a
 * frame) and collapsed under load, so it is used from 4 cores up.
 */
function configureWasm(wasmBase: string, threads: number | 'auto'): void {
  if (wasmConfigured) return;
  wasmConfigured = true;
  setWasmPaths(wasmBase);
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  const wanted = threads === 'auto' ? (isolated && cores >= 4 ? Math.min(4, Math.floor(cores / 2)) : 1) : threads;
  if (wanted > 1 && isolated) setThreadsCount(wanted);
  else tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  registerConvKernels(tf);
}

/**
 * Whether WebGL here is a real GPU worth measuring: software renderers (SwiftShader, llvmpipe)
 * ran the face pipeline at 2.7 frames/s against wasm's 22-25 on this machine, and starting one
 * costs ~3 s, so 'auto' does not even try them.
 */
export function hardwareWebgl(): boolean {
  try {
    const canvas = new OffscreenCanvas(1, 1);
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    if (!gl) return false;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
    return !/swiftshader|llvmpipe|softpipe|software|basic render/i.test(renderer);
  } catch {
    return false;
  }
}

export async function useBackend(name: BackendName, wasmBase: string, threads: number | 'auto'): Promise<EngineInfo> {
  if (name === 'wasm') configureWasm(wasmBase, threads);
  if (!(await tf.setBackend(name))) throw new Error(`happysad: the TensorFlow.js ${name} backend failed to start in this browser`);
  await tf.ready();
  if (name === 'webgl' && !tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) {
    // Half-float textures (some phones) would move scores away from Node's.
    throw new Error('happysad: WebGL here renders only 16-bit floats, which changes scores; use the wasm backend');
  }
  return name === 'wasm'
    ? { backend: name, threads: getThreadsCount(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') as boolean }
    : { backend: name, threads: 1 };
}

/** The candidates 'auto' measures: wasm always, WebGL only on a hardware GPU. */
export function backendCandidates(choice: BackendChoice): BackendName[] {
  if (choice !== 'auto') return [choice];
  return hardwareWebgl() ? ['wasm', 'webgl'] : ['wasm'];
}
