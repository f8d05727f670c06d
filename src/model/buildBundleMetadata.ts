import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleMetadata } from './bundleMetadata.js';
import { libraryVersions } from './libraryVersions.js';

/**
 * The one place a bundle's record is assembled (training, ensembling and Keras import all come
 * here): the format stamp, the library versions and the creation time are filled in the same way
 * for every model, so no producer can forget one.
 */
export function buildBundleMetadata(fields: Omit<BundleMetadata, 'format' | 'formatVersion' | 'versions' | 'createdAt'>, extraVersions: Record<string, string> = {}): BundleMetadata {
  return { format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, ...fields, versions: { ...libraryVersions(), ...extraVersions }, createdAt: new Date().toISOString() };
}
