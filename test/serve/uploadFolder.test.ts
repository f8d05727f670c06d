import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sweepAbandonedUploadFolders, UPLOAD_FOLDER_PREFIX } from '../../src/serve/uploadFolder.js';
import { tempDir } from '../../testkit/tempDir.js';
import { waitFor } from '../../testkit/runCli.js';
import { makeModel, startServer } from '../../testkit/serveFixtures.js';
import { compiled } from '../../testkit/compiledCli.js';

// Uploaded videos live in one private folder per server, which the server removes when it closes;
// a server killed with SIGKILL cannot, so the next one sweeps what dead servers left, and nothing else.

const root = fileURLToPath(new URL('../..', import.meta.url));
const runner = compiled('test/serve/runServeCommand.ts');

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

async function folder(parent: string, name: string, owner?: { pid: number; host: string }): Promise<string> {
  const dir = join(parent, name);
  await mkdir(dir);
  await writeFile(join(dir, 'left.video'), 'bytes');
  if (owner) await writeFile(join(dir, 'owner.json'), JSON.stringify(owner));
  return dir;
}

test('the sweep removes only upload folders of dead servers of this user and host', async () => {
  const parent = await tempDir();
  await folder(parent, `${UPLOAD_FOLDER_PREFIX}1-dead`, { pid: deadPid(), host: hostname() });
  await folder(parent, `${UPLOAD_FOLDER_PREFIX}2-alive`, { pid: process.pid, host: hostname() });
  await folder(parent, `${UPLOAD_FOLDER_PREFIX}3-elsewhere`, { pid: deadPid(), host: `not-${hostname()}` });
  await folder(parent, `${UPLOAD_FOLDER_PREFIX}${deadPid()}-noowner`);
  await folder(parent, 'someone-elses-folder', { pid: deadPid(), host: hostname() });
  await writeFile(join(parent, `${UPLOAD_FOLDER_PREFIX}4-a-file`), 'x');
  const removed = await sweepAbandonedUploadFolders(parent);
  assert.equal(removed.length, 2, 'the dead server\'s folder, and one whose owner record was never written (pid from its name)');
  assert.deepEqual((await readdir(parent)).sort(), [`${UPLOAD_FOLDER_PREFIX}2-alive`, `${UPLOAD_FOLDER_PREFIX}3-elsewhere`, `${UPLOAD_FOLDER_PREFIX}4-a-file`, 'someone-elses-folder']);
});

test('a server killed with SIGKILL mid-upload leaves its folder; the next server sweeps it, and removes its own on close', async () => {
  const tmp = await tempDir('happysad-tmpdir-');
  const model = await makeModel({ faces: false });
  const video = join(tmp, 'long.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=10', '-t', '30', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '35', '-pix_fmt', 'yuv420p', video]);
  const child = spawn(process.execPath, [runner, '--model', model, '--port', '0', '--timeout', '120'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await waitFor('the server listening', () => /on (http:\/\/127\.0\.0\.1:\d+)\//.test(stderr), 60_000);
    const url = /on (http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr)![1];
    const [mine] = (await readdir(tmp)).filter((f) => f.startsWith(UPLOAD_FOLDER_PREFIX));
    assert.ok(mine, `an upload folder in $TMPDIR: ${await readdir(tmp)}`);
    const uploads = join(tmp, mine);
    assert.equal((await stat(uploads)).mode & 0o777, 0o700, 'private to the server\'s user');
    assert.equal(JSON.parse(await readFile(join(uploads, 'owner.json'), 'utf8')).pid, child.pid);
    fetch(`${url}/v1/predict?every=0.1`, { method: 'POST', body: new Uint8Array(await readFile(video)) }).catch(() => undefined);
    await waitFor('the video written for ffmpeg', async () => (await readdir(uploads)).some((f) => f.endsWith('.video')), 30_000);
    child.kill('SIGKILL');
    await exited;
    assert.ok((await readdir(uploads)).some((f) => f.endsWith('.video')), 'a killed server cannot clean up');
    const next = await startServer({ model, warmup: false, concurrency: 1, uploadRoot: tmp });
    const after = (await readdir(tmp)).filter((f) => f.startsWith(UPLOAD_FOLDER_PREFIX));
    assert.equal(after.length, 1);
    assert.notEqual(after[0], mine, 'the dead server\'s folder is gone, the new server\'s is there');
    await next.app.close();
    assert.deepEqual((await readdir(tmp)).filter((f) => f.startsWith(UPLOAD_FOLDER_PREFIX)), [], 'removed on close');
  } finally {
    child.kill('SIGKILL');
  }
});
