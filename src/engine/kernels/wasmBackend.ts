import { kernelTf } from './kernelTf.js';
import type { DataType, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/**
 * The slice of the wasm backend's surface our kernels rely on. The package's own `BackendWasm` type
 * drags in Emscripten typings we do not install, so we describe only what we touch; every field here
 * exists in @tensorflow/tfjs-backend-wasm 4.x.
 */
export interface WasmBackend {
  wasm: {
    HEAPF32: Float32Array;
    tfjs: { disposeData(id: number): void };
  };
  dataIdMap: {
    get(dataId: object): { id: number; memoryOffset: number; shape: number[]; dtype: DataType };
    delete(dataId: object): boolean;
  };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}

export type WasmKernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };

/**
 * The backend's shipped kernels, captured before we replace any of them. They must be captured once:
 * a second registration pass would otherwise find our own replacement and call itself.
 */
const shipped = new Map<string, KernelConfig>();

export function captureShippedKernel(kernelName: string): KernelConfig | undefined {
  if (!shipped.has(kernelName)) {
    const config = kernelTf().getKernel(kernelName, 'wasm');
    if (config) shipped.set(kernelName, config);
  }
  return shipped.get(kernelName);
}

/** Runs one of the backend's shipped (XNNPACK-backed) kernels on tensors that live on the wasm heap. */
export function runShipped(kernelName: string, backend: WasmBackend, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const config = captureShippedKernel(kernelName);
  if (!config) throw new Error(`happysad: the wasm backend has no '${kernelName}' kernel to build on`);
  const out = (config.kernelFunc as KernelFunc)({ inputs, backend: backend as never, attrs });
  if (Array.isArray(out)) throw new Error(`happysad: '${kernelName}' unexpectedly returned several tensors`);
  return out;
}

/** Releases intermediates the kernel made itself; the engine never sees them, so nothing else would. */
export function release(backend: WasmBackend, ...infos: (TensorInfo | undefined)[]): void {
  for (const info of infos) if (info) backend.disposeData(info.dataId);
}

/** A second reference to the same buffer: the engine counts references, so the result is an ordinary tensor. */
export function shareBuffer(backend: WasmBackend, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * A Float32Array over a tensor's bytes on the heap. Fetch it only after the last allocation of the
 * step: a malloc may grow the wasm memory, which detaches every view made before it.
 */
export function heapF32(backend: WasmBackend, info: TensorInfo, length = sizeOf(info.shape)): Float32Array {
  const { memoryOffset } = backend.dataIdMap.get(info.dataId);
  return new Float32Array(backend.wasm.HEAPF32.buffer, memoryOffset, length);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A tensor header over part of another tensor's memory, so the shipped kernels can read a window of a
 * buffer (one batch chunk, one shifted view) without a copy. It must be dropped with `dropView`,
 * never `release`: freeing it would hand the middle of someone else's allocation to free().
 */
export function viewOf(backend: WasmBackend, base: TensorInfo, offsetElements: number, shape: number[]): TensorInfo {
  const { memoryOffset } = backend.dataIdMap.get(base.dataId);
  return backend.makeOutput(shape, 'float32', memoryOffset + offsetElements * 4);
}

export function dropView(backend: WasmBackend, view: TensorInfo): void {
  const data = backend.dataIdMap.get(view.dataId);
  // Tell the C++ side first so caches keyed on this id (XNNPACK operators) are cleared.
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(view.dataId);
}

export function assertNHWC(kernelName: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(
      `happysad: ${kernelName} on the wasm backend supports only dataFormat 'NHWC' (channels last); got '${String(dataFormat)}'. ` +
        'Build the model with channels-last inputs.',
    );
  }
}

export function assertFloat32(kernelName: string, ...infos: TensorInfo[]): void {
  for (const info of infos) {
    if (info.dtype !== 'float32') throw new Error(`happysad: ${kernelName} on the wasm backend supports only float32 tensors; got ${info.dtype}`);
  }
}
