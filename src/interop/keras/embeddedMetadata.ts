import type { BundleMetadata } from '../../model/bundleMetadata.js';

/**
 * Root attribute in which a happysad export keeps the bundle's metadata. Keras ignores it; a
 * later import uses it to restore class names, threshold and preprocessing exactly.
 */
export const HAPPYSAD_METADATA_ATTR = 'happysad_metadata';

export interface EmbeddedMetadata {
  bundle: BundleMetadata;
  /**
   * True when the export negated the last Dense layer so that the sigmoid unit measures the
   * second class, as Keras code assumes; import negates it back to restore the bundle exactly.
   */
  outputNegated: boolean;
}
