import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type RequestListener, type Server } from 'node:http';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JOB_LIMITS, openVideoReference, parseAllowedHost, readReference, resolveRoots, validateBatchJob, type ReferenceError as JobReferenceError, type VideoReference } from '../../src/batch/jobReferences.js';
import { validateVideoJob, validateVideoResult, videoRowsKey } from '../../src/batch/videoJob.js';
import { videoFrames } from '../../src/input/videoFrames.js';
import { checkRedis } from '../../src/batch/predictQueue.js';
import { redisConnection, validateQueueName } from '../../src/batch/redisOptions.js';
import { tempDir } from '../../testkit/tempDir.js';

// A queue job is written by whoever can reach Redis: these are the worker's refusals, each of
// which a job could once get past (any path read, any URL fetched, bytes echoed back).

async function layout() {
  const dir = await tempDir();
  const root = join(dir, 'shared');
  await mkdir(root);
  await writeFile(join(root, 'ok.jpg'), 'not really a jpeg');
  await writeFile(join(dir, 'secret.txt'), 'root:*:19000:0:99999:7:::');
  await symlink(join(dir, 'secret.txt'), join(root, 'escape.jpg'));
  return { dir, root, policy: { roots: await resolveRoots([root]), hosts: [] as string[] } };
}

const errorOf = (x: Uint8Array | { code: string; message: string }) => {
  assert.ok(!(x instanceof Uint8Array), 'refused, not read');
  return x as { code: string; message: string };
};

test('paths: only absolute paths to regular files under a --root, links resolved; refusals carry nothing of the file', async () => {
  const { dir, root, policy } = await layout();
  const ok = await readReference(join(root, 'ok.jpg'), policy);
  assert.ok(ok instanceof Uint8Array);
  assert.equal(Buffer.from(ok).toString(), 'not really a jpeg');
  for (const ref of [join(dir, 'secret.txt'), '/etc/passwd', join(root, '..', 'secret.txt'), join(root, 'escape.jpg')]) {
    const e = errorOf(await readReference(ref, policy));
    assert.equal(e.code, 'path-not-allowed', ref);
    assert.doesNotMatch(e.message, /root:\*/, 'no content in the message');
    assert.match(e.message, new RegExp(`under ${root}|outside`));
  }
  assert.match(errorOf(await readReference('shared/ok.jpg', policy)).message, /relative path; the producer must send absolute paths/);
  assert.equal(errorOf(await readReference(join(root, 'missing.jpg'), policy)).code, 'not-found');
  assert.match(errorOf(await readReference('/etc/passwd', { roots: [], hosts: [] })).message, /started without --root/);
});

test('a FIFO or device under the root is refused at once, never read (it would block or never end)', async () => {
  const { root, policy } = await layout();
  execFileSync('mkfifo', [join(root, 'pipe.jpg')]);
  const started = Date.now();
  assert.equal(errorOf(await readReference(join(root, 'pipe.jpg'), policy)).code, 'not-a-file');
  assert.ok(Date.now() - started < 5000);
  assert.equal(errorOf(await readReference('/dev/zero', { roots: ['/dev'], hosts: [] })).code, 'not-a-file');
});

test('a file over the byte cap is refused from its size', async () => {
  const { root, policy } = await layout();
  await writeFile(join(root, 'big.jpg'), Buffer.alloc(2048));
  assert.equal(errorOf(await readReference(join(root, 'big.jpg'), policy, { ...JOB_LIMITS, maxBytes: 1024 })).code, 'image-too-large');
});

const refusal = (x: VideoReference | JobReferenceError) => {
  assert.ok(!('fh' in x), 'refused, not opened');
  return x;
};

