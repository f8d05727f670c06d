import { availableParallelism } from 'node:os';
import { initEngine } from '../engine/engine.js';
import { resolveBundleDir } from '../model/defaultModel.js';
import { decodeImage } from '../input/decodeImage.js';
import { concatPixels } from '../input/modelInput.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../input/imageLimits.js';
import { inspectImageBytes } from '../input/inspectImage.js';
import { messageOf } from '../base/messageOf.js';
import { readFile } from 'node:fs/promises';
import { HappysadError } from '../base/errors.js';
import { mapConcurrent } from '../base/mapConcurrent.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import { readBundle, type ModelBundle } from '../model/modelBundle.js';
import { interpretOutput, type ClassDecision, type InterpretOptions } from './interpretOutput.js';
import { forcedChoicePair } from './forcedChoice.js';
import { predictionRow, type FacePrediction, type Prediction } from './predictionRow.js';
import { ParallelPredictor } from '../runtime/parallelPredictor.js';
import { DEFAULT_PREDICTION_BATCH } from '../runtime/predictionBatch.js';
import { FacePipeline, type FaceDecoded } from '../faces/facePipeline.js';
import { modelInputsOf } from '../faces/faceStep.js';
import type { PredictVideoOptions, VideoErrorRow, VideoRow } from './predictVideo.js';
import type { Pixels } from '../pixels/pixels.js';


export type { FacePrediction, Prediction };

export interface PredictOptions {
  /** Images per forward pass (default DEFAULT_PREDICTION_BATCH, 32). */
  batch?: number;
  limits?: ImageLimits;
  /** For a face model, false classifies whole images instead (default true). */
  faces?: boolean;
  /**
   * Keep each image's face crops in the face-crop cache ($HAPPYSAD_CACHE, else $XDG_CACHE_HOME/happysad or ~/.cache/happysad)
   * and reuse them when the same image comes again (default false: the server never writes faces
   * to disk). The CLI's predict turns it on.
   */
  cache?: boolean;
  /** Put each file's SHA-256 in its row (default false). */
  hashes?: boolean;
  /** What each input is called in its row and messages (default: its path, or `#i` for bytes). */
  names?: readonly string[];
  /**
   * Decide between two classes only (happy or sad, never neutral; see forcedChoicePair): the other
   * classes' probabilities are 0 and the pair's are renormalised. No change for a two-class model;
   * a model it cannot apply to is refused (OptionError) before any image is read.
   */
  forcedChoice?: boolean;
}

export type ImageInput = string | Uint8Array;

/** A loaded model ready to classify images; what `loadModel` returns. */
export class Classifier {
  private faceStep: Promise<FacePipeline> | undefined;

  /**
   * `threads`: how many threads face cropping may use, as many as the forward passes.
   * `ownsModel`: close() disposes the bundle's model (false when the caller lent it).
   */
  constructor(readonly bundle: ModelBundle, private readonly predictor: ParallelPredictor, private readonly threads = 1, private readonly ownsModel = true) {}

  /** Whether this model classifies faces found in images (its preprocessing says so). */
  get expectsFaces(): boolean {
    return Boolean(this.metadata.preprocessing.faces);
  }

  /** The folder the bundle was read from ('' for one built in memory). */
  get bundleDir(): string | undefined {
    return this.bundle.dir || undefined;
  }

  get metadata(): BundleMetadata {
    return this.bundle.metadata;
  }

  /** Threads running forward passes (this one included). */
  get workerCount(): number {
    return this.predictor.workerCount;
  }

