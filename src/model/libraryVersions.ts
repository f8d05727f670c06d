import { createRequire } from 'node:module';
import { packageRoot } from '../packageRoot.js';

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
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
