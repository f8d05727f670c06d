import { readRegularFile } from '../io/outputPaths.js';
import { validateMetadata } from './validateMetadata.js';
import { join } from 'node:path';
import { tf } from '../engine/engine.js';
import { modelFromArtifacts } from '../engine/modelFromTopology.js';
import { BundleError } from '../base/errors.js';
import { replaceDirAtomic, writeFileAtomic } from '../io/atomicWrite.js';
import { packageRoot } from '../base/packageRoot.js';
import { BUNDLE_FORMAT, type BundleMetadata } from './bundleMetadata.js';
import { assertReplaceable, METADATA_FILE } from './bundleOutput.js';
import type { LayersModel, io } from '@tensorflow/tfjs';

export { METADATA_FILE };

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** A trained model and what it needs to be used honestly: one directory on disk. */
export interface ModelBundle {
  dir: string;
  model: LayersModel;
  metadata: BundleMetadata;
}

/**
 * Writes model.json + weights.bin (TensorFlow.js layers format, so a browser can
 * tf.loadLayersModel the same files) and happysad.json. The directory is replaced as a whole, so
 * an interrupted save leaves the previous model in place. `extraFiles` (history, plots) go into
 * the same swap. Only an absent or empty folder, or a bundle, is replaced: anything else at `dir`
 * is a user's and makes this throw (see claimBundleOutput for the checks a command makes first).
 */
export async function saveBundle(dir: string, model: LayersModel, metadata: BundleMetadata, extraFiles: Record<string, string | Uint8Array> = {}): Promise<void> {
  await assertReplaceable(dir, metadata.training?.runId);
  const artifacts = await captureArtifacts(model);
  const weightData = concatWeightData(artifacts.weightData);
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: `happysad ${packageRoot().version}`,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
  };
  await replaceDirAtomic(dir, async (tmp) => {
    await writeFileAtomic(join(tmp, WEIGHTS_FILE), new Uint8Array(weightData));
    await writeFileAtomic(join(tmp, MODEL_FILE), JSON.stringify(modelJson));
    await writeFileAtomic(join(tmp, METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);
    for (const [name, content] of Object.entries(extraFiles)) await writeFileAtomic(join(tmp, name), content);
  }, { keepOthers: true });
}

/** Reads and checks a bundle; every inconsistency is a BundleError naming the file and the fix. */
export async function readBundle(dir: string): Promise<ModelBundle> {
  const metadata = await readJson<BundleMetadata>(dir, METADATA_FILE);
  if (metadata.format !== BUNDLE_FORMAT) throw new BundleError(`${join(dir, METADATA_FILE)}: not a happysad bundle (format "${String(metadata.format)}")`);
  validateMetadata(metadata, join(dir, METADATA_FILE));
  const modelJson = await readJson<{ modelTopology: object; weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[] }>(dir, MODEL_FILE);
  const groupsOk = Array.isArray(modelJson.weightsManifest) && modelJson.weightsManifest.every((g) => g && Array.isArray(g.paths) && g.paths.every((p) => typeof p === 'string') && Array.isArray(g.weights));
  if (!modelJson.modelTopology || !groupsOk) throw new BundleError(`${join(dir, MODEL_FILE)}: not a TensorFlow.js layers model (no modelTopology / weightsManifest)`);
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const chunks: Uint8Array[] = [];
  for (const p of modelJson.weightsManifest.flatMap((g) => g.paths)) {
    if (p.includes('/') || p.includes('\\') || p.startsWith('.')) throw new BundleError(`${join(dir, MODEL_FILE)}: weights path "${p}" must be a plain file name inside the bundle`);
    chunks.push(await readRegularFile(join(dir, p), (message) => new BundleError(`${message}: the weights file is missing or unusable; the bundle is incomplete, copy it again`)));
  }
  const weightData = Buffer.concat(chunks);
  const expected = weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * bytesPerElement(w.dtype), 0);
  if (weightData.length !== expected) throw new BundleError(`${dir}: weights are ${weightData.length} bytes but model.json describes ${expected}; the files do not belong together`);
  const bad = firstNonFinite(weightData, weightSpecs);
  if (bad) throw new BundleError(`${dir}: weight "${bad}" holds NaN or infinite values, so every prediction would be meaningless (training diverged or the file is damaged); retrain, e.g. with a lower --lr, or restore the bundle from a copy`);
  let model: LayersModel;
  try {
    model = await modelFromArtifacts(tf, modelJson.modelTopology, weightSpecs, weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.length) as ArrayBuffer);
  } catch (err) {
    throw new BundleError(`${join(dir, MODEL_FILE)}: cannot build the model: ${(err as Error).message}`, { cause: err });
  }
  checkConsistency(dir, model, metadata);
  return { dir, model, metadata };
}

