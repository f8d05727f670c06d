import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../base/packageRoot.js';
import { BundleError } from '../base/errors.js';
import { METADATA_FILE } from './bundleOutput.js';

/** The name loadModel() takes for the default model; any other string is a folder path (`./default` for a folder so named). */
export const DEFAULT_MODEL = 'default';

/**
 * The folder of the default face model shipped in the package (models/default), wherever the
 * package is installed: a project's node_modules, a global install or this repository.
 */
export function defaultModelDir(): string {
  return join(packageRoot().dir, 'models', 'default');
}

/** The bundle folder `model` names: the default model's for undefined or 'default', else `model` itself. */
export function resolveBundleDir(model: string | undefined): string {
  if (model !== undefined && model !== DEFAULT_MODEL) return model;
  const dir = defaultModelDir();
  if (!existsSync(join(dir, METADATA_FILE))) {
    throw new BundleError(`the default model is not installed (${join(dir, METADATA_FILE)} is missing); reinstall happysad, or pass a bundle folder written by \`happysad train\``);
  }
  return dir;
}
