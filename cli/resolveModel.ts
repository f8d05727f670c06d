import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OptionError } from '../src/base/errors.js';
import { packageRoot } from '../src/base/packageRoot.js';

/** The bundle directory to use: --model when given, else the default model shipped in the package. */
export function resolveModelDir(model: string | undefined): string {
  if (model) return model;
  const bundled = join(packageRoot().dir, 'models', 'default');
  if (existsSync(join(bundled, 'happysad.json'))) return bundled;
  throw new OptionError('no --model given and no default model is installed; pass --model MODEL_DIR (a folder written by `happysad train`)');
}