/** Name of the first float32 weight with a NaN or infinity in it, if any. */
function firstNonFinite(data: Buffer, specs: io.WeightsManifestEntry[]): string | undefined {
  let at = data.byteOffset;
  for (const w of specs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    const bytes = n * bytesPerElement(w.dtype);
    if ((w.dtype ?? 'float32') === 'float32' && !w.quantization) {
      // Copy when unaligned: a Float32Array view needs a 4-byte offset.
      const values = at % 4 === 0 ? new Float32Array(data.buffer, at, n) : new Float32Array(data.buffer.slice(at, at + bytes));
      for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) return w.name;
    }
    at += bytes;
  }
  return undefined;
}

function checkConsistency(dir: string, model: LayersModel, m: BundleMetadata): void {
  const where = join(dir, METADATA_FILE);
  const outUnits = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  const wantUnits = m.output === 'sigmoid' ? 1 : m.classes.length;
  if (m.output === 'sigmoid' && m.classes.length !== 2) throw new BundleError(`${where}: a sigmoid output needs exactly 2 classes, metadata lists ${m.classes.length}`);
  if (outUnits !== wantUnits) throw new BundleError(`${where}: model has ${outUnits} output unit(s) but metadata expects ${wantUnits} (${m.output}, ${m.classes.length} classes)`);
  if (!m.classes.includes(m.positiveClass)) throw new BundleError(`${where}: positiveClass "${m.positiveClass}" is not one of the classes ${m.classes.join(', ')}`);
  const [, h, w, c] = model.inputs[0].shape;
  const p = m.preprocessing;
  if (!p || h !== p.height || w !== p.width || c !== p.channels) {
    throw new BundleError(`${where}: preprocessing produces ${p?.height}x${p?.width}x${p?.channels} but the model takes ${h}x${w}x${c}`);
  }
}

async function readJson<T>(dir: string, name: string): Promise<T> {
  const file = join(dir, name);
  const text = (await readRegularFile(file, (message, code) => new BundleError(code === 'ENOENT'
    ? `${file} not found: ${dir} is not a happysad model bundle (expected ${MODEL_FILE}, ${WEIGHTS_FILE} and ${METADATA_FILE})`
    : `${message}; the bundle is damaged, copy it again`))).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BundleError(`${file}: invalid JSON (${(err as Error).message}); the bundle is damaged`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BundleError(`${file}: holds ${value === null ? 'null' : typeof value} instead of a JSON object; the bundle is damaged`);
  return value as T;
}

async function captureArtifacts(model: LayersModel): Promise<io.ModelArtifacts> {
  let captured: io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    captured = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return captured!;
}

function concatWeightData(data: io.ModelArtifacts['weightData']): ArrayBuffer {
  if (!data) return new ArrayBuffer(0);
  if (!Array.isArray(data)) return data;
  // Buffer.concat may hand back a slice of a shared pool; copy into a buffer of exactly our size.
  const out = new Uint8Array(data.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), at);
    at += b.byteLength;
  }
  return out.buffer;
}

function bytesPerElement(dtype: string): number {
  return dtype === 'float32' || dtype === 'int32' ? 4 : dtype === 'bool' || dtype === 'uint8' ? 1 : dtype === 'float16' ? 2 : 4;
}
