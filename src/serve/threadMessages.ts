import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { Prediction, PredictOptions } from '../predict/classifier.js';
import type { VideoAnswer, VideoUploadOptions } from './videoUpload.js';

export type ThreadRequest =
  | { type: 'init'; dir: string; warmup: boolean }
  | { type: 'predict'; id: number; inputs: Uint8Array[]; options?: PredictOptions }
  | { type: 'video'; id: number; bytes: Uint8Array; name: string; options: VideoUploadOptions }
  /** The request of job `id` is over (timed out, client gone): stop it and free the thread. */
  | { type: 'cancel'; id: number };

export type ThreadReply =
  | { type: 'ready'; metadata: BundleMetadata; expectsFaces: boolean }
  | { type: 'failed'; code?: string; message: string }
  | { type: 'result'; id: number; rows: Prediction[] }
  | { type: 'video-result'; id: number; answer: VideoAnswer }
  | { type: 'error'; id: number; message: string; code?: string };
