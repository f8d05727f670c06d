/**
 * happysad in the browser: `loadModel(url)` reads a bundle folder (happysad.json, model.json and its
 * weights) and returns a model whose `predict(image)` gives the same answers as Node's, computed
 * on the device: nothing leaves the page.
 *
 *   import { loadModel } from '/lib/happysad.js';
 *   const model = await loadModel();                     // the default model, or loadModel('/v1/model/files/')
 *   const row = await model.predict(document.querySelector('video'));
 */
import { BrowserModel, type BrowserLoadOptions } from './browserModel.js';

export { BrowserModel, type BrowserLoadOptions, type BrowserPredictOptions } from './browserModel.js';
export type { BackendChoice, BackendName, EngineInfo } from './browserEngine.js';
export type { ImageSource } from './decodeImageSource.js';
export { FrameStream, type FrameStreamOptions, type StreamPredictOptions } from './frameStream.js';
export type { FacePrediction, PredictionRow } from '../predict/predictionRow.js';
export type { BundleMetadata } from '../model/bundleMetadata.js';
export { BundleError, HappysadError, ImageError, OptionError } from '../base/errors.js';
// What a page does with a stream of rows (a camera): follow each face, steady its scores, decide
// as the model decides. The same code as `predict --every`'s tracks and smoothing.
export { FaceTracker, type FaceTrackerOptions } from '../predict/faceTracker.js';
export { TrailingMean } from '../predict/trailingMean.js';
export { decideClass, type DecisionRule, type InterpretOptions } from '../predict/interpretOutput.js';

/**
 * Where the default model is: `model/` beside the library's folder (options.libraryUrl, else the
 * folder happysad.js was loaded from), as `npm run build:web` lays out a static site
 * (lib/happysad.js, model/) and `happysad serve` serves it (/lib/, /model/).
 */
export function defaultModelUrl(libraryUrl?: string | URL): URL {
  return new URL('../model/', new URL('./', libraryUrl ?? import.meta.url));
}

/**
 * Loads the bundle at `url` (its folder, or its happysad.json) onto the fastest backend here; with
 * no URL (or 'default'), the default model beside the library (defaultModelUrl()).
 */
export function loadModel(url?: string | URL, options?: BrowserLoadOptions): Promise<BrowserModel> {
  return BrowserModel.load(url === undefined || url === 'default' ? defaultModelUrl(options?.libraryUrl) : url, options);
}
