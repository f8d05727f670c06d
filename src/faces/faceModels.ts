import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
// The node-wasm build is the one face-api build that takes tfjs from outside (a plain
// require('@tensorflow/tfjs')), so its nets run on the same tfjs-core engine and wasm backend as
// the rest of happysad. The others fail in Node 20: the default build requires tfjs-node,
// esm-nobundle imports tfjs/webgl by deep `dist/index.js` paths that Node resolves as CommonJS
// ("Cannot find module .../register_all_gradients"), and the bundled esm build's tfjs throws
// "this.util.TextEncoder is not a constructor". Loaded on first use (the default BlazeFace path
// never needs it), with require() for the same reason as tfjs (engine/tfjs.ts).
import type * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { initEngine, tf } from '../engine/engine.js';
import { HappysadError } from '../base/errors.js';
import type { NamedTensorMap, Tensor3D, io } from '@tensorflow/tfjs';

export type FaceNetKind = 'ssd' | 'tiny' | 'landmarks' | 'landmarksTiny' | 'expression';

interface FaceNetTypes {
  ssd: faceapi.SsdMobilenetv1;
  tiny: faceapi.TinyFaceDetector;
  landmarks: faceapi.FaceLandmark68Net;
  landmarksTiny: faceapi.FaceLandmark68TinyNet;
  expression: faceapi.FaceExpressionNet;
}

type FaceApi = typeof faceapi;
const NETS: { [K in FaceNetKind]: { file: string; create: (api: FaceApi) => FaceNetTypes[K] } } = {
  ssd: { file: 'ssd_mobilenetv1_model', create: (api) => new api.SsdMobilenetv1() },
  tiny: { file: 'tiny_face_detector_model', create: (api) => new api.TinyFaceDetector() },
  landmarks: { file: 'face_landmark_68_model', create: (api) => new api.FaceLandmark68Net() },
  landmarksTiny: { file: 'face_landmark_68_tiny_model', create: (api) => new api.FaceLandmark68TinyNet() },
  expression: { file: 'face_expression_model', create: (api) => new api.FaceExpressionNet() },
};

const require = createRequire(import.meta.url);

/** The weights that ship inside the face-api package, so detection never touches the network. */
export function faceModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

export class FaceModelError extends HappysadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('face-model', message, options);
  }
}

/**
 * Reads a tfjs weights manifest and its shards ourselves rather than through face-api's
 * loadFromDisk: that one goes through face-api's own environment shim and hands tfjs
 * `buffer.buffer`, which is only correct while Node happens not to pool the file's Buffer.
 */
export async function readFaceWeights(file: string, dir = faceModelDir()): Promise<NamedTensorMap> {
  const manifestPath = path.join(dir, `${file}-weights_manifest.json`);
  let manifest: io.WeightsManifestConfig;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as io.WeightsManifestConfig;
  } catch (err) {
    throw new FaceModelError(`${manifestPath}: cannot read the face-api weights manifest (is @vladmandic/face-api installed with its model/ folder?)`, { cause: err });
  }
  const weights: NamedTensorMap = {};
  for (const group of manifest) {
    const shards = await Promise.all(group.paths.map((p) => readFile(path.join(dir, p)))).catch((err: unknown) => {
      throw new FaceModelError(`${dir}: cannot read weight shards ${group.paths.join(', ')}`, { cause: err });
    });
    const bytes = Buffer.concat(shards);
    const exact = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    Object.assign(weights, tf.io.decodeWeights(exact, group.weights));
  }
  return weights;
}

const cache = new Map<FaceNetKind, Promise<unknown>>();

/**
 * Loads a face-api net once per process and shares it: the weights are read-only at inference
 * and the ssd detector alone is 5.6 MB, so every detector instance reuses the same tensors.
 */
export function loadFaceNet<K extends FaceNetKind>(kind: K): Promise<FaceNetTypes[K]> {
  let pending = cache.get(kind) as Promise<FaceNetTypes[K]> | undefined;
  if (!pending) {
    pending = (async () => {
      // Weight tensors live on whichever backend is active when they are created.
      await initEngine();
      const spec = NETS[kind];
      const weights = await readFaceWeights(spec.file);
      const net = spec.create(require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi);
      // face-api's own typings carry a private copy of the tfjs declarations.
      net.loadFromWeightMap(weights as unknown as Parameters<typeof net.loadFromWeightMap>[0]);
      return net;
    })();
    // A failed load must not poison the cache: the next call retries.
    pending.catch(() => cache.delete(kind));
    cache.set(kind, pending);
  }
  return pending;
}

/** Our tfjs tensors are face-api's at run time; only the two copies of the typings differ. */
export function asNetInput(t: Tensor3D | Tensor3D[]): faceapi.TNetInput {
  return t as unknown as faceapi.TNetInput;
}