test('videos: opened under the same rules as photos, a video by its first bytes; ffmpeg reads the opened file, not whatever the path names later', async () => {
  const { dir, root, policy } = await layout();
  const clip = join(root, 'clip.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', clip]);
  for (const ref of [join(dir, 'secret.txt'), join(root, 'escape.jpg'), 'shared/clip.mp4']) assert.equal(refusal(await openVideoReference(ref, policy)).code, 'path-not-allowed', ref);
  // Not a container ffmpeg is given: a playlist (it would open the files it lists), a text file.
  await writeFile(join(root, 'list.mp4'), `#EXTM3U\n#EXTINF:1,\nfile://${join(dir, 'secret.txt')}\n`);
  assert.equal(refusal(await openVideoReference(join(root, 'list.mp4'), policy)).code, 'not-a-video');
  assert.equal(refusal(await openVideoReference(join(root, 'ok.jpg'), policy)).code, 'not-a-video');
  assert.equal(refusal(await openVideoReference('http://127.0.0.1/clip.mp4', { roots: [root], hosts: ['127.0.0.1'] })).code, 'url-not-allowed');
  const opened = (await openVideoReference(clip, policy)) as VideoReference;
  assert.equal(opened.format, 'mp4');
  try {
    // The path now names a text file: what ffmpeg decodes is still the video that was checked.
    await rename(clip, join(root, 'moved.mp4'));
    await writeFile(clip, 'not a video any more');
    let frames = 0;
    for await (const f of videoFrames(clip, { every: 0.5, opened: { fd: opened.fh.fd, format: opened.format } })) {
      assert.deepEqual([f.image.width, f.image.height], [64, 48]);
      frames++;
    }
    assert.equal(frames, 2);
  } finally {
    await opened.fh.close();
  }
});

test('video jobs are checked: sampling, smoothing and limits within what a worker takes; an answer must name its own job\'s list', () => {
  const job = { video: '/v.mp4', faces: true, every: 0.5, smooth: 0, limits: { maxSeconds: 60, maxPixels: 1000 } };
  assert.deepEqual(validateVideoJob(job), job);
  assert.match(validateVideoJob({ ...job, every: 0.001 }) as string, /"every" must be a number of seconds from 0\.01/);
  assert.match(validateVideoJob({ ...job, every: Number.NaN }) as string, /"every"/);
  assert.match(validateVideoJob({ ...job, smooth: -1 }) as string, /"smooth"/);
  assert.deepEqual(validateVideoJob({ ...job, searchEvery: 0 }), { ...job, searchEvery: 0 }, 'searching every frame is passed on');
  assert.match(validateVideoJob({ ...job, searchEvery: -0.5 }) as string, /"searchEvery" must be a number of seconds from 0/);
  assert.match(validateVideoJob({ ...job, limits: { maxSeconds: 1e9, maxPixels: 1000 } }) as string, /"limits\.maxSeconds" must be from 0\.01 to 86400/);
  assert.match(validateVideoJob({ ...job, limits: { maxSeconds: 60, maxPixels: 1.5 } }) as string, /"limits\.maxPixels" must be a whole number/);
  assert.match(validateVideoJob({ ...job, limits: undefined }) as string, /"limits\.maxSeconds"/);
  assert.match(validateVideoJob({ ...job, video: 7 }) as string, /"video" must be a path/);
  const answer = { file: '/v.mp4', rows: videoRowsKey('q', '7', 'ab12'), chunks: 2, frames: 10, every: 0.5 };
  assert.deepEqual(validateVideoResult(answer, 'q', '7'), answer);
  assert.equal(validateVideoResult({ ...answer, rows: 'happysad:q:model' }, 'q', '7'), undefined, 'a key that is not this job\'s rows is not read');
  assert.equal(validateVideoResult({ ...answer, rows: videoRowsKey('q', '70', 'ab12') }, 'q', '7'), undefined);
  assert.equal(validateVideoResult([{ file: '/v.mp4' }], 'q', '7'), undefined);
});

async function serve(handler: RequestListener): Promise<{ server: Server; host: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, host: `127.0.0.1:${(server.address() as { port: number }).port}` };
}

