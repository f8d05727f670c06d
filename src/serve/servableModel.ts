import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { Prediction, PredictOptions } from '../predict/classifier.js';

/**
 * What the server needs from a model: the part of `Classifier` it calls. Narrow on purpose, so a
 * test can wrap a real classifier (to hold a prediction open and fill the queue) without
 * reaching into its internals.
 */
export interface ServableModel {
  readonly metadata: BundleMetadata;
  readonly expectsFaces: boolean;
  /** The bundle folder it was loaded from, if any: its files are served to pages that run the model on the device. */
  readonly bundleDir?: string;
  predict(inputs: Uint8Array[], options?: PredictOptions): Promise<Prediction[]>;
  close(): Promise<void>;
}
