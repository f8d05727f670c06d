import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cliArgs } from '../../testkit/compiledCli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// A module hook that names every module the process loads, on stderr.
const hook = 'export async function load(url, context, next) { const r = await next(url, context); process.stderr.write("LOADED " + url + "\\n"); return r; }';
const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;

test('predict on a photo loads no video or report code (it is start-up time a photo run never uses)', () => {
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, ...cliArgs(), 'predict', 'examples/happy/Kristanna_Loken_0001.jpg', '--workers', '1', '--json', '--no-cache'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).faces.length, 1);
  const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
  assert.ok(loaded.some((u) => u.endsWith('/predict/classifier.js')), 'the hook saw the classifier load');
  assert.deepEqual(loaded.filter((u) => /\/(predictVideo|videoFrames|videoRowsOutput|faceTracker)\.js$|\/report\//.test(u)), []);
});
