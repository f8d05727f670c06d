import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliArgs, compileTree } from '../../testkit/compiledCli.js';
import { ROOT } from '../../testkit/runCli.js';
import { tempDir } from '../../testkit/tempDir.js';

// Tests start the CLI compiled (testkit/compiledCli.ts), not through tsx: this checks that what
// they run is the current source, and the same program.

test('the compiled tree follows the sources: an edit gets a new tree, unchanged sources reuse theirs', async () => {
  const repo = await tempDir();
  await mkdir(join(repo, 'src'));
  await mkdir(join(repo, 'cli'));
  await writeFile(join(repo, 'cli/main.ts'), "import { value } from '../src/value.js';\nconst n: number = value();\nconsole.log(n);\n");
  const files = ['cli/main.ts', 'src/value.ts'];
  const run = (dir: string) => spawnSync(process.execPath, [join(dir, 'cli/main.js')], { encoding: 'utf8' }).stdout.trim();

  await writeFile(join(repo, 'src/value.ts'), 'export const value = (): number => 1;\n');
  const first = compileTree(repo, files);
  assert.equal(run(first), '1');
  const builtAt = (await stat(join(first, 'cli/main.js'))).mtimeMs;
  assert.equal(compileTree(repo, files), first, 'the same sources, the same tree');
  assert.equal((await stat(join(first, 'cli/main.js'))).mtimeMs, builtAt, 'reused, not rebuilt');

  await writeFile(join(repo, 'src/value.ts'), 'export const value = (): number => 2;\n');
  const second = compileTree(repo, files);
  assert.notEqual(second, first);
  assert.equal(run(second), '2', 'an edited source is what runs');
});

test('the compiled CLI is the tsx one: the same help, the same usage error and exit code', () => {
  const viaTsx = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const compiled = (args: string[]) => spawnSync(process.execPath, [...cliArgs(), ...args], { cwd: ROOT, encoding: 'utf8' });
  for (const args of [['help', 'predict'], ['predict', '--every', 'soon'], ['--version']]) {
    const [a, b] = [viaTsx(args), compiled(args)];
    assert.deepEqual([b.status, b.stdout, b.stderr], [a.status, a.stdout, a.stderr], args.join(' '));
  }
  assert.match(cliArgs()[0]!, /\/\.cache\/test-cli\/[0-9a-f]{16}\/cli\/main\.js$/);
});