test('URLs: only --allow-host hosts, redirects included; bodies capped while streaming, with or without Content-Length', async () => {
  const { server, host } = await serve((req, res) => {
    if (req.url === '/ok') return res.end('image bytes');
    if (req.url === '/hop') return res.writeHead(302, { location: '/ok' }).end();
    if (req.url === '/away') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (req.url === '/endless') {
      // Chunked, no Content-Length: a cap read from the header alone would never stop this.
      res.writeHead(200);
      const push = () => (res.write(Buffer.alloc(64 * 1024)) ? setImmediate(push) : res.once('drain', push));
      res.on('close', () => res.removeAllListeners('drain'));
      return push();
    }
    res.writeHead(404).end();
  });
  try {
    const policy = { roots: [], hosts: [parseAllowedHost(host)] };
    assert.equal(Buffer.from((await readReference(`http://${host}/ok`, policy)) as Uint8Array).toString(), 'image bytes');
    assert.equal(Buffer.from((await readReference(`http://${host}/hop`, policy)) as Uint8Array).toString(), 'image bytes');
    const away = errorOf(await readReference(`http://${host}/away`, policy));
    assert.equal(away.code, 'url-not-allowed');
    assert.match(away.message, /redirected to 169\.254\.169\.254/);
    assert.equal(errorOf(await readReference(`http://${host}/ok`, { roots: [], hosts: ['example.org'] })).code, 'url-not-allowed');
    const started = Date.now();
    assert.equal(errorOf(await readReference(`http://${host}/endless`, policy, { ...JOB_LIMITS, maxBytes: 1 << 20 })).code, 'image-too-large');
    assert.ok(Date.now() - started < 10_000);
    const missing = errorOf(await readReference(`http://${host}/nothing`, policy));
    assert.equal(missing.message, `http://${host}/nothing: the server answered 404`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('job data is checked: bad batch sizes and shapes refused, non-string entries named by position', () => {
  assert.match(validateBatchJob({ files: ['/a.jpg'], faces: true, batch: 0 }) as string, /"batch" must be a whole number from 1 to 256/);
  assert.match(validateBatchJob({ files: ['/a.jpg'], faces: true, batch: 1e9 }) as string, /"batch"/);
  assert.match(validateBatchJob({ files: 'x', faces: true, batch: 1 }) as string, /no "files" list/);
  assert.match(validateBatchJob(null) as string, /not an object/);
  assert.deepEqual(validateBatchJob({ files: ['/a.jpg', 42, ''], faces: false, batch: 2 }), { files: ['/a.jpg', '#1', '#2'], faces: false, batch: 2 });
});

test('Redis URLs and queue names: a non-numeric database and bracketed IPv6 hosts; names BullMQ cannot take', () => {
  assert.throws(() => redisConnection('redis://127.0.0.1:6379/abc'), /"abc" is not a database number/);
  assert.equal(redisConnection('redis://127.0.0.1:6379/3').db, 3);
  const v6 = redisConnection('redis://[::1]:7000');
  assert.equal(v6.host, '::1');
  assert.equal(v6.family, 6);
  assert.throws(() => validateQueueName('a:b'), /--queue "a:b": use 1 to 100 letters/);
  assert.throws(() => validateQueueName(''), /--queue ""/);
  assert.equal(validateQueueName('night-run_2'), 'night-run_2');
  assert.throws(() => parseAllowedHost('http://x/'), /--allow-host/);
});

test('a port that is not Redis (a web server, or nothing) fails in seconds with a plain message', async () => {
  const { server, host } = await serve((_req, res) => res.end('hello'));
  try {
    await assert.rejects(checkRedis(`redis://${host}`, 3000), /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(.*\); check the host and port/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
  const { server: closed, host: gone } = await serve((_req, res) => res.end());
  closed.close();
  await assert.rejects(checkRedis(`redis://${gone}`, 3000), /cannot reach Redis/);
});
