import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../testkit/runCli.js';

function node(args: string[]): { code: number | null; out: string } {
  // Without the runner's NODE_TEST_CONTEXT, a nested `node --test` reports as TAP text, not to this runner.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('a temp dir from the testkit is gone when its process exits, even after a failure', () => {
  const script = `
    import { tempDir } from ${JSON.stringify(join(ROOT, 'testkit/tempDir.ts'))};
    import { writeFile } from 'node:fs/promises';
    const dir = await tempDir('happysad-shots-');
    await writeFile(dir + '/shot.png', 'x');
    console.log(dir);
    throw new Error('a test failed midway');
  `;
  const r = node(['--input-type=module', '-e', script]);
  assert.equal(r.code, 1);
  const dir = r.out.trim().split('\n')[0]!;
  assert.match(dir, /happysad-shots-/);
  assert.equal(existsSync(dir), false, `${dir} left behind`);
});

test('the tests that use the cpu backend and tf.io.fromMemory print no TensorFlow.js banner or deprecation warning', () => {
  const r = node(['--test', '--test-reporter=tap', '--test-concurrency=1', 'test/engine/kernelsPlainSimd.test.ts', 'test/model/modelBundle.test.ts']);
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /looks like you are running TensorFlow\.js|={20}|deprecated|Platform \w+ has already been set/);
});

test('what the README has a newcomer write in the repository (npm pack, the demo video and its report) is ignored by git', () => {
  for (const file of ['happysad-0.1.0.tgz', 'demo.mp4', 'demo-report/report.html']) {
    const r = spawnSync('git', ['check-ignore', '--no-index', '-q', file], { cwd: ROOT });
    assert.equal(r.status, 0, `${file} is not in .gitignore`);
  }
});
