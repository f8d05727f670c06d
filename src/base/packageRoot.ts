import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { dir: string; version: string } | undefined;

/**
 * The installed happysad package's folder, found by walking up from this file. Works the same
 * from src/ (tsx, tests) and from dist/src/ (the built CLI), which sit at different depths.
 */
export function packageRoot(): { dir: string; version: string } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'happysad') {
        cached = { dir, version: pkg.version ?? '0.0.0' };
        return cached;
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('happysad: cannot find its own package.json');
    dir = up;
  }
}
