import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../../testkit/tempDir.js';
import { makeVideo } from '../../testkit/makeVideo.js';
import { ROOT, runCli } from '../../testkit/runCli.js';
import { cliArgs } from '../../testkit/compiledCli.js';

// predict's video options: checked before any work, named where a limit is hit, and a progress
// line on a terminal.

const photo = join(ROOT, 'examples', 'happy', 'Azra_Akin_0003.jpg');
let still: string;

before(async () => {
  const dir = await tempDir('happysad-video-cli-');
  still = await makeVideo(join(dir, 'still.mp4'), { width: 320, height: 240, fps: 10, frames: 30, faces: [{ photo: 'happy/Tom_Watson_0003.jpg', at: () => ({ left: 90, top: 40, size: 150 }) }] });
});

test('--every, --smooth, --max-seconds and --report are checked before anything is classified, videos or not', () => {
  for (const [args, message] of [
    [['--every', 'abc'], /--every abc: expected a number >= 0\.01/],
    [['--smooth=-1'], /--smooth -1: expected a number >= 0/],
    [['--max-seconds', 'soon'], /--max-seconds soon: expected a number/],
    [['--max-video-pixels', '1.5'], /--max-video-pixels 1\.5: expected an integer >= 1/],
    [['--report', ''], /--report needs a folder name/],
  ] as const) {
    const r = runCli(['predict', photo, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '', 'no photo was classified first');
  }
});

test('a frame over the video limit names the option that raises it', () => {
  const r = runCli(['predict', still, '--json', '--max-video-pixels', '10000']);
  assert.equal(r.code, 1);
  const row = JSON.parse(r.stdout.trim()) as { error: { code: string; message: string } };
  assert.equal(row.error.code, 'video-too-large');
  assert.match(row.error.message, /frames of 320x240 are more than 10000 pixels \(--max-video-pixels\); shrink the video first .* or raise the limit with --max-video-pixels N/);
});

test('on a terminal, a video shows its progress: seconds done of its length and an ETA', () => {
  // script(1) gives the CLI a pseudo-terminal, as a user's shell would.
  const command = [process.execPath, ...cliArgs(), 'predict', still, '--every', '0.5'].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /\[[= ]+\] \d\/3 s of .*still\.mp4 .*ETA/);
  assert.match(r.stdout, /still\.mp4: 6 frame\(s\) sampled every 0\.5 s/);
  // Not a terminal: no progress line.
  assert.doesNotMatch(runCli(['predict', still, '--every', '0.5']).stderr, /ETA/);
});
