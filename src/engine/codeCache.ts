import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { threadId } from 'node:worker_threads';

type NodeModule = InstanceType<typeof Module> & { paths: string[]; loaded: boolean; filename: string };
const ModuleInternals = Module as unknown as { wrap(source: string): string; _nodeModulePaths(dir: string): string[] };

/**
 * Loads CommonJS files into require's cache as require() would, compiled with a V8 code cache
 * kept in `dir`, so that a later process (or thread) skips parsing them. TensorFlow.js is ~7 MB of
 * JavaScript: compiling it took ~75-90 ms of each thread's start-up here, ~16 ms from the cache.
 * (Node 22's module.enableCompileCache does this for every module; this runs on Node 20.)
 *
 * `files` in dependency order, each as require.resolve gives it. One already loaded is left alone.
 * A cache that cannot be read, written or is rejected (another Node, another file) costs only
 * the plain compile; an error the module itself throws is thrown as require() would throw it.
 */
export function preloadWithCodeCache(files: string[], dir: string, cache: NodeJS.Dict<NodeModule> = createRequire(import.meta.url).cache as NodeJS.Dict<NodeModule>): CodeCacheUse[] {
  const uses: CodeCacheUse[] = [];
  for (const file of files) {
    if (cache[file]) continue;
    const loaded = compile(file, dir);
    if (!loaded) continue;
    const { script, cachedData, cacheFile } = loaded;
    const m = new Module(file) as NodeModule;
    m.filename = file;
    m.paths = ModuleInternals._nodeModulePaths(dirname(file));
    cache[file] = m;
    try {
      (script.runInThisContext() as (...args: unknown[]) => void).call(m.exports, m.exports, createRequire(file), m, file, dirname(file));
    } catch (err) {
      delete cache[file];
      throw err;
    }
    m.loaded = true;
    const use: CodeCacheUse['cache'] = !cachedData ? 'missing' : script.cachedDataRejected ? 'rejected' : 'used';
    // Made after the run, the cache holds the functions the module's start-up compiled too.
    if (use !== 'used') save(cacheFile, script.createCachedData());
    uses.push({ file, cache: use });
  }
  return uses;
}

/** How a preloaded file was compiled: from its code cache, or without (and a new cache written). */
export interface CodeCacheUse {
  file: string;
  cache: 'used' | 'missing' | 'rejected';
}

function compile(file: string, dir: string): { script: Script; cachedData?: Buffer; cacheFile: string } | undefined {
  try {
    const source = readFileSync(file, 'utf8');
    const { size, mtimeMs } = statSync(file);
    // V8 rejects a cache made under other flags (--cpu-prof, --max-old-space-size...): one cache per set of them.
    const key = createHash('sha256').update(`${file}\0${size}\0${mtimeMs}\0${process.version}\0${process.arch}\0${process.execArgv.join(' ')}`).digest('hex').slice(0, 32);
    const cacheFile = join(dir, `${key}.v8`);
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
    return { script: new Script(ModuleInternals.wrap(source), { filename: file, cachedData }), cachedData, cacheFile };
  } catch {
    // Unreadable here: the ordinary require() that follows loads it, or says why it cannot.
    return undefined;
  }
}

/** Written whole under a temporary name and renamed: threads starting together never read half a file. */
function save(cacheFile: string, data: Buffer): void {
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}-${threadId}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, cacheFile);
  } catch {
    // A read-only or full cache folder: the next start compiles again, nothing worse.
  }
}
