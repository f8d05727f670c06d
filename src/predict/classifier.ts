import { availableParallelism } from 'node:os';
import { initEngine } from '../engine/engine.js';
import { decodeImage, type RawImage } from '../data/decodeImage.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../data/imageLimits.js';
import { inspectImageBytes, messageOf } from '../data/inspectImage.js';
import { readFile } from 'node:fs/promises';
import { HappysadError } from '../errors.js';
import { mapConcurrent } from '../mapConcurrent.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import { readBundle, type ModelBundle } from '../model/modelBundle.js';
import { interpretOutput, type ClassDecision } from './interpretOutput.js';
import { predictRaw } from './predictRaw.js';

export interface Prediction {
  /** The file path, or `#i` for an in-memory buffer. */
  file: string;
  label?: string;
  score?: number;
  probabilities?: Record<string, number>;
  error?: { code: string; message: string };
}

export interface PredictOptions {
  /** Images per forward pass (default 32). */
  batch?: number;
  limits?: ImageLimits;
}

export type ImageInput = string | Uint8Array;

/** A loaded model ready to classify images; what `loadModel` returns. */
export class Classifier {
  constructor(readonly bundle: ModelBundle) {}

  get metadata(): BundleMetadata {
    return this.bundle.metadata;
  }

  /**
   * Classifies files or encoded image buffers. A file that cannot be decoded yields a row with
   * `error` and the rest go on: one bad photo never loses the others' results.
   */
  async predict(inputs: ImageInput | ImageInput[], options: PredictOptions = {}): Promise<Prediction[]> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const batch = options.batch ?? 32;
    const out: Prediction[] = [];
    for (let start = 0; start < list.length; start += batch) {
      const chunk = list.slice(start, start + batch);
      const decoded = await mapConcurrent(chunk, Math.max(2, availableParallelism()), async (input, j) => {
        const name = typeof input === 'string' ? input : `#${start + j}`;
        const limits = options.limits ?? DEFAULT_IMAGE_LIMITS;
        try {
          return { name, image: await decodeImage(input, this.metadata.preprocessing, limits, name) };
        } catch (err) {
          return { name, error: await explainFailure(input, name, limits, err) };
        }
      });
      const good = decoded.filter((d): d is { name: string; image: RawImage } => 'image' in d);
      const decisions = this.classifyDecoded(good.map((d) => d.image));
      let g = 0;
      for (const d of decoded) out.push('image' in d ? this.toPrediction(d.name, decisions[g++]) : { file: d.name, error: d.error });
    }
    return out;
  }

  /** Classifies images already decoded by the bundle's preprocessing (the fast path for evaluation). */
  classifyPixels(pixels: Uint8Array, n: number, batch = 32): ClassDecision[] {
    return interpretOutput(predictRaw(this.bundle.model, pixels, n, this.metadata.preprocessing, batch), n, this.metadata);
  }

  classifyDecoded(images: RawImage[]): ClassDecision[] {
    const size = images[0] ? images[0].data.length : 0;
    const pixels = new Uint8Array(images.length * size);
    images.forEach((im, i) => pixels.set(im.data, i * size));
    return this.classifyPixels(pixels, images.length);
  }

  toPrediction(file: string, d: ClassDecision): Prediction {
    const classes = this.metadata.classes;
    return {
      file,
      label: classes[d.labelIndex],
      score: d.score,
      probabilities: Object.fromEntries(classes.map((c, k) => [c, d.probabilities[k]])),
    };
  }

  dispose(): void {
    this.bundle.model.dispose();
  }
}

/**
 * Says why an image could not be used, from its content (the same checks as `clean`), rather
 * than passing on the decoder's message.
 */
async function explainFailure(input: ImageInput, name: string, limits: ImageLimits, err: unknown): Promise<{ code: string; message: string }> {
  let bytes: Uint8Array;
  try {
    bytes = typeof input === 'string' ? await readFile(input) : input;
  } catch (readErr) {
    const code = (readErr as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { code: 'not-found', message: `${name}: no such file` } : { code: 'unreadable', message: `${name}: cannot read file (${code ?? messageOf(readErr)})` };
  }
  const inspected = await inspectImageBytes(bytes, limits);
  if (!inspected.ok) return { code: `image-${inspected.problem}`, message: `${name}: ${inspected.detail}` };
  return { code: err instanceof HappysadError ? err.code : 'decode', message: messageOf(err) };
}

/** Loads a model bundle directory for prediction. */
export async function loadModel(dir: string): Promise<Classifier> {
  await initEngine();
  return new Classifier(await readBundle(dir));
}
