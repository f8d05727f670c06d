import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Prediction } from '../../src/predict/classifier.js';
import { tempDir } from '../fixtures/makeImages.js';
import { RedisServer } from '../fixtures/redisServer.js';
import { batchPhotos, runCli, startCli, waitFor } from '../fixtures/runCli.js';

// The job queue end to end, with real processes and a real Redis: workers die, Redis restarts, and
// every file's row still appears exactly once, as a local run would give it.

let redis: RedisServer;
let photos: string;
let reference: Map<string, Prediction>;
const rowsOf = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Prediction);
const workerArgs = (queue: string) => ['worker', '--redis', redis.url, '--queue', queue, '--workers', '1', '--stall-timeout', '2'];

before(async () => {
  redis = await RedisServer.start();
  photos = join(await tempDir(), 'photos');
  await batchPhotos(photos, 60);
  const r = runCli(['predict', photos, '--json', '--no-cache', '--workers', '1']);
  reference = new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Prediction).map((p) => [p.file, p]));
});
after(async () => {
  await redis?.stop();
});

function assertExactlyOnce(rows: Prediction[]): void {
  const files = rows.map((r) => r.file);
  assert.equal(new Set(files).size, files.length, 'no file twice');
  assert.equal(files.length, 60, 'every file');
  for (const row of rows) {
    const ref = reference.get(row.file)!;
    assert.equal(row.label, ref.label, row.file);
    assert.equal(row.score, ref.score, row.file);
  }
  const errors = rows.filter((r) => r.error);
  assert.deepEqual(errors.map((r) => [r.file.endsWith('broken.jpg'), r.error!.code]), [[true, 'image-corrupt']], 'the bad image is one error row');
}

test('2 workers, one SIGKILLed mid-batch, a third started: every row once, labels as a local run', async () => {
  const out = join(await tempDir(), 'queued.jsonl');
  const a = startCli(workerArgs('kill'));
  const b = startCli(workerArgs('kill'));
  const producer = startCli(['predict', photos, '--redis', redis.url, '--queue', 'kill', '--batch', '4', '--out', out]);
  // Kill A while it holds a batch (its second, so the queue is well under way).
  await waitFor('worker A to start its second batch', () => a.log.filter((l) => / started: /.test(l)).length >= 2);
  const killed = /batch (\S+) started/.exec(a.log.filter((l) => / started: /.test(l)).at(-1)!)![1]!;
  a.child.kill('SIGKILL');
  const c = startCli(workerArgs('kill'));
  assert.equal(await producer.exited, 1, producer.log.join('\n')); // 1: broken.jpg could not be classified
  assertExactlyOnce(await rowsOf(out));
  // The killed batch was redone by another worker once A's lock expired.
  const others = [...b.log, ...c.log];
  assert.ok(others.some((l) => l.includes(`batch ${killed} done`)), `batch ${killed} redone elsewhere:\n${others.join('\n')}`);
  assert.ok(others.some((l) => l.includes(`batch ${killed} started`) && /attempt [12]\)/.test(l)));
  // A bad image is a row, not a failed batch: nothing was retried for it.
  assert.deepEqual(others.filter((l) => / failed: /.test(l)), []);
  // Graceful stop: SIGTERM finishes and reports.
  for (const w of [b, c]) w.child.kill('SIGTERM');
  assert.deepEqual(await Promise.all([b.exited, c.exited]), [0, 0]);
  assert.ok(b.log.some((l) => /stopped after \d+ batch\(es\)/.test(l)));
});

test('Redis restarted mid-run: workers and producer reconnect and the run completes, each row once', async () => {
  const out = join(await tempDir(), 'restart.csv');
  const w = startCli(workerArgs('restart'));
  const producer = startCli(['predict', photos, '--redis', redis.url, '--queue', 'restart', '--batch', '4', '--out', out]);
  await waitFor('a couple of batches done', () => w.log.filter((l) => / done$/.test(l)).length >= 2);
  await redis.stop();
  await new Promise((r) => setTimeout(r, 1000));
  await redis.resume();
  assert.equal(await producer.exited, 1, producer.log.join('\n'));
  const csv = (await readFile(out, 'utf8')).trim().split('\n');
  assert.equal(csv[0], 'file,face,box,label,score,p_happy,p_sad,error,sha256');
  const files = new Map<string, string>();
  for (const line of csv.slice(1)) {
    const [file, face] = line.split(',');
    const key = `${file} ${face}`;
    assert.ok(!files.has(key), `${key} twice`);
    files.set(key, line);
  }
  assert.equal(new Set([...files.keys()].map((k) => k.split(' ')[0])).size, 60);
  w.child.kill('SIGTERM');
  assert.equal(await w.exited, 0);
});

test('without a worker the producer says how to start one; a bad --redis URL is a usage error', async () => {
  const producer = startCli(['predict', photos, '--redis', redis.url, '--queue', 'nobody']);
  await waitFor('the hint', () => producer.log.some((l) => /waiting for a worker on queue "nobody" .* happysad worker --redis redis:\/\/127\.0\.0\.1:\d+/.test(l)));
  producer.child.kill('SIGTERM');
  await producer.exited;
  const r = runCli(['worker', '--redis', 'http://nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /expected a redis:\/\/ URL/);
});
