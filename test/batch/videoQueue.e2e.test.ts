import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { resolveRoots } from '../../src/batch/jobReferences.js';
import { predictThroughQueue, runPredictWorker } from '../../src/batch/predictQueue.js';
import { videoRowsKey, type VideoJob, type VideoJobResult, type VideoRows } from '../../src/batch/videoJob.js';
import { hashFile } from '../../src/io/hashFile.js';
import { loadModel, type Classifier } from '../../src/predict/classifier.js';
import type { VideoErrorRow, VideoRow } from '../../src/predict/predictionRow.js';
import { makeVideo } from '../../testkit/makeVideo.js';
import { RedisServer } from '../../testkit/redisServer.js';
import { ROOT, runCli, startCli, stopStartedClis, waitFor } from '../../testkit/runCli.js';
import { tempDir } from '../../testkit/tempDir.js';

// Videos through the job queue with a real Redis and ffmpeg: one job per video, its rows handed
// back in chunks, the same rows a local run gives, and a worker that reads no video it may not.

let redis: RedisServer;
let model: Classifier;
let dir: string;
let shared: string;
let clip: string;
let photo: string;
const limits = { maxSeconds: 60, maxPixels: 1_000_000 };

before(async () => {
  redis = await RedisServer.start();
  dir = await tempDir('happysad-video-queue-');
  shared = join(dir, 'shared');
  await mkdir(shared);
  // 2 s at 10 frames/s: a face moving across, so rows carry tracks and boxes that change.
  clip = await makeVideo(join(shared, 'clip.mp4'), { width: 320, height: 240, fps: 10, frames: 20, faces: [{ photo: 'happy/Tom_Watson_0003.jpg', at: (i) => ({ left: 60 + 3 * i, top: 40, size: 150 }) }] });
  photo = join(shared, 'photo.jpg');
  await copyFile(join(ROOT, 'examples', 'happy', 'Azra_Akin_0003.jpg'), photo);
  model = await loadModel(resolve('models/default'), { workers: 1 });
});
after(async () => {
  // Workers a failed assertion left running go first: they would outlive the test (and its Redis).
  await stopStartedClis();
  await model?.close();
  await redis?.stop();
});

/** A worker in this process on `queue`, reading under `shared`; stop() ends it. */
function startWorker(queue: string, videoChunkRows?: number) {
  const stop = new AbortController();
  const log: string[] = [];
  const done = resolveRoots([shared]).then((roots) => runPredictWorker({ redis: redis.url, queue, classifier: model, policy: { roots, hosts: [] }, signal: stop.signal, log: (l) => log.push(l), ...(videoChunkRows ? { videoChunkRows } : {}) }));
  return { log, stop: async () => {
    stop.abort();
    return done;
  } };
}

