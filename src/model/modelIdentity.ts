import { createHash } from 'node:crypto';
import type { BundleMetadata } from './bundleMetadata.js';

/**
 * What a results row records of the model that wrote it: its name and a hash of its description
 * (classes, preprocessing, threshold, training record, creation time), so two trainings of one
 * architecture differ. A queue producer knows only the description its workers announce, so the
 * weights are not hashed.
 */
export function modelIdentity(metadata: BundleMetadata): string {
  return `${metadata.name}@${createHash('sha256').update(JSON.stringify(metadata)).digest('hex').slice(0, 12)}`;
}
