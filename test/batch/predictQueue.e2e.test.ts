import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import type { Prediction } from '../../src/predict/classifier.js';
import { tempDir } from '../../testkit/tempDir.js';
import { QUEUE_PROTOCOL } from '../../src/batch/queueProtocol.js';
import { RedisServer } from '../../testkit/redisServer.js';
import { batchPhotos, runCli, startCli, stopStartedClis, waitFor } from '../../testkit/runCli.js';

// The job queue end to end, with real processes and a real Redis: workers die, Redis restarts, and
// every file's row still appears exactly once, as a local run would give it.

let redis: RedisServer;
let photos: string;
let reference: Map<string, Prediction>;
const rowsOf = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Prediction);
const workerArgs = (queue: string, root = photos) => ['worker', '--redis', redis.url, '--queue', queue, '--workers', '1', '--stall-timeout', '2', '--root', root];

before(async () => {
  redis = await RedisServer.start();
  photos = join(await tempDir(), 'photos');
  await batchPhotos(photos, 60);
  const r = runCli(['predict', photos, '--json', '--no-cache', '--workers', '1']);
  reference = new Map(r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Prediction).map((p) => [p.file, p]));
});
after(async () => {
  // Workers a failed assertion left running go first: they would outlive the test (and its Redis).
  await stopStartedClis();
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
  // The workers run the default model: one probability column per class it has.
  const { classes } = JSON.parse(await readFile('models/default/happysad.json', 'utf8')) as { classes: string[] };
  assert.equal(csv[0], `file,face,box,label,score,${classes.map((c) => `p_${c}`).join(',')},error,sha256,model`);
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
  const q = runCli(['predict', photos, '--redis', redis.url, '--queue', 'a:b']);
  assert.equal(q.code, 2);
  assert.match(q.stderr, /--queue "a:b": use 1 to 100 letters/);
  assert.doesNotMatch(q.stderr, /internal error/);
  const noRoot = runCli(['worker', '--redis', redis.url]);
  assert.equal(noRoot.code, 2);
  assert.match(noRoot.stderr, /worker needs --root DIR .* or --allow-host HOST/);
  // Workers of another happysad version: the producer stops before queueing anything, and says why.
  const client = new Redis({ host: '127.0.0.1', port: redis.port });
  try {
    await client.set('happysad:newer:protocol', String(QUEUE_PROTOCOL + 1), 'PX', 60_000);
    await client.set('happysad:newer:model', await readFile('models/default/happysad.json', 'utf8'), 'PX', 60_000);
    const refused = runCli(['predict', photos, '--redis', redis.url, '--queue', 'newer']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`the workers on queue "newer" speak queue protocol ${QUEUE_PROTOCOL + 1}, this producer speaks queue protocol ${QUEUE_PROTOCOL}`));
    assert.equal(await client.exists('bull:newer:id'), 0, 'no job was queued');
  } finally {
    client.disconnect();
  }
});

test('a hostile job: paths outside --root, links out, FIFOs, non-strings and batch 0 get error rows that carry nothing; the worker still stops on SIGTERM', async () => {
  const dir = await tempDir();
  const root = join(dir, 'shared');
  await mkdir(root);
  await writeFile(join(dir, 'secret.txt'), 'root:*:19000:0:99999:7:::');
  const w = startCli(workerArgs('hostile', root));
  await waitFor('the worker', () => w.log.some((l) => l.includes(`reads paths under: ${root}`)));
  const connection = { host: '127.0.0.1', port: redis.port };
  const queue = new Queue('hostile', { connection });
  const events = new QueueEvents('hostile', { connection });
  try {
    await events.waitUntilReady();
    const job = await queue.add('predict', { files: ['/etc/passwd', join(dir, 'secret.txt'), 'shared/x.jpg', 42, `${root}/../secret.txt`], faces: true, batch: 2 });
    const rows = (await job.waitUntilFinished(events, 60_000)) as Prediction[];
    assert.deepEqual(rows.map((r) => [r.file, r.error?.code, r.sha256]), [
      ['/etc/passwd', 'path-not-allowed', undefined],
      [join(dir, 'secret.txt'), 'path-not-allowed', undefined],
      ['shared/x.jpg', 'path-not-allowed', undefined],
      ['#3', 'bad-job', undefined],
      [`${root}/../secret.txt`, 'path-not-allowed', undefined],
    ]);
    assert.doesNotMatch(JSON.stringify(rows), /root:\*/);
    const spin = await queue.add('predict', { files: [join(root, 'a.jpg')], faces: true, batch: 0 }, { attempts: 3 });
    await assert.rejects(spin.waitUntilFinished(events, 30_000), /malformed job: "batch" must be a whole number/);
    assert.equal((await queue.getJob(spin.id!))!.attemptsMade, 1, 'a malformed job is not retried');
    // A producer of another happysad version may mean something else by the same fields: refused, not misread.
    const newer = await queue.add('predict', { protocol: QUEUE_PROTOCOL + 1, files: [join(root, 'a.jpg')], faces: true, batch: 1 }, { attempts: 3 });
    await assert.rejects(newer.waitUntilFinished(events, 30_000), new RegExp(`queued by a producer speaking queue protocol ${QUEUE_PROTOCOL + 1}, this worker speaks queue protocol ${QUEUE_PROTOCOL}`));
    assert.equal((await queue.getJob(newer.id!))!.attemptsMade, 1, 'a job of another protocol is not retried');
  } finally {
    await events.close();
    await queue.close();
  }
  w.child.kill('SIGTERM');
  assert.equal(await w.exited, 0);
});

test('workers announce their model with a lease: gone with the last worker, renewed after a Redis restart; a worker stops on SIGTERM while Redis is down', async () => {
  const client = new Redis({ host: '127.0.0.1', port: redis.port });
  try {
    const w = startCli(workerArgs('lease'));
    await waitFor('the announcement', async () => (await client.pttl('happysad:lease:model')) > 0);
    assert.equal(await client.get('happysad:lease:protocol'), String(QUEUE_PROTOCOL), 'the protocol is announced with the model');
    assert.ok((await client.pttl('happysad:lease:protocol')) > 0, 'under the same lease');
    await client.del('happysad:lease:model'); // as a Redis restarted without its data would be
    await waitFor('the worker to announce itself again', async () => (await client.exists('happysad:lease:model')) === 1, 15_000);
    await redis.stop();
    const stopping = Date.now();
    w.child.kill('SIGTERM');
    assert.equal(await w.exited, 0, w.log.join('\n'));
    // With no batch in hand there is nothing to give Redis: the worker waits 1 s for it, not the 10 s a batch gets.
    assert.ok(Date.now() - stopping < 8000, `stopped in ${Date.now() - stopping} ms`);
    assert.ok(w.log.some((l) => /Redis did not answer within 1 s; stopping without it$/.test(l)), w.log.join('\n'));
    assert.ok(!w.log.some((l) => /^\s+at /.test(l) || /\[ioredis\]/.test(l)), `one-line messages only:\n${w.log.join('\n')}`);
    await redis.resume();
    const ttl = await client.pttl('happysad:lease:model');
    assert.ok(ttl === -2 || ttl > 0, 'the announcement expires on its own');
  } finally {
    client.disconnect();
  }
});