async function collect(rows: AsyncIterable<VideoRow | VideoErrorRow> | Iterable<VideoRow | VideoErrorRow>): Promise<(VideoRow | VideoErrorRow)[]> {
  const out: (VideoRow | VideoErrorRow)[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

test('a video job: rows come back through Redis in chunks, equal to predictVideo here; no list is left behind', async () => {
  const here = await collect(model.predictVideo(clip, { every: 0.2, smooth: 0.6 }));
  assert.equal(here.length, 10, 'a face in each of the 10 sampled frames');
  const worker = startWorker('chunks', 3);
  const client = new Redis({ host: '127.0.0.1', port: redis.port });
  try {
    const videos: { file: string; sha256?: string; rows: (VideoRow | VideoErrorRow)[]; lists: number[] }[] = [];
    await predictThroughQueue([], {
      redis: redis.url, queue: 'chunks', onRows: async () => assert.fail('no photos were queued'),
      videos: { files: [clip], every: 0.2, smooth: 0.6, limits },
      onVideo: async (v) => {
        // Before the rows are read: one list, of 10 rows in chunks of 3.
        const keys = await client.keys('happysad:chunks:video-rows:*');
        const lists = await Promise.all(keys.map((k) => client.llen(k)));
        videos.push({ file: v.file, sha256: v.sha256, rows: await collect(v.rows), lists });
      },
    });
    assert.equal(videos.length, 1);
    assert.deepEqual(videos[0]!.lists, [4]);
    assert.deepEqual(videos[0]!.rows, here, 'the same rows, in order, as a local run');
    assert.equal(videos[0]!.sha256, await hashFile(clip));
    assert.deepEqual(await client.keys('happysad:chunks:video-rows:*'), [], 'the producer removed the list it read');
  } finally {
    client.disconnect();
    await worker.stop();
  }
  assert.ok(worker.log.some((l) => / started: 1 video \(attempt 1\)$/.test(l)), worker.log.join('\n'));
});

test('a worker stopped mid-video hands it back at once (no attempt used, its partial list gone); another does it whole', async () => {
  const a = startWorker('handback', 3);
  const client = new Redis({ host: '127.0.0.1', port: redis.port });
  let b: ReturnType<typeof startWorker> | undefined;
  try {
    const got: (VideoRow | VideoErrorRow)[] = [];
    const run = predictThroughQueue([], {
      redis: redis.url, queue: 'handback', onRows: async () => {},
      videos: { files: [clip], every: 0.05, smooth: 0, limits },
      onVideo: async (v) => void got.push(...(await collect(v.rows))),
    });
    // Stopped once its first rows are in Redis: well inside the video's 40 frames.
    await waitFor('the first chunk', async () => (await client.keys('happysad:handback:video-rows:*')).length > 0);
    const stopping = Date.now();
    await a.stop();
    const stoppedMs = Date.now() - stopping;
    const left = await client.keys('happysad:handback:video-rows:*');
    // Asserted once the run is over, so that a failure leaves no producer waiting.
    b = startWorker('handback', 3);
    await run;
    assert.ok(stoppedMs < 8000, `stopped in ${stoppedMs} ms`);
    assert.ok(a.log.some((l) => /handed back: this worker is stopping/.test(l)), a.log.join('\n'));
    assert.deepEqual(left, [], 'the partial list was removed');
    assert.ok(b.log.some((l) => / started: 1 video \(attempt 1\)$/.test(l)), `the hand-back used no attempt:\n${b.log.join('\n')}`);
    assert.deepEqual(got.map((r) => ('frame' in r ? r.frame : -1)), Array.from({ length: 40 }, (_, i) => i), 'every frame once, in order');
  } finally {
    client.disconnect();
    await b?.stop();
  }
});

test('a hostile video job gets one error row that carries nothing of the file: outside --root, a link out, a playlist, a URL, a relative path; a malformed job fails at once', async () => {
  const outside = join(dir, 'outside.mp4');
  await copyFile(clip, outside);
  await symlink(outside, join(shared, 'link.mp4'));
  // An HLS playlist under a video's name: ffmpeg, left to guess, would open the files it lists.
  await writeFile(join(shared, 'playlist.mp4'), `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile://${outside}\n#EXT-X-ENDLIST\n`);
  await writeFile(join(dir, 'secret.txt'), 'root:*:19000:0:99999:7:::');
  const worker = startWorker('hostile-video');
  const connection = { host: '127.0.0.1', port: redis.port };
  const queue = new Queue('hostile-video', { connection });
  const events = new QueueEvents('hostile-video', { connection });
  const client = new Redis(connection);
  try {
    await events.waitUntilReady();
    const refs = [outside, join(shared, 'link.mp4'), join(shared, 'playlist.mp4'), 'http://127.0.0.1:9/x.mp4', 'shared/clip.mp4', join(shared, '..', 'secret.txt')];
    const answers: [string, string | undefined, string | undefined, number][] = [];
    for (const video of refs) {
      const job = await queue.add('video', { video, faces: true, every: 0.5, smooth: 0, limits });
      const result = (await job.waitUntilFinished(events, 60_000)) as VideoJobResult;
      const rows = (await client.lrange(result.rows, 0, -1)).flatMap((c) => JSON.parse(c) as VideoRows);
      assert.doesNotMatch(JSON.stringify(rows), /root:\*|EXTM3U|EXTINF/);
      answers.push([rows[0]!.file, 'error' in rows[0]! ? rows[0].error.code : undefined, result.sha256, rows.length]);
    }
    assert.deepEqual(answers, [
      [outside, 'path-not-allowed', undefined, 1],
      [join(shared, 'link.mp4'), 'path-not-allowed', undefined, 1],
      [join(shared, 'playlist.mp4'), 'not-a-video', undefined, 1],
      ['http://127.0.0.1:9/x.mp4', 'url-not-allowed', undefined, 1],
      ['shared/clip.mp4', 'path-not-allowed', undefined, 1],
      [join(shared, '..', 'secret.txt'), 'path-not-allowed', undefined, 1],
    ]);
    const spin = await queue.add('video', { video: clip, faces: true, every: 0, smooth: 0, limits }, { attempts: 3 });
    await assert.rejects(spin.waitUntilFinished(events, 30_000), /malformed job: "every" must be a number of seconds from 0\.01/);
    assert.equal((await queue.getJob(spin.id!))!.attemptsMade, 1, 'a malformed job is not retried');
    const huge = await queue.add('video', { video: clip, faces: true, every: 0.5, smooth: 0, limits: { maxSeconds: 60, maxPixels: 1e9 } });
    await assert.rejects(huge.waitUntilFinished(events, 30_000), /malformed job: "limits\.maxPixels" must be a whole number from 1 to 33177600/);
  } finally {
    client.disconnect();
    await events.close();
    await queue.close();
    await worker.stop();
  }
});

test('the producer trusts only an answer naming its job\'s whole list: rows gone from Redis are done again, a foreign answer is an error row', async () => {
  const connection = { host: '127.0.0.1', port: redis.port };
  const client = new Redis(connection);
  const frame = (i: number): VideoRow => ({ file: clip, time: i, frame: i, face: 'none-found' });
  let attempts = 0;
  // A stand-in worker: its first answer names two chunks of which Redis holds one (as after a
  // restart that lost them), its second is whole; for the other video it answers with another key.
  const fake = new Worker<VideoJob, unknown>('redo', async (job) => {
    const key = videoRowsKey('redo', job.id!, `t${attempts++}`);
    if (job.data.video !== clip) return { file: job.data.video, rows: 'happysad:redo:model', chunks: 0, frames: 0, every: 1 };
    await client.rpush(key, JSON.stringify([frame(0)]));
    if (attempts > 1) await client.rpush(key, JSON.stringify([frame(1)]));
    return { file: clip, sha256: 'abc', rows: key, chunks: 2, frames: 2, every: 1 } satisfies VideoJobResult;
  }, { connection });
  try {
    const got = new Map<string, { sha256?: string; rows: (VideoRow | VideoErrorRow)[] }>();
    await predictThroughQueue([], {
      redis: redis.url, queue: 'redo', onRows: async () => {},
      videos: { files: [clip, photo], every: 1, smooth: 0, limits },
      onVideo: async (v) => void got.set(v.file, { sha256: v.sha256, rows: await collect(v.rows) }),
    });
    assert.equal(attempts, 3, 'the clip twice (its first rows were incomplete), the other once');
    assert.deepEqual(got.get(clip), { sha256: 'abc', rows: [frame(0), frame(1)] });
    const other = got.get(photo)!;
    assert.equal(other.sha256, undefined);
    assert.deepEqual(other.rows.map((r) => ('error' in r ? r.error.code : 'row')), ['job-failed']);
    assert.match((other.rows[0] as VideoErrorRow).error.message, /the worker's answer is not a video's rows/);
    assert.deepEqual(await client.keys('happysad:redo:video-rows:*:t1'), [], 'the list read is removed');
  } finally {
    await fake.close();
    client.disconnect();
  }
});

const lines = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test('predict --redis with a video and a photo: --out holds the rows a local run writes; --resume sends nothing again', async () => {
  const local = join(dir, 'local.jsonl');
  const here = runCli(['predict', clip, photo, '--out', local, '--every', '0.5', '--workers', '1']);
  assert.equal(here.code, 0, here.stderr);
  const worker = startCli(['worker', '--redis', redis.url, '--queue', 'cli', '--workers', '1', '--root', shared]);
  try {
    const queued = join(dir, 'queued.jsonl');
    const producer = startCli(['predict', clip, photo, '--redis', redis.url, '--queue', 'cli', '--out', queued, '--every', '0.5']);
    assert.equal(await producer.exited, 0, producer.log.join('\n'));
    assert.ok(producer.log.some((l) => l === `${clip}: 4 frame(s) sampled every 0.5 s`), producer.log.join('\n'));
    const want = await lines(local);
    const got = await lines(queued);
    // Jobs finish in any order; each file's rows are whole and in order.
    for (const file of [clip, photo]) assert.deepEqual(got.filter((r) => r.file === file), want.filter((r) => r.file === file), file);
    assert.equal(got.length, want.length);
    assert.deepEqual(got.filter((r) => r.file === clip).at(-1)!.video, { frames: 4, every: 0.5 });

    const jobsBefore = worker.log.filter((l) => / started: /.test(l)).length;
    const again = startCli(['predict', clip, photo, '--redis', redis.url, '--queue', 'cli', '--out', queued, '--every', '0.5', '--resume']);
    assert.equal(await again.exited, 0, again.log.join('\n'));
    assert.ok(again.log.some((l) => /^resuming .*queued\.jsonl: 2 file\(s\) already done, 0 to go$/.test(l)), again.log.join('\n'));
    assert.deepEqual(await lines(queued), got, 'nothing added');
    assert.equal(worker.log.filter((l) => / started: /.test(l)).length, jobsBefore, 'nothing sent to the workers');
  } finally {
    worker.child.kill('SIGTERM');
    await waitFor('the worker to stop', () => worker.child.exitCode !== null, 30_000);
  }
});
