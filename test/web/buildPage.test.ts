import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPage, PAGE_LIBRARY_IMPORT } from '../../scripts/buildPage.js';
import { tempDir } from '../../testkit/tempDir.js';

test('the built page imports the library beside it and carries none of its code', async () => {
  const out = await buildPage(join(await tempDir('happysad-page-'), 'page'));
  for (const f of ['index.html', 'style.css', 'app.js', 'examples/happy.jpg']) assert.ok(existsSync(join(out, f)), f);
  assert.ok(!existsSync(join(out, 'app.ts')) && !existsSync(join(out, 'labelSmoother.ts')), 'the TypeScript sources are not copied');
  const app = await readFile(join(out, 'app.js'), 'utf8');
  const imports = [...app.matchAll(/^import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/gm)];
  assert.deepEqual([...new Set(imports.map((m) => m[2]))], [PAGE_LIBRARY_IMPORT]);
  const names = imports.flatMap((m) => m[1]!.split(',').map((s) => s.trim()));
  for (const name of ['loadModel', 'FaceTracker', 'TrailingMean', 'decideClass']) assert.ok(names.includes(name), `app.js imports ${name} from the library`);
  // Neither the tracker's overlap, nor TensorFlow.js, nor the decision rule's threshold test is bundled into the page.
  assert.doesNotMatch(app, /Math\.hypot|class FaceTracker|class TrailingMean|tfjs|>= *\w+\.threshold/);
  assert.ok(app.length < 40_000, `app.js is ${app.length} bytes: the page's own code only`);
});

test('a rebuild replaces an earlier build, and nothing else is overwritten', async () => {
  const dir = await tempDir('happysad-page-');
  const out = join(dir, 'page');
  await buildPage(out);
  await buildPage(out);
  const user = join(dir, 'mine');
  await mkdir(user);
  await writeFile(join(user, 'notes.txt'), 'keep');
  await assert.rejects(buildPage(user), /already holds files that are not a happysad page build; choose an empty or new folder \(nothing was changed\)/);
  assert.equal(await readFile(join(user, 'notes.txt'), 'utf8'), 'keep');
  const file = join(dir, 'a-file');
  await writeFile(file, 'keep');
  await assert.rejects(buildPage(file), /is a file, not a folder/);
  assert.equal(await readFile(file, 'utf8'), 'keep');
});