  /**
   * Classifies files or encoded image buffers. A file that cannot be decoded yields a row with
   * `error` and the rest go on: one bad photo never loses the others' results. The next batch is
   * decoded (on libuv's threads) while the model runs on the current one.
   */
  async predict(inputs: ImageInput | ImageInput[], options: PredictOptions = {}): Promise<Prediction[]> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const interpret: InterpretOptions = { forcedChoice: options.forcedChoice };
    // A model forced choice cannot apply to is refused here, before any image is read or decoded.
    if (interpret.forcedChoice) forcedChoicePair(this.metadata);
    const batch = options.batch ?? DEFAULT_PREDICTION_BATCH;
    const limits = options.limits ?? DEFAULT_IMAGE_LIMITS;
    const spec = this.metadata.preprocessing;
    const useFaces = this.expectsFaces && options.faces !== false;
    const faces = useFaces ? await this.facePipeline() : undefined;
    type Decoded = { name: string; sha256?: string; images: Pixels[]; faces?: FaceDecoded } | { name: string; sha256?: string; error: { code: string; message: string } };
    const decodeBatch = (start: number) =>
      mapConcurrent(list.slice(start, start + batch), Math.max(2, availableParallelism(), faces?.jobsAtOnce ?? 0), async (input, j): Promise<Decoded> => {
        const name = options.names?.[start + j] ?? (typeof input === 'string' ? input : `#${start + j}`);
        let sha256: string | undefined;
        let bytes: Uint8Array | undefined;
        try {
          // Read once: the same bytes are screened, hashed and decoded (and explain a failure).
          bytes = typeof input === 'string' ? await readFile(input) : input;
          // The same acceptance test as clean and serve, from the bytes, before any decoding.
          const screened = await inspectImageBytes(bytes, limits, { decodeCheck: false });
          sha256 = options.hashes ? screened.sha256 : undefined;
          if (!screened.ok) return { name, sha256, error: { code: `image-${screened.problem}`, message: `${name}: ${screened.detail}` } };
          if (!faces) return { name, sha256, images: [await decodeImage(bytes, spec, limits, name)] };
          const found = await faces.photo({ input: bytes, limits, name, size: { width: screened.width, height: screened.height }, sha256: screened.sha256, cache: options.cache });
          return { name, sha256, faces: found, images: modelInputsOf(found) };
        } catch (err) {
          return { name, sha256, error: await explainFailure(bytes, name, limits, err) };
        }
      });
    const out: Prediction[] = [];
    let next = list.length > 0 ? decodeBatch(0) : undefined;
    for (let start = 0; next; start += batch) {
      const decoded = await next;
      next = start + batch < list.length ? decodeBatch(start + batch) : undefined;
      const images = decoded.flatMap((d) => ('images' in d ? d.images : []));
      const decisions = await this.classifyDecoded(images, interpret);
      let g = 0;
      for (const d of decoded) {
        const hash = d.sha256 ? { sha256: d.sha256 } : {};
        if (!('images' in d)) {
          out.push({ file: d.name, ...hash, error: d.error });
          continue;
        }
        const mine = decisions.slice(g, g + d.images.length);
        g += d.images.length;
        out.push({ file: d.name, ...hash, ...predictionRow(this.metadata, mine, d.faces) });
      }
    }
    return out;
  }

  /**
   * A video's rows, one per sampled frame and face, as an async iterator: stop early with `break`,
   * or stream them. Frames come from ffmpeg (see predictVideo). The video code (frames, tracker,
   * smoothing) loads with the first video: a run on photos never needs it.
   */
  async *predictVideo(file: string, options: PredictVideoOptions = {}): AsyncGenerator<VideoRow | VideoErrorRow> {
    const { predictVideo } = await import('./predictVideo.js');
    yield* predictVideo(this, file, options);
  }

  /**
   * The model's face step (see FacePipeline), started at the first prediction that needs it
   * (evaluate and --no-faces never do) on as many threads as the forward passes; its extra threads
   * come up in the background while this thread already works.
   */
  facePipeline(): Promise<FacePipeline> {
    if (!this.expectsFaces) throw new RangeError('facePipeline: this model does not classify faces');
    this.faceStep ??= FacePipeline.create(this.metadata.preprocessing, { threads: this.threads, background: true });
    return this.faceStep;
  }

  /** Classifies images already decoded by the bundle's preprocessing (the fast path for evaluation). */
  async classifyPixels(pixels: Uint8Array, n: number, batch = DEFAULT_PREDICTION_BATCH, options: InterpretOptions = {}): Promise<ClassDecision[]> {
    if (n === 0) return [];
    return interpretOutput(await this.predictor.predict(pixels, n, batch), n, this.metadata, options);
  }

  async classifyDecoded(images: Pixels[], options: InterpretOptions = {}): Promise<ClassDecision[]> {
    return this.classifyPixels(concatPixels(images), images.length, Math.max(1, images.length), options);
  }

  /** Frees the model's memory and ends its worker threads. */
  async close(): Promise<void> {
    if (this.faceStep) await (await this.faceStep).close();
    await this.predictor.close();
    if (this.ownsModel) this.bundle.model.dispose();
  }

  dispose(): void {
    void this.close();
  }
}

/**
 * Says why an image could not be used, from its content (the same checks as `clean`), rather
 * than passing on the decoder's message.
 */
async function explainFailure(bytes: Uint8Array | undefined, name: string, limits: ImageLimits, err: unknown): Promise<{ code: string; message: string }> {
  if (!bytes) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { code: 'not-found', message: `${name}: no such file` } : { code: 'unreadable', message: `${name}: cannot read file (${code ?? messageOf(err)})` };
  }
  const inspected = await inspectImageBytes(bytes, limits);
  if (!inspected.ok) return { code: `image-${inspected.problem}`, message: `${name}: ${inspected.detail}` };
  return { code: err instanceof HappysadError ? err.code : 'decode', message: messageOf(err) };
}

export interface LoadModelOptions {
  /** Threads for forward passes, this one included (default 1; the CLI uses every core). */
  workers?: number;
}

/**
 * Loads a model bundle folder for prediction; with no folder (or 'default'), the default face
 * model shipped in the package, wherever it is installed.
 */
export async function loadModel(dir?: string, options: LoadModelOptions = {}): Promise<Classifier> {
  const bundleDir = resolveBundleDir(dir);
  await initEngine();
  return startClassifier(await readBundle(bundleDir), options, true);
}

/**
 * A Classifier on a bundle already in memory (just trained, or just built by ensembleBundles),
 * with no round trip through disk. The model stays the caller's: close() leaves it undisposed.
 */
export async function createClassifier(bundle: ModelBundle, options: LoadModelOptions = {}): Promise<Classifier> {
  await initEngine();
  return startClassifier(bundle, options, false);
}

async function startClassifier(bundle: ModelBundle, options: LoadModelOptions, ownsModel: boolean): Promise<Classifier> {
  const m = bundle.metadata;
  const workers = options.workers ?? 1;
  // Replicas load their own engine and model (~0.5 s each): they start in the background and join
  // when ready, so this thread is already classifying meanwhile.
  const predictor = await ParallelPredictor.create(bundle.model, m.preprocessing, m.output, workers, { background: true });
  return new Classifier(bundle, predictor, workers, ownsModel);
}
