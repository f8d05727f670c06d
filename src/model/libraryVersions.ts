import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packageRoot } from '../base/packageRoot.js';

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    // Packages whose "exports" leave package.json out (sharp): walk up from their entry point.
    try {
      for (let dir = dirname(require.resolve(pkg)); dir !== dirname(dir); dir = dirname(dir)) {
        const file = join(dir, 'package.json');
        if (!existsSync(file)) continue;
        const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (json.name === pkg && json.version) return json.version;
      }
    } catch {
      // fall through
    }
    return 'unknown';
  }
}

/** Versions recorded in every bundle, so a result can be traced to the code that produced it. */
export function libraryVersions(): Record<string, string> {
  return {
    happysad: packageRoot().version,
    '@tensorflow/tfjs': versionOf('@tensorflow/tfjs'),
    '@tensorflow/tfjs-backend-wasm': versionOf('@tensorflow/tfjs-backend-wasm'),
    sharp: versionOf('sharp'),
    node: process.versions.node,
  };
}
