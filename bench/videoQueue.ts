/**
 * node --import tsx bench/videoQueue.ts [--seconds 60] [--every 0.2] [--rounds 1] [--json]
 *
 * One video through the Redis job queue (one `happysad worker` on every core, started before the
 * run; Debian's redis-server on a free loopback port) against local `happysad predict` on the same
 * video, both with `--out`, alternating over --rounds: wall time (seconds of video per second),
 * peak resident memory of the producer and the worker (VmHWM), Redis's peak memory above its idle
 * level (the rows travel in chunks, so it must not grow with the video), and whether the two
 * --out files are byte for byte the same. The video is bench/video.ts's: 640x480, one face drifting.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { cliArgs } from '../testkit/compiledCli.js';
import { RedisServer } from '../testkit/redisServer.js';
import { tempDir } from '../testkit/tempDir.js';
import { waitFor } from '../testkit/runCli.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, every: { type: 'string', default: '0.2' }, rounds: { type: 'string', default: '1' }, json: { type: 'boolean', default: false } } });
const seconds = Number(values.seconds);
const dir = await tempDir('happysad-bench-video-queue-');
const video = join(dir, 'face.mp4');
const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x767c82:s=640x480:r=25:d=${seconds}`, '-loop', '1', '-i', resolve('examples/happy/Kristanna_Loken_0001.jpg'),
  '-filter_complex', '[1:v]scale=300:300[f];[0:v][f]overlay=x=170+100*sin(2*PI*t/20):y=90:shortest=1', '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', video], { encoding: 'utf8' });
if (made.status !== 0) throw new Error(`ffmpeg: ${made.stderr}`);
const cli = cliArgs();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** Runs the CLI to its end: wall seconds and peak resident MB (GNU time). */
function timed(args: string[]): { wall: number; peakMb: number } {
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...cli, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`happysad ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return { wall: (performance.now() - started) / 1000, peakMb: Number(r.stderr.trim().split('\n').at(-1)) / 1024 };
}

const redis = await RedisServer.start();
const client = new Redis({ host: '127.0.0.1', port: redis.port });
const worker = spawn(process.execPath, [...cli, 'worker', '--redis', redis.url, '--root', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
worker.stderr.setEncoding('utf8').on('data', (c: string) => (log += c));
await waitFor('the worker', () => log.includes('reads paths under'), 120_000);
const memory = async (field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(await client.info('memory'))![1]);
const idle = await memory('used_memory');
const local: { wall: number; peakMb: number }[] = [];
const queued: { wall: number; peakMb: number }[] = [];
let identical = true;
for (let r = 0; r < Number(values.rounds); r++) {
  const outs = { local: join(dir, `local-${r}.jsonl`), queued: join(dir, `queued-${r}.jsonl`) };
  queued.push(timed(['predict', video, '--redis', redis.url, '--out', outs.queued, '--every', values.every]));
  local.push(timed(['predict', video, '--out', outs.local, '--every', values.every]));
  identical &&= readFileSync(outs.local, 'utf8') === readFileSync(outs.queued, 'utf8');
}
const workerPeakMb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${worker.pid}/status`, 'utf8'))![1]) / 1024;
const redisPeakMb = ((await memory('used_memory_peak')) - idle) / 2 ** 20;
const rows = readFileSync(join(dir, 'local-0.jsonl'), 'utf8').trim().split('\n').length;
worker.kill('SIGTERM');
await new Promise((r) => worker.once('close', r));
client.disconnect();
await redis.stop();
const row = {
  seconds, every: Number(values.every), rows,
  localX: seconds / median(local.map((x) => x.wall)), queuedX: seconds / median(queued.map((x) => x.wall)),
  localPeakMb: Math.max(...local.map((x) => x.peakMb)), producerPeakMb: Math.max(...queued.map((x) => x.peakMb)), workerPeakMb, redisPeakAboveIdleMb: redisPeakMb,
  identicalOut: identical,
};
console.log(values.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : v}`).join('  '));
