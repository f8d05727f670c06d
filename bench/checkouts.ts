/**
 * Builds of the code being compared in one benchmark run ("before" and "after"): a `--before REF`
 * commit is exported into a temporary folder (git archive: the working tree is not touched),
 * given this checkout's node_modules and built, so that its CLI and browser library run beside
 * this checkout's on the same machine in the same minutes. Figures on these 2-core machines move
 * by 20% with load; only side-by-side runs make a before/after ratio mean something.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Checkout {
  /** 'before', 'after', or what --roots named it. */
  name: string;
  /** The repository folder: dist/cli/main.js, scripts/buildBrowser.ts, models/ below it. */
  dir: string;
}

/** `name=DIR,name=DIR` (what bench/run.ts passes down), or this checkout alone. */
export function parseRoots(value: string | undefined): Checkout[] {
  if (!value) return [{ name: 'after', dir: resolve('.') }];
  return value.split(',').map((pair) => {
    const [name, dir] = pair.split('=');
    if (!name || !dir) throw new Error(`--roots takes name=DIR pairs separated by commas, got '${pair}'`);
    return { name, dir: resolve(dir) };
  });
}

export const formatRoots = (roots: Checkout[]): string => roots.map((r) => `${r.name}=${r.dir}`).join(',');

/** `ref` exported and built (tsc) once per commit, reused by later runs. */
export function prepareCheckout(ref: string): Checkout {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = join(tmpdir(), `happysad-bench-${sha.slice(0, 12)}`);
  if (!existsSync(join(dir, 'dist/cli/main.js'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('bash', ['-c', `git archive ${sha} | tar -x -C ${JSON.stringify(dir)}`]);
    if (!existsSync(join(dir, 'node_modules'))) symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  }
  return { name: 'before', dir };
}
