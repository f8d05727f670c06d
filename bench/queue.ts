/**
 * node --import tsx bench/queue.ts [--photos 400] [--workers 1,2,4] [--batch 8] [--rounds 2] [--json]
 *
 * Photos/s through the Redis job queue (Debian's redis-server on a free loopback port) with 1, 2
 * and 4 single-threaded `happysad worker` processes, against local `happysad predict --workers N`
 * (N = the same total threads, at most the cores) on the same photos, alternating in one run.
 * Rates are steady-state: rows written between 10% and 100% of the output, so model loading (a
 * worker's, before the run; local predict's, inside it) does not count. Also: Redis commands per
 * photo (INFO commandstats), which bound how far one Redis scales.
 *
 * Photos: --photos distinct 250x250 one-face JPEGs made from examples/ (bench/facePipeline.ts).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { stat, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { tempDir } from '../testkit/tempDir.js';
import { RedisServer } from '../testkit/redisServer.js';
import { startCli, waitFor } from '../testkit/runCli.js';

const { values } = parseArgs({ options: {
  photos: { type: 'string', default: '400' },
  workers: { type: 'string', default: '1,2,4' },
  batch: { type: 'string', default: '8' },
  rounds: { type: 'string', default: '2' },
  json: { type: 'boolean', default: false },
} });
const N = Number(values.photos);
const cores = availableParallelism();
const dir = join(await tempDir('happysad-bench-queue-'), 'photos');
spawnSync(process.execPath, ['--import', 'tsx', resolve('bench/facePipeline.ts'), '--make-photos', dir, '--photos', String(N)], { stdio: 'ignore' });
const redis = await RedisServer.start();
const client = new Redis(redis.port, '127.0.0.1');

const lines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

/** Steady rate of a run writing `out`: rows/s from the 10% mark to the end, and its wall time. */
async function timeRun(args: string[], out: string): Promise<{ rate: number; wall: number }> {
  const started = performance.now();
  const run = startCli(args);
  let t10 = 0;
  let done = false;
  void run.exited.then(() => { done = true; });
  await waitFor('10% of the rows', async () => done || ((await stat(out).catch(() => undefined)) !== undefined && (await lines(out)) >= N / 10), 600_000);
  t10 = performance.now();
  const at10 = await lines(out);
  await run.exited;
  const end = performance.now();
  return { rate: ((await lines(out)) - at10) / ((end - t10) / 1000), wall: (end - started) / 1000 };
}

async function commands(): Promise<number> {
  const info = await client.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

const rows: Record<string, unknown>[] = [];
const emit = (row: Record<string, unknown>) => {
  rows.push(row);
  console.log(values.json ? JSON.stringify(row) : Object.entries(row).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : v}`).join('  '));
};
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const w of values.workers.split(',').map(Number)) {
      const threads = Math.min(w, cores);
      const localOut = join(await tempDir(), 'local.jsonl');
      const l = await timeRun(['predict', dir, '--workers', String(threads), '--no-cache', '--batch', values.batch, '--out', localOut], localOut);
      emit({ round, mode: 'local predict', threads, photosPerSecond: l.rate, wallSeconds: l.wall });
      const queue = `bench-${round}-${w}`;
      const workers = Array.from({ length: w }, () => startCli(['worker', '--redis', redis.url, '--queue', queue, '--workers', '1', '--root', dir]));
      await waitFor('workers ready', () => workers.every((x) => x.log.some((line) => /: model "/.test(line))), 120_000);
      const before = await commands();
      const out = join(await tempDir(), 'queued.jsonl');
      const q = await timeRun(['predict', dir, '--redis', redis.url, '--queue', queue, '--batch', values.batch, '--out', out], out);
      const ops = (await commands()) - before;
      emit({ round, mode: 'queue', workers: w, photosPerSecond: q.rate, wallSeconds: q.wall, redisCommandsPerPhoto: ops / N, vsLocal: q.rate / l.rate });
      for (const x of workers) x.child.kill('SIGTERM');
      await Promise.all(workers.map((x) => x.exited));
    }
  }
} finally {
  client.disconnect();
  await redis.stop();
}
