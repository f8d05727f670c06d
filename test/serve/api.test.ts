import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { buildPage } from '../../scripts/buildPage.js';
import { pngBombHeader } from '../../testkit/makeImages.js';
import { tempDir } from '../../testkit/tempDir.js';
import { bytes, examplePhoto, makeModel, parseMetrics, startServer, webcamFrame } from '../../testkit/serveFixtures.js';

const BODY_LIMIT = 1024 * 1024;
let app: FastifyInstance;
let url: string;
let port: number;
const sent: Record<string, number> = {}; // status -> how many /v1/predict answers of it we saw

before(async () => {
  // The page built from the sources under test (web/ is compiled into it), not a possibly absent dist/page;
  // one inference thread: requests here come one at a time (overload.test.ts and videoDeadline.e2e.test.ts run several).
  const webRoot = await buildPage(join(await tempDir('happysad-page-'), 'page'));
  ({ app, url, port } = await startServer({ model: await makeModel({ faces: true }), bodyLimit: BODY_LIMIT, maxFiles: 4, webRoot, concurrency: 1 }));
});
after(async () => {
  await app?.close();
});

async function post(body: BodyInit, init: { headers?: Record<string, string>; query?: string } = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${url}/v1/predict${init.query ?? ''}`, { method: 'POST', body, headers: init.headers });
  sent[res.status] = (sent[res.status] ?? 0) + 1;
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text) };
}

/** A request with its path sent exactly as written: fetch and URL would normalise `..` away. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject).end();
  });
}

function assertErrorShape(json: any, code: string): void {
  assert.equal(typeof json.error?.message, 'string', JSON.stringify(json));
  assert.ok(json.error.message.length > 10, 'the message says something readable');
  assert.equal(json.error.code, code, json.error.message);
}

test('health and model metadata', async () => {
  const health = await (await fetch(`${url}/healthz`)).json();
  assert.equal(health.status, 'ok');
  const meta = await (await fetch(`${url}/v1/model`)).json();
  assert.deepEqual(meta.classes, ['happy', 'sad']);
  assert.equal(meta.preprocessing.faces.detector, 'ssd');
});

test('a photo as the raw body: one row, in predict --json shape, with a boxed face', async () => {
  const r = await post(await examplePhoto('happy', 'Azra_Akin_0003.jpg'), { headers: { 'content-type': 'image/jpeg' } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.results.length, 1);
  const [row] = r.json.results;
  assert.equal(row.file, '#0');
  assert.ok(['happy', 'sad'].includes(row.label));
  assert.ok(Math.abs(row.probabilities.happy + row.probabilities.sad - 1) < 1e-6);
  assert.equal(row.score, row.probabilities.happy, 'score is p(positive class), as in predict --json');
  assert.equal(row.faces.length, 1);
  const [x, y, w, h] = row.faces[0].box;
  assert.ok(x >= 0 && y >= 0 && w > 100 && h > 100 && x + w <= 350 && y + h <= 350, `box ${row.faces[0].box}`);
  assert.ok(row.faces[0].detector_score > 0.3);
});

test('content is sniffed: a PNG sent as application/json, or with no Content-Type, is still an image', async () => {
  const png = bytes(await sharp(await examplePhoto('sad', 'Avinash_13.jpg')).png().toBuffer());
  const asJson = await post(png, { headers: { 'content-type': 'application/json' } });
  assert.equal(asJson.status, 200, JSON.stringify(asJson.json));
  const untyped = await post(png);
  assert.equal(untyped.status, 200, JSON.stringify(untyped.json));
  assert.deepEqual(untyped.json.results[0].faces.map((f: any) => f.box), asJson.json.results[0].faces.map((f: any) => f.box));
});

test('several files in one multipart request: one row each, in order, named, a bad one does not sink the rest', async () => {
  const form = new FormData();
  form.append('a', new Blob([await examplePhoto('happy', 'Tom_Watson_0003.jpg')]), 'tom.jpg');
  form.append('note', 'a text field is ignored');
  form.append('b', new Blob(['just some text, not a photo\n']), 'notes.txt');
  form.append('c', new Blob([(await webcamFrame()).data], { type: 'image/jpeg' }), 'frame.jpg');
  const r = await post(form);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.deepEqual(r.json.results.map((x: any) => x.file), ['tom.jpg', 'notes.txt', 'frame.jpg']);
  assert.equal(r.json.results[0].faces.length, 1);
  assert.equal(r.json.results[1].error.code, 'image-not-image');
  const frame = r.json.results[2].faces[0].box;
  assert.ok(frame[0] > 100 && frame[0] < 300, `the face on the 640x480 canvas is found where it was put: ${frame}`);
});

test('?faces=false classifies whole images; a bad value is a 400', async () => {
  const whole = await post(await examplePhoto('happy', 'Azra_Akin_0003.jpg'), { query: '?faces=false' });
  assert.equal(whole.status, 200);
  assert.equal(whole.json.results[0].faces, undefined);
  assert.equal(typeof whole.json.results[0].score, 'number');
  const bad = await post(await examplePhoto('happy', 'Azra_Akin_0003.jpg'), { query: '?faces=maybe' });
  assert.equal(bad.status, 400);
  assertErrorShape(bad.json, 'bad-request');
});

test('refused inputs: truncated JPEG, text, empty body, oversized body, decompression bomb', async () => {
  const jpeg = await examplePhoto('happy', 'Kristanna_Loken_0001.jpg');
  const truncated = await post(jpeg.subarray(0, Math.floor(jpeg.length / 3)), { headers: { 'content-type': 'image/jpeg' } });
  assert.equal(truncated.status, 422);
  assertErrorShape(truncated.json, 'image-corrupt');
  assert.match(truncated.json.error.message, /truncated|corrupt/);
  assert.equal(truncated.json.results[0].error.code, 'image-corrupt', 'the row is there too, as in a batch');

  const text = await post('hello, I am not an image', { headers: { 'content-type': 'image/png' } });
  assert.equal(text.status, 415);
  assertErrorShape(text.json, 'image-not-image');

  const empty = await post(new Uint8Array(0), { headers: { 'content-type': 'image/jpeg' } });
  assert.equal(empty.status, 400);
  assertErrorShape(empty.json, 'no-image');

  const big = await post(new Uint8Array(BODY_LIMIT + 1), { headers: { 'content-type': 'image/jpeg' } });
  assert.equal(big.status, 413);
  assertErrorShape(big.json, 'body-too-large');
  assert.match(big.json.error.message, /1 MiB/);

  const form = new FormData();
  form.append('a', new Blob([new Uint8Array(BODY_LIMIT / 2 + 1)]), 'a.jpg');
  form.append('b', new Blob([new Uint8Array(BODY_LIMIT / 2 + 1)]), 'b.jpg');
  const bigForm = await post(form);
  assert.equal(bigForm.status, 413, 'the multipart total counts, not only each file');
  assertErrorShape(bigForm.json, 'body-too-large');

  const tooMany = new FormData();
  for (let i = 0; i < 5; i++) tooMany.append(`f${i}`, new Blob([jpeg]), `${i}.jpg`);
  const many = await post(tooMany);
  assert.equal(many.status, 413);
  assertErrorShape(many.json, 'too-many-files');

  // overload.test.ts shows such an image never takes a queue slot.
  const bomb = await post(bytes(pngBombHeader(60_000, 60_000)), { headers: { 'content-type': 'image/png' } });
  assert.equal(bomb.status, 413);
  assertErrorShape(bomb.json, 'image-too-large');
  assert.match(bomb.json.error.message, /60000x60000/, 'the size declared in the header is what is refused');

  const tiny = await post(bytes(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer()));
  assert.equal(tiny.status, 422);
  assertErrorShape(tiny.json, 'image-too-small');

  const badForm = await post('--xyz\r\nContent-Disposition: form-data; name="a"; filename="a.jpg"\r\n\r\nabc', { headers: { 'content-type': 'multipart/form-data; boundary=xyz' } });
  assert.equal(badForm.status, 400);
  assertErrorShape(badForm.json, 'bad-multipart');
});

test('wrong method is 405 with Allow; unknown route is 404; both JSON', async () => {
  const get = await fetch(`${url}/v1/predict`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  assertErrorShape(await get.json(), 'method-not-allowed');
  const del = await fetch(`${url}/healthz`, { method: 'DELETE' });
  assert.equal(del.status, 405);
  assert.match(del.headers.get('allow') ?? '', /GET/);
  const missing = await fetch(`${url}/v1/nothing-here`);
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /application\/json/);
  assertErrorShape(await missing.json(), 'not-found');
});

test('static files: the page and the scripts and styles it loads are served, nothing outside the built page is', async () => {
  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  // Same-origin references only (the CSP allows nothing else); data: and fragment links are not files.
  const assets = [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"#:]+)"/g)].map((m) => m[1]);
  assert.ok(assets.some((a) => a.endsWith('.js')), `the page loads a script: ${assets}`);
  for (const asset of assets) {
    const res = await fetch(new URL(asset, `${url}/`));
    assert.equal(res.status, 200, asset);
    const type = asset.endsWith('.js') ? /javascript/ : asset.endsWith('.css') ? /text\/css/ : /./;
    assert.match(res.headers.get('content-type') ?? '', type, asset);
  }
  for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/examples/..%2f..%2fpackage.json', '/%2e%2e%2f%2e%2e%2fpackage.json', '/..\\package.json', '/%00', '/.git/config', '//etc/passwd', '/%2fetc%2fpasswd']) {
    const r = await rawGet(path);
    assert.ok([400, 403, 404].includes(r.status), `${path}: ${r.status}`);
    assert.doesNotMatch(r.body, /"name": "happysad"|\[core\]/, `${path} leaked a file`);
    assert.ok(JSON.parse(r.body).error.code, `${path}: JSON error`);
  }
});

test('malformed HTTP gets a JSON 400 and the server stays up', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
    let data = '';
    socket.setEncoding('utf8').on('data', (c: string) => (data += c)).on('end', () => resolve(data)).on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  assert.match(reply, /"code":"bad-request"/);
});

test('after all that the server still answers, and /metrics counted what happened', async () => {
  const ok = await post(await examplePhoto('sad', 'KatrinaKaif_92.jpg'));
  assert.equal(ok.status, 200);
  assert.equal((await fetch(`${url}/healthz`)).status, 200);

  const res = await fetch(`${url}/metrics`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const m = parseMetrics(await res.text());
  assert.equal(m.type('happysad_http_request_duration_seconds'), 'histogram');
  for (const [status, n] of Object.entries(sent)) {
    assert.equal(m.get('happysad_http_requests_total', { method: 'POST', route: '/v1/predict', status }), n, `POST /v1/predict ${status}`);
  }
  const total = Object.values(sent).reduce((a, b) => a + b, 0);
  const predict = { route: '/v1/predict' };
  assert.equal(m.get('happysad_http_request_duration_seconds_count', predict), total);
  assert.equal(m.get('happysad_http_request_duration_seconds_bucket', { ...predict, le: '+Inf' }), total);
  const buckets = m.series('happysad_http_request_duration_seconds_bucket').filter((s) => s.labels.route === '/v1/predict');
  const ordered = buckets.map((b) => ({ le: Number(b.labels.le === '+Inf' ? Infinity : b.labels.le), n: b.value })).sort((a, b) => a.le - b.le);
  assert.ok(ordered.every((b, i) => i === 0 || b.n >= ordered[i - 1].n), 'buckets are cumulative');
  assert.equal(m.get('happysad_errors_total', { code: 'image-too-large' }), 1);
  assert.equal(m.get('happysad_errors_total', { code: 'body-too-large' }), 2);
  assert.ok(m.get('happysad_faces_found_total')! >= 6, `faces found: ${m.get('happysad_faces_found_total')}`);
  assert.equal(m.get('happysad_images_total', { result: 'whole' }), 1);
  assert.equal(m.get('happysad_queue_depth'), 0);
  assert.equal(m.get('happysad_queue_active'), 0);
  assert.equal(m.get('happysad_model_info', { name: 'test-face', arch: 'seed-a' }), 1);
  assert.ok(m.get('process_resident_memory_bytes')! > 10e6);
});
