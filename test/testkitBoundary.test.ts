import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { ROOT } from '../testkit/runCli.js';

// testkit/ holds what tests, benchmarks and scripts share (temp folders, generated images and
// videos, a real Redis, Chromium, the CLI in a child process, a served model). It sits beside
// them so that none of them imports another's files, and outside src/ and the package.

function tsFiles(folder: string): string[] {
  const dir = join(ROOT, folder);
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Repo-relative targets of a file's relative imports, static and dynamic, type-only included. */
function localImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^'";]*?['"](\.[^'"]+)['"]/gm),
    ...text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specs.map((s) => normalize(join(dirname(file), s)));
}

function importsInto(fromFolders: string[], intoFolders: string[]): string[] {
  return fromFolders.flatMap(tsFiles).flatMap((f) => localImports(f).filter((t) => intoFolders.some((d) => t.startsWith(`${d}/`))).map((t) => `${f} → ${t}`));
}

test('bench/ and scripts/ take shared helpers from testkit/, never from test/', () => {
  assert.deepEqual(importsInto(['bench', 'scripts'], ['test']), []);
});

// testkit/ may use the build scripts (a served page is built from the sources under test), not tests or benches.
test('testkit/ depends on src/ and the build scripts only: nothing from test/ or bench/', () => {
  assert.deepEqual(importsInto(['testkit'], ['test', 'bench']), []);
});

test('the library and the CLI import nothing from testkit/, bench/ or test/', () => {
  assert.deepEqual(importsInto(['src', 'cli'], ['testkit', 'bench', 'test']), []);
});

test('testkit/ is typechecked and linted but not shipped in the package', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  const shipped = pkg.files.filter((f) => !f.startsWith('!'));
  for (const folder of ['testkit', 'test', 'bench']) assert.ok(!shipped.some((f) => f === folder || f.startsWith(`${folder}/`)), `package.json "files" ships ${folder}/`);
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] };
  assert.ok(tsconfig.include.includes('testkit'), 'tsconfig.json "include" leaves testkit/ out of `npm run typecheck`');
  assert.match(readFileSync(join(ROOT, 'biome.jsonc'), 'utf8'), /"testkit\/\*\*\/\*\.ts"/, 'biome.jsonc leaves testkit/ out of `npm run lint`');
});
