/**
 * node --import tsx bench/video.ts [--minutes 1,10] [--every 0.2] [--rounds 1] [--roots before=DIR,after=.] [--json]
 *
 * `happysad predict VIDEO --json --every 0.2` on 640x480 H.264 videos of one face moving slowly on a
 * backdrop (made by ffmpeg from an example photo): seconds of video processed per second of wall
 * time (the target: faster than real time, i.e. > 1), and the command's peak resident memory
 * (GNU time's maximum RSS), which must not grow with the video's length. With --roots (bench/run.ts
 * --before REF), each checkout's CLI on the same videos, alternated over --rounds; medians.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../testkit/tempDir.js';
import { parseRoots } from './checkouts.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '1,10' }, every: { type: 'string', default: '0.2' }, json: { type: 'boolean', default: false }, roots: { type: 'string' }, rounds: { type: 'string', default: '1' } } });
const roots = parseRoots(values.roots);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const dir = await tempDir('happysad-bench-video-');
for (const minutes of values.minutes.split(',').map(Number)) {
  const video = join(dir, `face-${minutes}min.mp4`);
  // The face drifts 100 px left and right every 20 s, so detection and tracking do real work.
  const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x767c82:s=640x480:r=25:d=${minutes * 60}`, '-loop', '1', '-i', resolve('examples/happy/Kristanna_Loken_0001.jpg'),
    '-filter_complex', '[1:v]scale=300:300[f];[0:v][f]overlay=x=170+100*sin(2*PI*t/20):y=90:shortest=1', '-t', String(minutes * 60), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', video], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ffmpeg: ${made.stderr}`);
  const runs = new Map<string, { wall: number; rows: number; peakMb: number; exit: number | null }[]>();
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const root of roots) {
      const started = performance.now();
      const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, join(root.dir, 'dist/cli/main.js'), 'predict', video, '--json', '--every', values.every], { encoding: 'utf8', maxBuffer: 1 << 30 });
      const wall = (performance.now() - started) / 1000;
      runs.set(root.name, [...(runs.get(root.name) ?? []), { wall, rows: run.stdout.trim().split('\n').filter(Boolean).length, peakMb: Number(run.stderr.trim().split('\n').at(-1)) / 1024, exit: run.status }]);
    }
  }
  for (const root of roots) {
    const mine = runs.get(root.name)!;
    const wall = median(mine.map((m) => m.wall));
    const row = { ...(roots.length > 1 ? { code: root.name } : {}), minutes, every: Number(values.every), rows: mine[0]!.rows, wallSeconds: wall, videoSecondsPerSecond: (minutes * 60) / wall, peakRssMb: Math.max(...mine.map((m) => m.peakMb)), exit: mine.find((m) => m.exit !== 0)?.exit ?? 0 };
    console.log(values.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : v}`).join('  '));
  }
}
