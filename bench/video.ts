/**
 * node --import tsx bench/video.ts [--minutes 1,10] [--every 0.2] [--json]
 *
 * `happysad predict VIDEO --json --every 0.2` on 640x480 H.264 videos of one face moving slowly on a
 * backdrop (made by ffmpeg from an example photo): seconds of video processed per second of wall
 * time (the target: faster than real time, i.e. > 1), and the command's peak resident memory
 * (GNU time's maximum RSS), which must not grow with the video's length.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../testkit/tempDir.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '1,10' }, every: { type: 'string', default: '0.2' }, json: { type: 'boolean', default: false } } });
const dir = await tempDir('happysad-bench-video-');
for (const minutes of values.minutes.split(',').map(Number)) {
  const video = join(dir, `face-${minutes}min.mp4`);
  // The face drifts 100 px left and right every 20 s, so detection and tracking do real work.
  const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x767c82:s=640x480:r=25:d=${minutes * 60}`, '-loop', '1', '-i', resolve('examples/happy/Kristanna_Loken_0001.jpg'),
    '-filter_complex', '[1:v]scale=300:300[f];[0:v][f]overlay=x=170+100*sin(2*PI*t/20):y=90:shortest=1', '-t', String(minutes * 60), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', video], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ffmpeg: ${made.stderr}`);
  const started = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, resolve('dist/cli/main.js'), 'predict', video, '--json', '--every', values.every], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = (performance.now() - started) / 1000;
  const rows = run.stdout.trim().split('\n').filter(Boolean).length;
  const peakMb = Number(run.stderr.trim().split('\n').at(-1)) / 1024;
  const row = { minutes, every: Number(values.every), rows, wallSeconds: wall, videoSecondsPerSecond: (minutes * 60) / wall, peakRssMb: peakMb, exit: run.status };
  console.log(values.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : v}`).join('  '));
}
