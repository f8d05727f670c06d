import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { Prediction, PredictOptions } from '../predict/classifier.js';
import type { VideoAnswer, VideoUploadOptions } from './videoUpload.js';

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
  /**
   * A short posted video's rows and track summaries; a model without it answers videos with 415.
   * `signal` ends the request: the work must stop soon after (ffmpeg killed), since it holds a slot.
   */
  predictVideoUpload?(bytes: Uint8Array, name: string, options: VideoUploadOptions, signal?: AbortSignal): Promise<VideoAnswer>;
  close(): Promise<void>;
}
