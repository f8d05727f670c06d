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

/** What runIdentity adds for a forced-choice run. */
export const FORCED_CHOICE_MARK = '+forced-choice';

/**
 * What a results row records of the run that wrote it: the model and, when the run was asked for a
 * forced choice that changes the answers (a model with more than two classes), that mark. So a
 * resumed --out run refuses to mix forced-choice rows with the model's own answers.
 */
export function runIdentity(metadata: BundleMetadata, options: { forcedChoice?: boolean } = {}): string {
  return `${modelIdentity(metadata)}${options.forcedChoice && metadata.classes.length > 2 ? FORCED_CHOICE_MARK : ''}`;
}
