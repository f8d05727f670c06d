import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type RequestListener, type Server } from 'node:http';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JOB_LIMITS, parseAllowedHost, readReference, resolveRoots, validateBatchJob } from '../../src/batch/jobReferences.js';
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
