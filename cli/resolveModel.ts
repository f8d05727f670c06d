import { OptionError } from '../src/base/errors.js';
import { resolveBundleDir } from '../src/model/defaultModel.js';

/** The bundle directory to use: --model when given, else the default model shipped in the package. */
export function resolveModelDir(model: string | undefined): string {
  if (model) return model;
  try {
    return resolveBundleDir(undefined);
  } catch {
    throw new OptionError('no --model given and no default model is installed; pass --model MODEL_DIR (a folder written by `happysad train`)');
  }
}
