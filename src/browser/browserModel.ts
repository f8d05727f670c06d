/// <reference lib="dom" />
import type { GraphModel, LayersModel, io } from '@tensorflow/tfjs';
import { BundleError, OptionError } from '../base/errors.js';
import { facesToModelInputs, modelInputsOf, type FaceDecoded, type FaceFinder } from '../faces/faceStep.js';
import { concatPixels, hasPortableResize, rgbToModelInput } from '../input/modelInput.js';
import { blazeFaceFinder, createBlazeFace, prepareBlazeNet } from '../faces/blazeFaceCore.js';
import type { BundleMetadata } from '../model/bundleMetadata.js';
import { validateMetadata } from '../model/validateMetadata.js';
import { letterboxPixels } from '../pixels/letterboxPixels.js';
import { resizeInside } from '../pixels/resizePixels.js';
import { interpretOutput } from '../predict/interpretOutput.js';
import { forcedChoicePair } from '../predict/forcedChoice.js';
import { predictionRow, type PredictionRow } from '../predict/predictionRow.js';
import { forwardPass } from '../runtime/forwardPass.js';
import { modelFromArtifacts } from '../engine/modelFromTopology.js';
import { backendCandidates, tf, useBackend, type BackendChoice, type EngineInfo } from './browserEngine.js';
import { decodeImageSource, type ImageSource } from './decodeImageSource.js';
import type { Pixels } from '../pixels/pixels.js';
import type { FaceBox } from '../faces/types.js';
import { FrameStream, type FrameStreamOptions } from './frameStream.js';

export interface BrowserLoadOptions {
  /**
   * 'auto' (default) times a probe on each usable backend and keeps the fastest: wasm always, WebGL
   * only on a hardware GPU rendering 32-bit floats. 'wasm' or 'webgl' forces one.
   */
  backend?: BackendChoice;
  /** wasm threads: 'auto' (default) uses them on a cross-origin-isolated page with 4+ cores. */
  threads?: number | 'auto';
  /**
   * Folder holding the library's own files (the .wasm binaries, faces/blazeface-*): by default the
   * folder happysad.js was loaded from, which is how `happysad serve` and `npm run build:web` lay them out.
   */
  libraryUrl?: string | URL;
}

export interface BrowserPredictOptions {
  /** For a face model, false classifies the whole image instead (as `predict --no-faces`). */
  faces?: boolean;
  /** Decide between two classes only (happy or sad, never neutral), as `predict --forced-choice`. */
  forcedChoice?: boolean;
}

const FACE_NETS = { blazeface: 'back', 'blazeface-front': 'front' } as const;

/** The bundle folder's URL from what the caller gave: the folder, or its happysad.json. */
function bundleBase(url: string | URL): URL {
  const u = new URL(String(url), globalThis.location?.href);
  if (u.pathname.endsWith('/happysad.json')) return new URL('./', u);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u;
}

async function fetchJson<T>(url: URL, what: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new BundleError(`${url}: cannot fetch the ${what} (${(err as Error).message}); check the URL and that the page may read it`, { cause: err });
  }
  if (!response.ok) throw new BundleError(`${url}: the server answered ${response.status} for the ${what}; check the URL`);
  try {
    return (await response.json()) as T;
  } catch (err) {
    throw new BundleError(`${url}: the ${what} is not JSON`, { cause: err });
  }
}

/** A bundle or face net read into memory once, so each backend tried builds its model without a second download. */
async function fetchArtifacts(url: URL, what: string): Promise<io.ModelArtifacts> {
  try {
    return await tf.io.browserHTTPRequest(String(url)).load!();
  } catch (err) {
    throw new BundleError(`${url}: cannot load the ${what} (${(err as Error).message})`, { cause: err });
  }
}

interface Nets {
  model: LayersModel;
  faces?: FaceFinder;
  graphs: GraphModel[];
}

/** A happysad model running in the page: the same bundle files, preprocessing and answers as Node. */
export class BrowserModel {
  private constructor(
    readonly metadata: BundleMetadata,
    readonly engine: EngineInfo,
    private readonly nets: Nets,
  ) {}

  /** Whether this model classifies faces found in images (its preprocessing says so). */
  get expectsFaces(): boolean {
    return Boolean(this.metadata.preprocessing.faces);
  }

