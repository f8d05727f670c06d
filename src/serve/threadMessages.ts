import type { BundleMetadata } from '../model/bundleMetadata.js';
import type { Prediction, PredictOptions } from '../predict/classifier.js';

export type ThreadRequest =
  | { type: 'init'; dir: string; warmup: boolean }
  | { type: 'predict'; id: number; inputs: Uint8Array[]; options?: PredictOptions };

export type ThreadReply =
  | { type: 'ready'; metadata: BundleMetadata; expectsFaces: boolean }
  | { type: 'failed'; code?: string; message: string }
  | { type: 'result'; id: number; rows: Prediction[] }
  | { type: 'error'; id: number; message: string };
