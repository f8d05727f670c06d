import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync, version as esbuildVersion } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** What a child process may run: the library, the CLI, and the runners tests start on their own. */
const SOURCES = ['src', 'cli'];
const RUNNERS = ['test/serve/runServeCommand.ts'];

let built: string | undefined;

/**
 * The repo's TypeScript as plain JavaScript, for the CLI processes tests start by the hundred:
 * esbuild's per-file transform (the one tsx applies on every start), written once per version of
 * the sources under .cache/test-cli/ inside the repo, so that packageRoot() and node_modules
 * resolve as they do from src/. Started from there, a child needs no tsx loader thread (nor do its
 * worker threads): ~0.3 s of CPU instead of ~0.8 s, the same code. Returns the absolute .js path of
 * `file` (repo-relative .ts, under src/ or cli/, or a runner).
 */
export function compiled(file: string): string {
  built ??= compileTree(ROOT, [...SOURCES.flatMap((d) => tsFiles(ROOT, d)), ...RUNNERS]);
  const out = join(built, file.replace(/\.ts$/, '.js'));
  if (!existsSync(out)) throw new Error(`${file} is not in the compiled tree (${SOURCES.join('/, ')}/ and ${RUNNERS.join(', ')})`);
  return out;
}

/** `node` arguments that run `happysad`: the compiled cli/main.ts. */
export function cliArgs(): string[] {
  return [compiled('cli/main.ts')];
}

export function tsFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

/** `files` (relative to `root`) compiled under root/.cache/test-cli/HASH/ at the same relative paths; that folder. */
export function compileTree(root: string, files: string[]): string {
  // Keyed by every source's path and bytes: an edit gets a fresh tree, never a stale one.
  const hash = createHash('sha256').update(esbuildVersion);
  for (const f of files) hash.update(`\0${f}\0`).update(readFileSync(join(root, f)));
  const dir = join(root, '.cache', 'test-cli', hash.digest('hex').slice(0, 16));
  if (existsSync(dir)) return dir;
  // Written aside and renamed into place, so a test process running alongside never sees half a tree.
  const partial = `${dir}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  buildSync({ entryPoints: files.map((f) => join(root, f)), outdir: partial, outbase: root, format: 'esm', platform: 'node', target: 'node20', bundle: false, logLevel: 'error' });
  // Readable by the unprivileged user some tests run the CLI as.
  chmodSync(partial, 0o755);
  try {
    renameSync(partial, dir);
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(dir)) throw err;
  }
  pruneOldTrees(dirname(dir), dir);
  return dir;
}

/** Trees of sources edited away more than a day ago: no test run still uses them. */
function pruneOldTrees(parent: string, keep: string): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(parent)) {
    const dir = join(parent, name);
    if (dir !== keep && statSync(dir).mtimeMs < dayAgo) rmSync(dir, { recursive: true, force: true });
  }
}
