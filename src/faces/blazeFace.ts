/**
 * BlazeFace in Node: the shipped weights (models/faces, see NOTICE.md there) read from disk onto
 * our engine, and sharp's letterbox. The detector itself is blazeFaceCore.ts, shared with the
 * browser build. Two variants: 'back', the 256x256 full-range model, and 'front', the 128x128
 * short-range (selfie) model, faster but blind to small faces.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { initEngine, tf } from '../engine/engine.js';
import { packageRoot } from '../base/packageRoot.js';
import { FaceModelError } from './faceModels.js';
import { letterbox } from './letterbox.js';
import { createBlazeFace, prepareBlazeNet, type BlazeFaceDetector, type BlazeFaceOptions, type BlazeFaceVariant, type BlazeNet } from './blazeFaceCore.js';
import type { io } from '@tensorflow/tfjs';

export type { BlazeDetection, BlazeFaceDetector, BlazeFaceOptions, BlazeFaceVariant, BlazeKeypoints } from './blazeFaceCore.js';
export { blazeAnchors } from './blazeFaceCore.js';

/** Where the shipped weights are: models/faces/blazeface-<variant>.json beside the package. */
export function blazeFaceModelFile(variant: BlazeFaceVariant): string {
  return path.join(packageRoot().dir, 'models', 'faces', `blazeface-${variant}.json`);
}

/**
 * Reads a tfjs graph-model JSON and its weight shards from disk into ModelArtifacts. Copies the
 * shard bytes into a fresh ArrayBuffer: a Node Buffer may be a view into a shared pool.
 */
function diskHandler(jsonPath: string): io.IOHandler {
  return {
    async load(): Promise<io.ModelArtifacts> {
      const json = JSON.parse(await readFile(jsonPath, 'utf8')) as io.ModelJSON;
      const dir = path.dirname(jsonPath);
      const weightSpecs: io.WeightsManifestEntry[] = [];
      const shards: Buffer[] = [];
      for (const group of json.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) shards.push(await readFile(path.join(dir, p)));
      }
      const bytes = Buffer.concat(shards);
      const weightData = new Uint8Array(bytes).buffer;
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        // These conversions keep their signature under userDefinedMetadata; tfjs does not read it there.
        signature: json.signature ?? (json.userDefinedMetadata?.signature as object | undefined),
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs,
        weightData,
      };
    },
  };
}

const nets = new Map<BlazeFaceVariant, Promise<BlazeNet>>();

/** One net per variant and process: the weights are read-only at inference. */
function loadNet(variant: BlazeFaceVariant): Promise<BlazeNet> {
  let pending = nets.get(variant);
  if (!pending) {
    pending = (async () => {
      const modelFile = blazeFaceModelFile(variant);
      await initEngine();
      const model = await tf.loadGraphModel(diskHandler(modelFile)).catch((err: unknown) => {
        throw new FaceModelError(`${modelFile}: cannot load the BlazeFace ${variant} model (${(err as Error).message}); the package's models/faces folder is incomplete, reinstall happysad`, { cause: err });
      });
      try {
        return prepareBlazeNet(tf, model, modelFile);
      } catch (err) {
        throw new FaceModelError((err as Error).message, { cause: err });
      }
    })();
    pending.catch(() => nets.delete(variant));
    nets.set(variant, pending);
  }
  return pending;
}

/** Loads the shipped BlazeFace `variant` ('back' by default). */
export async function loadBlazeFace(variant: BlazeFaceVariant = 'back', options: BlazeFaceOptions = {}): Promise<BlazeFaceDetector> {
  // The short-range net looks first and re-examines faces too big for the full-range one (see
  // blazeFaceCore's detect()); the full-range net is loaded when an image first needs it.
  const closeUp = variant === 'back' && (options.context ?? 'auto') === 'auto' ? await loadNet('front') : undefined;
  const net = closeUp ? () => loadNet(variant) : await loadNet(variant);
  return createBlazeFace({ tf, letterbox, net, closeUp }, variant, options);
}
