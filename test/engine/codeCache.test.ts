import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { preloadWithCodeCache } from '../../src/engine/codeCache.js';
import { tempDir } from '../../testkit/tempDir.js';

const require = createRequire(import.meta.url);
const runs = globalThis as { codeCacheRuns?: number };

/** A CommonJS file that counts its runs and requires a neighbour, as tfjs's bundles require tfjs-core. */
async function modules(): Promise<{ main: string; dep: string }> {
  const dir = await tempDir();
  const dep = join(dir, 'dep.cjs');
  const main = join(dir, 'main.cjs');
  writeFileSync(dep, 'module.exports = { base: 40 };\n');
  writeFileSync(main, `globalThis.codeCacheRuns = (globalThis.codeCacheRuns ?? 0) + 1;\nconst { base } = require('./dep.cjs');\nexports.answer = () => base + 2;\nexports.where = __dirname;\n`);
  return { main, dep };
}

/** preloadWithCodeCache in a new process (V8 also keeps compiled scripts in memory, per process): what each file's cache did. */
function preloadInAnotherProcess(files: string[], dir: string): string[] {
  const code = `import { preloadWithCodeCache } from ${JSON.stringify(new URL('../../src/engine/codeCache.ts', import.meta.url).href)};
console.log(JSON.stringify(preloadWithCodeCache(JSON.parse(process.argv[1]), process.argv[2]).map((u) => u.cache)));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, JSON.stringify(files), dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('preloaded files are what require() gives, run once, with their code cache written', async () => {
  const { main, dep } = await modules();
  const dir = join(await tempDir(), 'v8');
  runs.codeCacheRuns = 0;
  assert.deepEqual(preloadWithCodeCache([dep, main], dir).map((u) => u.cache), ['missing', 'missing']);
  assert.equal(readdirSync(dir).length, 2);
  const loaded = require(main) as { answer(): number; where: string };
  assert.equal(loaded.answer(), 42);
  assert.equal(loaded.where, join(main, '..'));
  assert.equal(runs.codeCacheRuns, 1, 'require() found the preloaded module');
  // Already loaded: left alone.
  assert.deepEqual(preloadWithCodeCache([main], dir), []);
});

test('the next process compiles from the cache; a damaged cache is rejected by V8 and rewritten', async () => {
  const { main, dep } = await modules();
  const dir = join(await tempDir(), 'v8');
  assert.deepEqual(preloadInAnotherProcess([dep, main], dir), ['missing', 'missing']);
  assert.deepEqual(preloadInAnotherProcess([dep, main], dir), ['used', 'used']);
  for (const f of readdirSync(dir)) writeFileSync(join(dir, f), 'not a code cache');
  assert.deepEqual(preloadInAnotherProcess([dep, main], dir), ['rejected', 'rejected']);
  assert.deepEqual(preloadInAnotherProcess([dep, main], dir), ['used', 'used']);
});

test('an unusable cache folder or a missing file costs nothing; a throwing module throws and is not kept', async () => {
  const { main, dep } = await modules();
  const dir = join(await tempDir(), 'v8');
  // A file where the folder should be: nothing can be written, the modules still load.
  const blocked = join(await tempDir(), 'file');
  writeFileSync(blocked, '');
  assert.deepEqual(preloadWithCodeCache([dep, main], blocked, {}).map((u) => u.cache), ['missing', 'missing']);
  assert.deepEqual(preloadWithCodeCache([join(dir, 'absent.cjs')], dir, {}), []);
  const bad = join(await tempDir(), 'bad.cjs');
  writeFileSync(bad, 'throw new Error("broken module");\n');
  const cache: NodeJS.Dict<never> = {};
  assert.throws(() => preloadWithCodeCache([bad], dir, cache), /broken module/);
  assert.equal(cache[bad], undefined);
});