  static async load(url: string | URL, options: BrowserLoadOptions = {}): Promise<BrowserModel> {
    const base = bundleBase(url);
    const metaUrl = new URL('happysad.json', base);
    const metadata = await fetchJson<BundleMetadata>(metaUrl, 'model description (happysad.json)');
    validateMetadata(metadata, String(metaUrl));
    const spec = metadata.preprocessing;
    if (!hasPortableResize(spec)) throw new BundleError(`${metaUrl}: preprocessing resize '${spec.resize}' / kernel '${spec.kernel}' runs only in Node (sharp); the browser build follows 'fill' with linear, cubic or lanczos3. Run this model with \`happysad serve\`.`);
    const variant = spec.faces ? FACE_NETS[spec.faces.detector as keyof typeof FACE_NETS] : undefined;
    if (spec.faces && !variant) throw new BundleError(`${metaUrl}: this model finds faces with '${spec.faces.detector}', which the browser build does not ship (it has BlazeFace); run it with \`happysad serve\`, or retrain with --detector blazeface`);
    const library = new URL('./', options.libraryUrl ?? new URL('./', import.meta.url));
    const [modelArtifacts, ...faceArtifacts] = await Promise.all([
      fetchArtifacts(new URL('model.json', base), 'model (model.json and its weights)'),
      ...(variant ? (['back', 'front'] as const).filter((v) => v === variant || (v === 'front' && variant === 'back')).map((v) => fetchArtifacts(new URL(`faces/blazeface-${v}.json`, library), `BlazeFace ${v} face detector`)) : []),
    ]);

    const build = async (): Promise<Nets> => {
      // Not tf.loadLayersModel: it draws every nested member's weights at random first (see modelFromArtifacts).
      const model = await modelFromArtifacts(tf, modelArtifacts!.modelTopology as object, modelArtifacts!.weightSpecs ?? [], modelArtifacts!.weightData ?? new ArrayBuffer(0));
      if (!variant || !spec.faces) return { model, graphs: [] };
      const graphs = await Promise.all(faceArtifacts.map((a) => tf.loadGraphModel(tf.io.fromMemory(a))));
      const [net, closeUp] = graphs.map((g, i) => prepareBlazeNet(tf, g, `BlazeFace ${i === 0 ? variant : 'front'}`));
      const detector = createBlazeFace({ tf, letterbox: letterboxPixels, net: net!, closeUp }, variant, { minScore: spec.faces.minScore });
      return { model, faces: blazeFaceFinder(detector, spec.faces.align), graphs };
    };

    const candidates = backendCandidates(options.backend ?? 'auto');
    const threads = options.threads ?? 'auto';
    if (typeof threads === 'number' && !(Number.isInteger(threads) && threads >= 1)) throw new OptionError(`threads must be a positive integer or 'auto', got ${threads}`);
    const measured: EngineInfo['measured'] = {};
    if (candidates.length > 1) {
      for (const name of candidates) {
        try {
          await useBackend(name, String(library), threads);
          const trial = new BrowserModel(metadata, { backend: name, threads: 1 }, await build());
          measured[name] = await trial.probe();
          trial.dispose();
        } catch {
          // A backend that fails to start or to run the nets is simply not chosen.
        }
      }
    }
    const timed = Object.entries(measured) as [EngineInfo['backend'], number][];
    const best = timed.length > 0 ? timed.sort((a, b) => a[1] - b[1])[0]![0] : candidates[0]!;
    const engine = await useBackend(best, String(library), threads);
    if (timed.length > 0) engine.measured = measured;
    return new BrowserModel(metadata, engine, await build());
  }

  /** Median milliseconds of a gray 320x240 frame through the whole pipeline, after one warm-up. */
  private async probe(): Promise<number> {
    const frame: Pixels<3> = { data: new Uint8Array(320 * 240 * 3).fill(128), width: 320, height: 240, channels: 3 };
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t = performance.now();
      await this.predictPixels(frame);
      if (i > 0) times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b)[1]!;
  }

  /**
   * Classifies one image, video frame or canvas. The answer has the row shape of `predict --json`
   * (label, score, probabilities; for a face model faces[] or face: 'none-found' | 'is-crop').
   */
  async predict(image: ImageSource, options: BrowserPredictOptions = {}): Promise<PredictionRow> {
    return this.predictPixels(await this.decode(image), options);
  }

  /** predict() on pixels already decoded to RGB (what decodeImageSource gives). */
  async predictPixels(rgb: Pixels<3>, options: BrowserPredictOptions = {}): Promise<PredictionRow> {
    return (await this.predictNear(rgb, options, undefined)).row;
  }

  /**
   * The frames of one camera or video (FrameStream): each follows the faces of the one before, so
   * a frame costs less than a photo; the rows are predict()'s.
   */
  stream(options: FrameStreamOptions = {}): FrameStream {
    return new FrameStream(async (source, o, near) => this.predictNear(await this.decode(source), o, near), options);
  }

  /** An image, frame or canvas as RGB pixels, transparency on the model's background. */
  private decode(image: ImageSource): Promise<Pixels<3>> {
    return decodeImageSource(image, this.metadata.preprocessing.background);
  }

  /** predictPixels(), the faces looked for around `near` first (FaceStepOptions.near). */
  private async predictNear(rgb: Pixels<3>, options: BrowserPredictOptions, near: readonly FaceBox[] | undefined): Promise<{ row: PredictionRow; followed: boolean }> {
    const spec = this.metadata.preprocessing;
    const interpret = { forcedChoice: options.forcedChoice };
    // Refused before the face search: a model forced choice cannot apply to fails at once.
    if (interpret.forcedChoice) forcedChoicePair(this.metadata);
    const finder = this.nets.faces;
    let faces: FaceDecoded | undefined;
    let images: Pixels[];
    if (finder && options.faces !== false) {
      // Node shrinks big photos for the face search with sharp's lanczos3: resizeInside is the same resize.
      faces = await facesToModelInputs(rgb, spec, finder, { shrink: (im, side) => resizeInside(im, side, side) as Pixels<3>, near });
      images = modelInputsOf(faces);
    } else {
      images = [rgbToModelInput(rgb, spec)];
    }
    const raw = forwardPass(tf, this.nets.model, concatPixels(images), images.length, spec, Math.max(1, images.length));
    return { row: predictionRow(this.metadata, interpretOutput(raw, images.length, this.metadata, interpret), faces), followed: faces?.followed === true };
  }

  /** Frees the model's and the face nets' memory. */
  dispose(): void {
    this.nets.model.dispose();
    for (const g of this.nets.graphs) g.dispose();
  }
}
